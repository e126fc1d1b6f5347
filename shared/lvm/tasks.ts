import { z } from 'zod';
import { type AlertSink, publishAlert } from '../alerts/publish';
import type { Clock, Logger } from '../core/deps';
import { ConfigError, ValidationError } from '../core/errors';
import { buildPlan, describeIssues, ExecutionContext, lockExpiry, MigrationRequest, Plan, VolumeType } from './plan';
import { checkInstance, checkVolumeGroup, InstanceCheck, InstanceFacts, type Limits, VolumeGroupCheck } from './preflight';
import { advanceMove, initialMove, MoveState } from './progress';
import { buildReport, migrationAlert, ResumePhase, WorkflowState } from './report';
import { buildStepRequest, StepRequestInput } from './ssm-request';
import { StepOutcome } from './step-outcome';

/**
 * The two Lambda tasks of the migration workflow, as plain functions of their event. Everything that touches EC2 or
 * SSM is an SDK integration in the state machine; these only decide (pre-flight, progress), build requests
 * (CreateVolume, SendCommand with the scripts) and notify. The events are the state machine's Payloads, parsed here.
 */

export const ResumeInput = z.object({
  resume: z.object({
    phase: ResumePhase,
    plan: Plan,
    preflight: InstanceCheck,
    decision: VolumeGroupCheck,
    new: z.object({ volumeId: z.string().optional() }).loose().default({}),
    snapshot: z.object({ snapshotId: z.string().optional() }).loose().default({}),
    move: MoveState.optional(),
  }),
});
export type ResumeInput = z.infer<typeof ResumeInput>;

/**
 * The workflow's scratch space, started empty so every Catch/ResultPath below it writes one level deep: raw results
 * (`r`), caught errors (`e`), throttling backoff (`t`) and wait-loop counters (`w`).
 */
const SCRATCH = { r: {}, e: {}, t: {}, w: {} };

export const PlanTaskEvent = z.discriminatedUnion('action', [
  z.object({ action: z.literal('plan'), input: z.unknown(), execution: ExecutionContext }),
  z.object({ action: z.literal('resume'), input: z.unknown(), execution: ExecutionContext }),
  z.object({ action: z.literal('check-instance'), plan: Plan, facts: InstanceFacts }),
  z.object({
    action: z.literal('check-volume-group'),
    plan: Plan,
    preflight: InstanceCheck,
    facts: InstanceFacts,
    inspect: StepOutcome,
  }),
  z.object({ action: z.literal('step-request'), request: StepRequestInput }),
  z.object({ action: z.literal('progress'), plan: Plan, move: MoveState, step: StepOutcome }),
]);
export type PlanTaskEvent = z.infer<typeof PlanTaskEvent>;

export interface PlanTaskDeps {
  clock: Clock;
  logger: Logger;
  limits: Limits;
}

/** Deployment limits from the environment; the IAM policy is generated from the same stack parameters. */
export function limitsFromEnv(env: NodeJS.ProcessEnv): Limits {
  const parsed = z
    .object({
      MIGRATION_MAX_VOLUME_GIB: z.coerce.number().int().positive().default(16_384),
      MIGRATION_ALLOWED_VOLUME_TYPES: z
        .string()
        .default('gp3,gp2,io2')
        .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
        .pipe(z.array(VolumeType).min(1)),
    })
    .safeParse(env);
  if (!parsed.success) throw new ConfigError(`migration limits: ${describeIssues(parsed.error).join('; ')}`);
  return { maxVolumeSizeGiB: parsed.data.MIGRATION_MAX_VOLUME_GIB, allowedVolumeTypes: parsed.data.MIGRATION_ALLOWED_VOLUME_TYPES };
}

const parseEvent = <T extends z.ZodType>(schema: T, event: unknown, what: string): z.infer<T> => {
  const parsed = schema.safeParse(event);
  if (!parsed.success) throw new ValidationError(`${what}: ${describeIssues(parsed.error).join('; ')}`);
  return parsed.data;
};

