import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { z } from 'zod';
import type { SfnLike } from '../aws/sfn';
import { ConfigError, ValidationError } from '../core/errors';
import { MigrationRequest } from './plan';
import { Report } from './report';

/**
 * Migration executions as ops see them: start one, read its state, percent and current step, follow its
 * continuation executions, list them, resume a paused one. Used by `vigil migrate`; the Step Functions client is
 * passed in.
 */

export const ExecutionArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/, 'a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)');

export const regionOfArn = (arn: string): string | undefined => arn.split(':')[3] || undefined;

/** The name the stack gives the migration state machine (infra/state-machines/migration.yml). */
export const stateMachineName = (stage: string): string => `vigil-${stage}-migration`;

/** Finds the migration state machine of a stage by its name (needs states:ListStateMachines). */
export async function findStateMachine(sfn: SfnLike, stage: string): Promise<string> {
  const name = stateMachineName(stage);
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ maxResults: 1000, nextToken }));
    const found = page.stateMachines?.find((m) => m.name === name);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new ConfigError(
    `no state machine named ${name} in this account and region; deploy vigil (stage ${stage}), or pass --state-machine ARN ` +
      '(or set VIGIL_MIGRATION_STATE_MACHINE_ARN)',
  );
}

export async function startMigration(
  sfn: SfnLike,
  stateMachineArn: string,
  name: string,
  input: unknown,
): Promise<{ executionArn: string; startDate?: Date }> {
  const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  if (!out.executionArn) throw new Error('StartExecution returned no execution ARN');
  return { executionArn: out.executionArn, startDate: out.startDate };
}

export type ExecutionStatus = NonNullable<DescribeExecutionCommandOutput['status']>;

export interface MigrationStatus {
  executionArn: string;
  name: string;
  status: ExecutionStatus | 'UNKNOWN';
  startDate?: string;
  stopDate?: string;
  /** The request of a new migration, or the plan's request of a continuation/resumed execution. */
  request?: MigrationRequest;
  /** Present when the execution has ended with a report (output, or the Cause of a Fail state). */
  report?: Report;
  /** The state the execution is in (running), and the phase people call it. */
  currentState?: string;
  phase?: string;
  percent?: number;
  error?: string;
  cause?: string;
}

/** Which part of the workflow a state belongs to, for people (state names of shared/lvm/workflow-definition.ts). */
const PHASES: [RegExp, string][] = [
  [
    /^Why - |^(Report|Report failed|Is there a lock to release|Release lock|Done|Succeeded|Failed)$|^(Completed|Completed not grown|Continued|Dry run|Failed before any change|Grow in place failed|Grown|Invalid input|Old volume left|Paused|Refused)$/,
    'ending',
  ],
  [/^(Rollback|Roll back on instance|Run rollback|Is the instance rolled back|Wait for rollback|Count rollback run|Release new volume|Rollback incomplete|Rolled back)$|new volume (detached|deleted)$|^(Force-detach|Detach|Delete) new volume$/, 'rolling back'],
  [/^(Is a snapshot wanted|Find snapshot of this migration|Does the snapshot exist|Reuse snapshot|Create snapshot)$/, 'snapshotting the old volume'],
  [/^(Is the new volume known|Reuse new volume|Create volume|Create volume failed|Was the volume created anyway|Adopt volume created anyway|Wait for new volume|Attach new volume|Wait for attachment|Attach stuck|New volume attached)$/, 'creating and attaching the new volume'],
  [/^(Prepare|Did prepare succeed)$/, 'preparing LVM'],
  [/^(Start pvmove|Did pvmove start|Wait for pvmove|Poll pvmove|Progress|Record progress|Is a progress notification due|Notify progress|Next move action|Continue as new execution)$/, 'moving data'],
  [/^(Finish|Did finish succeed)$/, 'finishing'],
  [/^(Is a grow wanted|Grow|Did the grow succeed)$/, 'growing the filesystem'],
  [/^(Detach old volume|Wait for old volume detached|Should the old volume be deleted|Wait for snapshot|Delete old volume|Wait for old volume deleted|Migration done)$/, 'releasing the old volume'],
  [/^(Is a modification needed|Modify volume|Wait for modification|Grow in place|Did the grow in place succeed)$/, 'growing in place'],
];

export function phaseOf(state: string): string {
  // Sub-states of a call or wait loop ("Create volume - backoff", "Wait for snapshot - describe - failed") belong
  // to it; "Why - …" states record why a path ends.
  const base = state.startsWith('Why - ') ? state : (state.split(' - ')[0] ?? state);
  return PHASES.find(([re]) => re.test(base))?.[1] ?? 'pre-flight';
}

const ExecutionInput = z.union([
  MigrationRequest,
  z.looseObject({ resume: z.looseObject({ plan: z.looseObject({ request: MigrationRequest }) }) }),
]);

function requestOf(input: string | undefined): MigrationRequest | undefined {
  if (!input) return undefined;
  try {
    const parsed = ExecutionInput.safeParse(JSON.parse(input));
    if (!parsed.success) return undefined;
    return 'resume' in parsed.data ? parsed.data.resume.plan.request : parsed.data;
  } catch {
    return undefined;
  }
}

