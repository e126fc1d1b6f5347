import { type Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { createSfnClient, type SfnLike } from '../aws/sfn';
import { ValidationError } from '../core/errors';
import {
  describeLatest,
  type ExecutionStatus,
  findStateMachine,
  listMigrations,
  type MigrationStatus,
  regionOfArn,
  startMigration,
} from '../lvm/executions';
import { describeIssues, executionNameFor, MigrationRequest, type MigrationRequestInput } from '../lvm/plan';
import { OUTCOMES, type Report } from '../lvm/report';
import { type CliIo, type CommandModule, ExitCode } from './io';

/**
 * `vigil migrate`: start an LVM volume migration (the Step Functions workflow of infra/state-machines/), watch it,
 * list migrations, resume a paused one. The workflow does the work; this only talks to Step Functions.
 */

export interface MigrateDeps {
  /** The Step Functions client for a region (undefined: the SDK's default region chain). */
  sfnClient: (region?: string) => SfnLike;
  sleep: (ms: number) => Promise<void>;
}

const defaultDeps: MigrateDeps = {
  sfnClient: (region) => createSfnClient(region),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface CommonOptions {
  stateMachine?: string;
  stage?: string;
  region?: string;
  format: 'text' | 'json';
}

interface StartOptions extends CommonOptions {
  instance: string;
  vg: string;
  to: string;
  size: number;
  iops?: number;
  throughput?: number;
  kmsKey?: string;
  oldVolume?: string;
  lv?: string;
  lvSize?: string;
  grow: boolean;
  snapshot: boolean;
  deleteOld: boolean;
  pollInterval?: number;
  growInPlace?: boolean;
  dryRun?: boolean;
  name?: string;
  timeout: number;
}

const DESCRIPTION = [
  'Move the LVM volume group of an EC2 instance online to a new EBS volume, or grow it in place.',
  'The migration runs in the vigil-<stage>-migration Step Functions workflow: pre-flight checks (refusing, with the ' +
    'reason, anything unsafe), a snapshot of the old volume, a new encrypted volume in the instance AZ, pvmove in the ' +
    'background with progress notifications, then vgreduce/pvremove, growing the LV and filesystem, and deleting the ' +
    'old volume once its snapshot completed. Any failure before the move completes rolls back. See docs/migration.md.',
  'The state machine is found by name in the account and region (--stage, default $VIGIL_STAGE or dev), or given with ' +
    '--state-machine / $VIGIL_MIGRATION_STATE_MACHINE_ARN. AWS credentials and region come from the usual SDK chain.',
].join('\n\n');

const EXAMPLES = `
Examples:
  vigil migrate start --instance i-0123456789abcdef0 --vg datavg --to gp3 --size 200 --dry-run
  vigil migrate start --instance i-0123456789abcdef0 --vg datavg --to gp3 --size 200 --kms-key alias/ebs-data
  vigil migrate start --instance i-0123456789abcdef0 --vg datavg --size 500 --grow-in-place
  vigil migrate status arn:aws:states:eu-west-1:123456789012:execution:vigil-prod-migration:mig-… --watch
  vigil migrate list --status RUNNING
  vigil migrate resume arn:aws:states:eu-west-1:123456789012:execution:vigil-prod-migration:mig-…`;

const int = (what: string, min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer >= ${min}`);
  return n;
};

const addCommon = (cmd: Command): Command =>
  cmd
    .option('--state-machine <arn>', 'the migration state machine (default: $VIGIL_MIGRATION_STATE_MACHINE_ARN, or found by name)')
    .option('--stage <stage>', 'the vigil stage whose state machine to use (default: $VIGIL_STAGE or dev)')
    .option('--region <region>', 'AWS region (default: the SDK default)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'));

/** The request the flags describe, validated by the same schema as the workflow's first step. */
export function requestFromOptions(o: StartOptions, io: CliIo): MigrationRequest {
  const lvSize = o.lvSize === undefined ? undefined : o.lvSize === '100%FREE' ? '100%FREE' : Number(o.lvSize);
  const input: MigrationRequestInput = {
    instanceId: o.instance,
    volumeGroup: o.vg,
    ...(o.oldVolume ? { oldVolumeId: o.oldVolume } : {}),
    mode: o.growInPlace ? 'grow-in-place' : 'migrate',
    target: {
      volumeType: o.to as MigrationRequestInput['target']['volumeType'],
      sizeGiB: o.size,
      ...(o.iops !== undefined ? { iops: o.iops } : {}),
      ...(o.throughput !== undefined ? { throughput: o.throughput } : {}),
      ...(o.kmsKey ? { kmsKeyId: o.kmsKey } : {}),
    },
    grow: o.grow ? { ...(o.lv ? { lv: o.lv } : {}), ...(lvSize !== undefined ? { size: lvSize as never } : {}) } : false,
    snapshotOldVolume: o.snapshot,
    deleteOldVolume: o.deleteOld,
    ...(o.pollInterval !== undefined ? { pollIntervalSeconds: o.pollInterval } : {}),
    dryRun: Boolean(o.dryRun),
    ...(io.env.USER ? { requestedBy: io.env.USER } : {}),
  };
  const parsed = MigrationRequest.safeParse(input);
  if (!parsed.success) throw new ValidationError(`invalid migration request:\n  ${describeIssues(parsed.error).join('\n  ')}`);
  return parsed.data;
}

function planText(r: MigrationRequest): string {
  const t = r.target;
  const target = [
    `${t.volumeType} ${t.sizeGiB} GiB`,
    t.iops !== undefined ? `${t.iops} IOPS` : '',
    t.throughput !== undefined ? `${t.throughput} MiB/s` : '',
    `encrypted${t.kmsKeyId ? ` with ${t.kmsKeyId}` : ' (account default EBS key)'}`,
  ]
    .filter(Boolean)
    .join(', ');
  const grow = r.grow === false ? 'no' : `${r.grow.lv || 'the only LV of the VG'} to ${r.grow.size === '100%FREE' ? 'all free space' : `${r.grow.size} MiB`}`;
  const lines =
    r.mode === 'grow-in-place'
      ? [
          `Plan: grow volume group ${r.volumeGroup} on ${r.instanceId} in place`,
          `  volume         ${r.oldVolumeId ?? 'the one PV of the VG'} → ${target}`,
          `  grow LV        ${grow}`,
        ]
      : [
          `Plan: migrate volume group ${r.volumeGroup} on ${r.instanceId}`,
          `  from           ${r.oldVolumeId ?? 'the one PV of the VG'}`,
          `  to             a new ${target}, in the instance's AZ`,
          `  grow LV        ${grow}`,
          `  old volume     ${r.snapshotOldVolume ? 'snapshot, then ' : ''}${r.deleteOldVolume ? 'delete after the move' : 'detach and keep'}`,
          `  status polls   every ${r.pollIntervalSeconds} s`,
        ];
  if (r.dryRun) lines.push('  dry run        pre-flight checks only, nothing is changed');
  return `${lines.join('\n')}\n`;
}

const FAILED_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

function statusExit(status: MigrationStatus): number {
  if (FAILED_STATUSES.has(status.status)) return ExitCode.findings;
  if (status.report && !status.report.succeeded) return ExitCode.findings;
  return ExitCode.ok;
}

/** What a dry run checked: the old volume, what it holds, the LVs. */
function preflightText(summary: Record<string, unknown>): string[] {
  const old = summary.oldVolume as { id?: string; sizeGiB?: number; type?: string } | undefined;
  const lvs = (summary.lvs as { name: string; sizeMiB?: number | null; fsType?: string | null; mountpoint?: string | null }[] | undefined) ?? [];
  const lines: string[] = [];
  if (old?.id) lines.push(`checked        ${old.id}${old.sizeGiB ? ` (${old.type ?? ''} ${old.sizeGiB} GiB)` : ''}, ${String(summary.allocatedMiB ?? '?')} MiB allocated`);
  for (const lv of lvs) {
    lines.push(`  LV           ${lv.name}${lv.sizeMiB ? ` ${lv.sizeMiB} MiB` : ''} ${lv.fsType ?? 'no filesystem'}${lv.mountpoint ? ` on ${lv.mountpoint}` : ''}`);
  }
  return lines;
}

function reportText(report: Report): string[] {
  const lines = [
    `outcome        ${report.outcome}${OUTCOMES[report.outcome].succeeded ? '' : ' (failed)'}`,
    `result         ${report.message}`,
  ];
  if (report.reason) lines.push(`reason         ${report.reason}`);
  for (const refusal of report.refusals) lines.push(`refused        ${refusal}`);
  for (const warning of report.warnings) lines.push(`warning        ${warning}`);
  lines.push(`old volume     ${report.oldVolume.volumeId ?? '-'}: ${report.oldVolume.state}`);
  if (report.newVolume.volumeId || report.mode !== 'grow-in-place') {
    lines.push(`new volume     ${report.newVolume.volumeId ?? '-'}: ${report.newVolume.state}`);
  }
  if (report.snapshotId) lines.push(`snapshot       ${report.snapshotId}`);
  if (report.preflight) lines.push(...preflightText(report.preflight));
  if (report.continuedAs) lines.push(`continued in   ${report.continuedAs}`);
  lines.push(`what to do     ${report.whatToDo}`);
  return lines;
}

export function statusText(s: MigrationStatus, chain: string[] = [s.executionArn]): string {
  const lines = [`execution      ${s.executionArn}`];
  if (chain.length > 1) lines.push(`continues      ${chain.length - 1} execution(s) after ${chain[0]}`);
  const r = s.request;
  if (r) {
    lines.push(`migration      ${r.volumeGroup} on ${r.instanceId} → ${r.mode === 'grow-in-place' ? 'grow in place to ' : ''}${r.target.volumeType} ${r.target.sizeGiB} GiB${r.dryRun ? ' (dry run)' : ''}`);
  }
  lines.push(`status         ${s.status}${s.status === 'RUNNING' && s.phase ? `: ${s.phase} (${s.currentState})` : ''}`);
  if (s.percent !== undefined) lines.push(`moved          ${s.percent}%`);
  if (s.startDate) lines.push(`started        ${s.startDate}`);
  if (s.stopDate) lines.push(`stopped        ${s.stopDate}`);
  if (s.report) lines.push(...reportText(s.report));
  else if (s.status !== 'RUNNING' && (s.error || s.cause)) lines.push(`error          ${[s.error, s.cause].filter(Boolean).join(': ')}`);
  return `${lines.join('\n')}\n`;
}

function regionFor(o: CommonOptions, arn?: string): string | undefined {
  return o.region ?? (arn ? regionOfArn(arn) : undefined);
}

export function createMigrateCommand(deps: MigrateDeps = defaultDeps): CommandModule {
  return (program, io, setExit) => {
    const stateMachineArn = async (sfn: SfnLike, o: CommonOptions): Promise<string> =>
      o.stateMachine ?? io.env.VIGIL_MIGRATION_STATE_MACHINE_ARN ?? findStateMachine(sfn, o.stage ?? io.env.VIGIL_STAGE ?? 'dev');
    const write = (text: string) => void io.stdout.write(text);
    const json = (value: unknown) => write(`${JSON.stringify(value, null, 2)}\n`);

    /** Polls until the execution (and its continuations) ends; a progress bar on a terminal, lines otherwise. */
    const watch = async (sfn: SfnLike, arn: string, intervalSeconds: number, timeoutSeconds?: number) => {
      const started = Date.now();
      const tty = Boolean(io.stderr.isTTY);
      const bar = tty
        ? new SingleBar({ format: ' {bar} {percentage}% | {phase}', stream: io.stderr, hideCursor: true, clearOnComplete: true })
        : undefined;
      bar?.start(100, 0, { phase: 'starting' });
      let last = '';
      try {
        for (;;) {
          const { chain, status } = await describeLatest(sfn, arn);
          const percent = status.percent ?? 0;
          const phase = status.phase ?? status.status.toLowerCase();
          if (bar) bar.update(Math.floor(percent), { phase });
          else {
            const line = `${status.status} ${phase}${status.percent !== undefined ? ` ${status.percent}%` : ''}`;
            if (line !== last) io.stderr.write(`vigil: ${line}\n`);
            last = line;
          }
          if (TERMINAL.has(status.status)) return { chain, status };
          if (timeoutSeconds !== undefined && Date.now() - started > timeoutSeconds * 1000) {
            throw new ValidationError(`${arn} still runs after ${timeoutSeconds} s; follow it with vigil migrate status --watch`);
          }
          await deps.sleep(intervalSeconds * 1000);
        }
      } finally {
        bar?.stop();
      }
    };

    const migrate = program
      .command('migrate')
      .summary('move an instance LVM volume group online to a new EBS volume (Step Functions workflow)')
      .description(DESCRIPTION)
      .addHelpText('after', EXAMPLES);

    addCommon(
      migrate
        .command('start')
        .description('Validate the request, print the plan and start the workflow; prints the execution ARN.')
        .requiredOption('--instance <id>', 'the EC2 instance (i-…)')
        .requiredOption('--vg <name>', 'the LVM volume group to move')
        .option('--to <type>', 'new volume type: gp3, gp2 or io2', 'gp3')
        .requiredOption('--size <GiB>', 'new volume size in GiB (at least what the VG has allocated)', int('--size', 1))
        .option('--iops <n>', 'provisioned IOPS (io2; gp3 above 3000)', int('--iops', 1))
        .option('--throughput <MiB/s>', 'gp3 throughput', int('--throughput', 1))
        .option('--kms-key <key>', 'KMS key id, ARN or alias for the new volume (default: the account default EBS key)')
        .option('--old-volume <vol-id>', 'the volume to move off (default: the one PV of the VG)')
        .option('--lv <name>', 'the LV to grow afterwards (default: the only LV of the VG)')
        .option('--lv-size <size>', 'grow it to 100%FREE (default) or to this many MiB')
        .option('--no-grow', 'do not grow any LV or filesystem')
        .option('--no-snapshot', 'do not snapshot the old volume before deleting it')
        .option('--no-delete-old', 'detach the old volume but keep it')
        .option('--poll-interval <seconds>', 'seconds between pvmove status polls (default 300)', int('--poll-interval', 30))
        .option('--grow-in-place', 'resize/retype the existing volume (Elastic Volumes) and grow PV, LV and filesystem; no migration')
        .option('--dry-run', 'run only the read-only pre-flight checks in the workflow and print their verdict')
        .option('--name <name>', 'execution name (default: mig-<instance>-<vg>-<time>)')
        .option('--timeout <seconds>', 'with --dry-run: how long to wait for the verdict', int('--timeout', 1), 600),
    ).action(async (o: StartOptions) => {
      const request = requestFromOptions(o, io);
      const sfn = deps.sfnClient(regionFor(o, o.stateMachine));
      const machine = await stateMachineArn(sfn, o);
      const name = o.name ?? executionNameFor(request, io.clock.now());
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new ValidationError('--name: 1-80 letters, digits, - and _');
      if (o.format === 'text') write(planText(request));
      const { executionArn } = await startMigration(sfn, machine, name, request);
      if (!request.dryRun) {
        if (o.format === 'json') json({ executionArn, request });
        else write(`execution      ${executionArn}\nwatch with     vigil migrate status ${executionArn} --watch\n`);
        return;
      }
      const { status } = await watch(sfn, executionArn, 3, o.timeout);
      if (o.format === 'json') json({ request, ...status });
      else write(statusText(status));
      setExit(statusExit(status));
    });

    addCommon(
      migrate
        .command('status')
        .description('State, percent moved and current step of a migration execution (follows continuation executions).')
        .argument('<execution-arn>', 'the execution ARN that `vigil migrate start` printed')
        .option('--watch', 'poll until the migration ends (a progress bar on a terminal)')
        .option('--interval <seconds>', 'seconds between polls with --watch', int('--interval', 1), 10),
    ).action(async (arn: string, o: CommonOptions & { watch?: boolean; interval: number }) => {
      const sfn = deps.sfnClient(regionFor(o, arn));
      const { chain, status } = o.watch ? await watch(sfn, arn, o.interval) : await describeLatest(sfn, arn);
      if (o.format === 'json') json({ ...status, chain });
      else write(statusText(status, chain));
      setExit(statusExit(status));
    });

    addCommon(
      migrate
        .command('list')
        .description('Recent migration executions, newest first, with their instance and volume group.')
        .addOption(new Option('--status <status>', 'only executions in this state').choices(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']))
        .option('--max <n>', 'at most this many', int('--max', 1), 20),
    ).action(async (o: CommonOptions & { status?: ExecutionStatus; max: number }) => {
      const sfn = deps.sfnClient(regionFor(o, o.stateMachine));
      const machine = await stateMachineArn(sfn, o);
      const rows = await listMigrations(sfn, machine, { status: o.status, max: o.max });
      if (o.format === 'json') return json(rows);
      if (rows.length === 0) return write('no migrations\n');
      const table = [
        ['STARTED', 'STATUS', 'INSTANCE', 'VG', 'TARGET', 'EXECUTION'],
        ...rows.map((r) => [r.startDate ?? '-', r.status, r.instanceId ?? '-', r.volumeGroup ?? '-', r.target ?? '-', r.name]),
      ];
      const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
      write(table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n');
    });

    addCommon(
      migrate
        .command('resume')
        .description(
          'Start a new execution that continues a paused migration, retries an incomplete rollback, or finishes releasing ' +
            'the old volume or growing in place, from the report of the execution that stopped.',
        )
        .argument('<execution-arn>', 'the execution that ended paused, rollback-incomplete, completed-old-volume-left or grow-in-place-failed'),
    ).action(async (arn: string, o: CommonOptions) => {
      const sfn = deps.sfnClient(regionFor(o, arn));
      const { status } = await describeLatest(sfn, arn);
      if (status.status === 'RUNNING') throw new ValidationError(`${status.executionArn} is still running`);
      if (!status.report?.resume) {
        throw new ValidationError(
          `${status.executionArn} cannot be resumed (${status.report ? `outcome ${status.report.outcome}` : `status ${status.status}, no report`}); ` +
            'resumable outcomes: paused, rollback-incomplete, completed-old-volume-left, grow-in-place-failed',
        );
      }
      const machine = status.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, '');
      const stamp = io.clock.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const name = `resume-${status.report.migrationId ?? status.name}`.slice(0, 80 - stamp.length - 1) + `-${stamp}`;
      const { executionArn } = await startMigration(sfn, machine, name, status.report.resume);
      if (o.format === 'json') json({ executionArn, resumes: status.executionArn, outcome: status.report.outcome });
      else write(`resuming       ${status.report.outcome} migration ${status.report.migrationId ?? ''}\nexecution      ${executionArn}\n`);
    });
  };
}

export const migrateCommand: CommandModule = createMigrateCommand();