export async function runPlanTask(event: unknown, deps: PlanTaskDeps): Promise<unknown> {
  const e = parseEvent(PlanTaskEvent, event, 'migration task event');
  switch (e.action) {
    case 'plan': {
      // The result becomes the workflow's whole state (ResultPath $), so it starts every field later states use.
      const request = MigrationRequest.safeParse(e.input);
      if (!request.success) {
        const refusals = describeIssues(request.error);
        deps.logger.warn('migration request refused', { refusals });
        return { valid: false, input: e.input, refusals };
      }
      const plan = buildPlan(request.data, e.execution, deps.clock.now());
      deps.logger.info('migration planned', { migrationId: plan.migrationId, instanceId: plan.instanceId, vg: plan.vg, mode: plan.mode });
      return { valid: true, input: e.input, plan, move: initialMove(), new: {}, snapshot: {}, ...SCRATCH };
    }
    case 'resume': {
      const parsed = ResumeInput.safeParse(e.input);
      if (!parsed.success) return { valid: false, input: e.input, refusals: describeIssues(parsed.error) };
      const r = parsed.data.resume;
      const previous = r.move ?? initialMove();
      // A fresh execution has a fresh history: count its polls from zero, and number it for the next hand-over.
      const move: MoveState = { ...previous, polls: 0, stalledPolls: 0, unreachablePolls: 0, continuation: previous.continuation + 1 };
      const plan: Plan = { ...r.plan, lock: { ...r.plan.lock, expiresAt: lockExpiry(deps.clock.now()) } };
      deps.logger.info('migration resumed', { migrationId: plan.migrationId, phase: r.phase, execution: e.execution.executionArn });
      return {
        valid: true,
        input: e.input,
        resumePhase: r.phase,
        plan,
        preflight: r.preflight,
        decision: r.decision,
        new: r.new,
        snapshot: r.snapshot,
        move,
        ...SCRATCH,
      };
    }
    case 'check-instance':
      return checkInstance(e.plan, e.facts, deps.limits);
    case 'check-volume-group':
      return checkVolumeGroup(e.plan, e.preflight, e.facts, e.inspect);
    case 'step-request':
      return buildStepRequest(e.request);
    case 'progress':
      return advanceMove(e.move, e.step, { maxPollsPerExecution: e.plan.maxPollsPerExecution, migrationId: e.plan.migrationId });
  }
}

export const NotifyTaskEvent = z.discriminatedUnion('action', [
  z.object({ action: z.literal('started'), plan: Plan, executionArn: z.string() }),
  z.object({ action: z.literal('progress'), plan: Plan, executionArn: z.string(), percent: z.number().int().min(0).max(100) }),
  z.object({ action: z.literal('finalize'), state: WorkflowState, executionArn: z.string() }),
]);
export type NotifyTaskEvent = z.infer<typeof NotifyTaskEvent>;

export interface NotifyTaskDeps {
  clock: Clock;
  logger: Logger;
  alerts: AlertSink;
}

/**
 * Notifications never decide the fate of a migration: a failed publish is logged and reported in the result, and
 * the workflow goes on (its report and the execution history stay the record).
 */
export async function runNotifyTask(event: unknown, deps: NotifyTaskDeps): Promise<unknown> {
  const e = parseEvent(NotifyTaskEvent, event, 'migration notification event');
  const now = deps.clock.now();
  const publish = async (alert: ReturnType<typeof migrationAlert>): Promise<{ published: boolean; messageId?: string }> => {
    try {
      const messageId = await publishAlert(deps.alerts, alert);
      return { published: true, ...(messageId ? { messageId } : {}) };
    } catch (err) {
      deps.logger.error('could not publish the migration notification', err instanceof Error ? err : { err: String(err) });
      return { published: false };
    }
  };
  switch (e.action) {
    case 'started':
      return publish(migrationAlert('started', { plan: e.plan, executionArn: e.executionArn, now }));
    case 'progress':
      return publish(migrationAlert('progress', { plan: e.plan, executionArn: e.executionArn, percent: e.percent, now }));
    case 'finalize': {
      const report = buildReport(e.state, e.executionArn);
      // A continuation is no news, and a dry run's verdict goes to whoever ran it (the CLI waits for it).
      const notification =
        report.outcome === 'continued' || report.outcome === 'dry-run'
          ? { published: false }
          : await publish(migrationAlert('ended', { plan: e.state.plan, executionArn: e.executionArn, report, now }));
      deps.logger.info('migration ended', { outcome: report.outcome, migrationId: report.migrationId });
      return { report, reportJson: JSON.stringify(report), succeeded: report.succeeded, error: report.error ?? 'Migration.Succeeded', notification };
    }
  }
}