function reportOf(text: string | undefined): Report | undefined {
  if (!text) return undefined;
  try {
    const parsed = Report.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The latest state entered and the latest pvmove percentage, from the newest history events. */
async function progressOf(sfn: SfnLike, executionArn: string): Promise<{ currentState?: string; percent?: number }> {
  let currentState: string | undefined;
  let percent: number | undefined;
  let nextToken: string | undefined;
  // Two pages of the newest events hold the last progress record: one poll of the move is about 17 events.
  for (let page = 0; page < 2 && (currentState === undefined || percent === undefined); page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100, includeExecutionData: true, nextToken }),
    );
    for (const event of out.events ?? []) {
      currentState ??= stateEntered(event);
      percent ??= recordedPercent(event);
      if (currentState !== undefined && percent !== undefined) break;
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return { currentState, percent };
}

const stateEntered = (event: HistoryEvent): string | undefined =>
  event.type?.endsWith('StateEntered') ? event.stateEnteredEventDetails?.name : undefined;

const MoveOutput = z.looseObject({ move: z.looseObject({ percent: z.number() }) });
function recordedPercent(event: HistoryEvent): number | undefined {
  const exited = event.stateExitedEventDetails;
  if (!event.type?.endsWith('StateExited') || exited?.name !== 'Record progress' || !exited.output) return undefined;
  try {
    const parsed = MoveOutput.safeParse(JSON.parse(exited.output));
    return parsed.success ? parsed.data.move.percent : undefined;
  } catch {
    return undefined;
  }
}

export async function describeMigration(sfn: SfnLike, executionArn: string): Promise<MigrationStatus> {
  const arn = ExecutionArn.safeParse(executionArn);
  if (!arn.success) throw new ValidationError(`${executionArn}: ${arn.error.issues[0]?.message ?? 'not an execution ARN'}`);
  const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const status: MigrationStatus = {
    executionArn,
    name: out.name ?? executionArn.split(':').pop() ?? executionArn,
    status: out.status ?? 'UNKNOWN',
    ...(out.startDate ? { startDate: out.startDate.toISOString() } : {}),
    ...(out.stopDate ? { stopDate: out.stopDate.toISOString() } : {}),
    request: requestOf(out.input),
  };
  if (out.status === 'SUCCEEDED') status.report = reportOf(out.output);
  if (out.status === 'FAILED') {
    status.error = out.error;
    status.cause = out.cause;
    status.report = reportOf(out.cause);
  }
  if (status.report) {
    if (status.report.percent !== null) status.percent = status.report.percent;
    return status;
  }
  const progress = await progressOf(sfn, executionArn);
  if (progress.currentState) {
    status.currentState = progress.currentState;
    status.phase = phaseOf(progress.currentState);
  }
  if (progress.percent !== undefined) status.percent = progress.percent;
  return status;
}

/** Follows `continued` outcomes to the execution that carries the migration on (at most `max` hops). */
export async function describeLatest(sfn: SfnLike, executionArn: string, max = 100): Promise<{ chain: string[]; status: MigrationStatus }> {
  const chain = [executionArn];
  let status = await describeMigration(sfn, executionArn);
  while (status.report?.outcome === 'continued' && status.report.continuedAs && chain.length <= max) {
    chain.push(status.report.continuedAs);
    status = await describeMigration(sfn, status.report.continuedAs);
  }
  return { chain, status };
}

export interface ListedMigration {
  executionArn: string;
  name: string;
  status: string;
  startDate?: string;
  stopDate?: string;
  instanceId?: string;
  volumeGroup?: string;
  target?: string;
}

export async function listMigrations(
  sfn: SfnLike,
  stateMachineArn: string,
  opts: { status?: ExecutionStatus; max: number },
): Promise<ListedMigration[]> {
  const out: ListedMigration[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: opts.status, maxResults: Math.min(opts.max, 100), nextToken }),
    );
    for (const e of page.executions ?? []) {
      if (out.length >= opts.max || !e.executionArn) break;
      out.push({
        executionArn: e.executionArn,
        name: e.name ?? '',
        status: e.status ?? 'UNKNOWN',
        ...(e.startDate ? { startDate: e.startDate.toISOString() } : {}),
        ...(e.stopDate ? { stopDate: e.stopDate.toISOString() } : {}),
      });
    }
    nextToken = page.nextToken;
  } while (nextToken && out.length < opts.max);
  // The instance and volume group are in each execution's input: a few describes, four at a time.
  for (let i = 0; i < out.length; i += 4) {
    await Promise.all(
      out.slice(i, i + 4).map(async (m) => {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn: m.executionArn }));
        const request = requestOf(d.input);
        if (request) {
          m.instanceId = request.instanceId;
          m.volumeGroup = request.volumeGroup;
          m.target = request.mode === 'grow-in-place' ? `grow in place to ${request.target.sizeGiB} GiB` : `${request.target.volumeType} ${request.target.sizeGiB} GiB`;
        }
      }),
    );
  }
  return out;
}
