import { Readable, Writable } from 'node:stream';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../shared/cli/io';
import { main } from '../../../shared/cli/main';
import { createMigrateCommand } from '../../../shared/cli/migrate';
import { fixedClock } from '../../../shared/core/deps';
import { describeError } from '../../../shared/core/errors';
import { ACCOUNT, REGION } from './definitions';
import { request, world } from './world';

const MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:vigil-prod-migration`;
const exec = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:vigil-prod-migration:${name}`;
const NOW = '2026-03-01T10:00:00.000Z';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function fakeIo(env: NodeJS.ProcessEnv = {}, tty = false): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (chunks: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _e, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
  const stderr = Object.assign(sink(err), { isTTY: tty, columns: 80 });
  const io: CliIo = {
    stdout: sink(out),
    stderr,
    stdin: Readable.from([]),
    env,
    cwd: process.cwd(),
    clock: fixedClock(NOW),
    fetch: () => Promise.reject(new Error('no network in tests')),
  };
  return { io, out, err };
}

/** Runs `vigil migrate …` with the module built around the given client (and no real sleeping), as main() would. */
async function migrate(argv: string[], sfn: SFNClient, opts: { env?: NodeJS.ProcessEnv; tty?: boolean } = {}): Promise<Run> {
  const { io, out, err } = fakeIo(opts.env, opts.tty);
  let code = 0;
  const program = new Command('vigil')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) });
  createMigrateCommand({ sfnClient: () => sfn, sleep: async () => undefined })(program, io, (c) => {
    code = Math.max(code, c);
  });
  try {
    await program.parseAsync(['migrate', ...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
    else {
      io.stderr.write(`vigil: error: ${describeError(e)}\n`);
      code = 2;
    }
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const sfnMock = mockClient(SFNClient);
let sfn: SFNClient;
beforeEach(() => {
  sfnMock.reset();
  sfn = new SFNClient({ region: REGION });
});
afterEach(() => sfnMock.reset());

/** A real report, from a local run of the workflow. */
async function reportOf(extra: Record<string, unknown>, setup?: (w: ReturnType<typeof world>) => void) {
  const w = world();
  setup?.(w);
  const result = await w.runner.run(request(extra), 'mig-x');
  return result.report as Record<string, unknown>;
}

describe('vigil migrate start', () => {
  it('validates the flags into the request, prints the plan and the execution ARN', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: exec('mig-1'), startDate: new Date(NOW) });
    const run = await migrate(
      ['start', '--instance', 'i-0123456789abcdef0', '--vg', 'datavg', '--to', 'gp3', '--size', '200', '--kms-key', 'alias/ebs-data', '--lv', 'data'],
      sfn,
      { env: { VIGIL_MIGRATION_STATE_MACHINE_ARN: MACHINE, USER: 'ops-alice' } },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Plan: migrate volume group datavg on i-0123456789abcdef0');
    expect(run.stdout).toContain('a new gp3 200 GiB, encrypted with alias/ebs-data');
    expect(run.stdout).toContain(`execution      ${exec('mig-1')}`);
    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(MACHINE);
    expect(input?.name).toBe('mig-i-0123456789abcdef0-datavg-20260301T100000Z');
    expect(JSON.parse(input?.input ?? '')).toEqual({
      instanceId: 'i-0123456789abcdef0',
      volumeGroup: 'datavg',
      mode: 'migrate',
      target: { volumeType: 'gp3', sizeGiB: 200, encrypted: true, kmsKeyId: 'alias/ebs-data' },
      grow: { lv: 'data', size: '100%FREE' },
      snapshotOldVolume: true,
      deleteOldVolume: true,
      pollIntervalSeconds: 300,
      maxPollsPerExecution: 900,
      dryRun: false,
      requestedBy: 'ops-alice',
    });
  });

  it('finds the state machine of the stage by name', async () => {
    sfnMock.on(ListStateMachinesCommand).resolves({
      stateMachines: [
        { name: 'vigil-dev-migration', stateMachineArn: MACHINE.replace('prod', 'dev'), type: 'STANDARD', creationDate: new Date() },
        { name: 'vigil-prod-migration', stateMachineArn: MACHINE, type: 'STANDARD', creationDate: new Date() },
      ],
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: exec('x'), startDate: new Date() });
    const run = await migrate(['start', '--instance', 'i-0123456789abcdef0', '--vg', 'datavg', '--size', '50', '--stage', 'prod', '--format', 'json'], sfn);
    expect(run.code).toBe(0);
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.stateMachineArn).toBe(MACHINE);
    expect(JSON.parse(run.stdout)).toMatchObject({ executionArn: exec('x'), request: { target: { sizeGiB: 50 } } });
  });

  it('refuses bad input before calling AWS, naming every problem', async () => {
    const run = await migrate(['start', '--instance', 'i-xyz', '--vg', '-bad', '--to', 'st1', '--size', '100'], sfn, {
      env: { VIGIL_MIGRATION_STATE_MACHINE_ARN: MACHINE },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('instanceId: an EC2 instance id');
    expect(run.stderr).toContain('volumeGroup:');
    expect(run.stderr).toContain('target.volumeType:');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('--dry-run that passes prints what it checked and exits 0', async () => {
    const report = await reportOf({ dryRun: true });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: exec('dry-2'), startDate: new Date() });
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: exec('dry-2'), status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date(NOW), output: JSON.stringify(report) });
    const run = await migrate(['start', '--instance', 'i-0123456789abcdef0', '--vg', 'datavg', '--size', '200', '--dry-run'], sfn, {
      env: { VIGIL_MIGRATION_STATE_MACHINE_ARN: MACHINE },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('outcome        dry-run');
    expect(run.stdout).toMatch(/checked {8}vol-\w+ \(gp2 100 GiB\), 81920 MiB allocated/);
    expect(run.stdout).toContain('  LV           data 81920 MiB xfs on /data');
  });

  it('--dry-run waits for the pre-flight verdict: a refusal exits 1 with the reasons', async () => {
    const report = await reportOf({ dryRun: true }, (w) => {
      w.host.systemUses = ['/'];
    });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: exec('dry-1'), startDate: new Date() });
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ executionArn: exec('dry-1'), status: 'RUNNING', stateMachineArn: MACHINE, startDate: new Date(NOW) })
      .resolves({ executionArn: exec('dry-1'), status: 'FAILED', stateMachineArn: MACHINE, startDate: new Date(NOW), error: 'Migration.Refused', cause: JSON.stringify(report) });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const run = await migrate(['start', '--instance', 'i-0123456789abcdef0', '--vg', 'datavg', '--size', '200', '--dry-run'], sfn, {
      env: { VIGIL_MIGRATION_STATE_MACHINE_ARN: MACHINE },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('dry run        pre-flight checks only');
    expect(run.stdout).toContain('outcome        refused (failed)');
    expect(run.stdout).toMatch(/refused {8}volume vol-\w+ holds \/; vigil does not move system volumes online/);
    expect(JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '').dryRun).toBe(true);
  });
});

describe('vigil migrate status', () => {
  it('shows state, phase, current step and percent of a running migration', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: exec('mig-1'),
      name: 'mig-1',
      status: 'RUNNING',
      stateMachineArn: MACHINE,
      startDate: new Date(NOW),
      input: JSON.stringify(request()),
    });
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 90, timestamp: new Date(), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Poll pvmove' } },
        { id: 89, timestamp: new Date(), type: 'WaitStateExited', stateExitedEventDetails: { name: 'Wait for pvmove' } },
        {
          id: 80,
          timestamp: new Date(),
          type: 'PassStateExited',
          stateExitedEventDetails: { name: 'Record progress', output: JSON.stringify({ move: { percent: 42.5, polls: 3 } }) },
        },
      ],
    });
    const run = await migrate(['status', exec('mig-1')], sfn);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('migration      datavg on i-0123456789abcdef0 → gp3 200 GiB');
    expect(run.stdout).toContain('status         RUNNING: moving data (Poll pvmove)');
    expect(run.stdout).toContain('moved          42.5%');
    const history = sfnMock.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input;
    expect(history).toMatchObject({ executionArn: exec('mig-1'), reverseOrder: true, includeExecutionData: true });
  });

  it('follows continuation executions to the one that carries the migration on', async () => {
    const continued = await (async () => {
      const w = world();
      w.host.extentsPerPoll = Math.ceil(w.host.lvExtents() / 8);
      return (await w.runner.run(request({ maxPollsPerExecution: 3 }), 'mig-long')).report;
    })();
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: exec('mig-long') })
      .resolves({ executionArn: exec('mig-long'), status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date(NOW), output: JSON.stringify({ ...continued, continuedAs: exec('mig-long-c1') }) });
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: exec('mig-long-c1') })
      .resolves({ executionArn: exec('mig-long-c1'), status: 'RUNNING', stateMachineArn: MACHINE, startDate: new Date(NOW) });
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [{ id: 3, timestamp: new Date(), type: 'WaitStateEntered', stateEnteredEventDetails: { name: 'Wait for pvmove' } }],
    });
    const run = await migrate(['status', exec('mig-long'), '--format', 'json'], sfn);
    const status = JSON.parse(run.stdout);
    expect(status).toMatchObject({ executionArn: exec('mig-long-c1'), status: 'RUNNING', phase: 'moving data', chain: [exec('mig-long'), exec('mig-long-c1')] });
  });

  it('--watch polls to the end with a progress bar on a terminal; a rolled-back migration exits 1', async () => {
    const report = await reportOf({}, (w) => {
      w.host.faults.pvmoveIoErrorAtPercent = 40;
    });
    const running = { executionArn: exec('mig-2'), status: 'RUNNING' as const, stateMachineArn: MACHINE, startDate: new Date(NOW) };
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce(running)
      .resolvesOnce(running)
      .resolves({ ...running, status: 'FAILED', error: 'Migration.RolledBack', cause: JSON.stringify(report), stopDate: new Date(NOW) });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({
        events: [
          { id: 2, timestamp: new Date(), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Poll pvmove' } },
          { id: 1, timestamp: new Date(), type: 'PassStateExited', stateExitedEventDetails: { name: 'Record progress', output: '{"move":{"percent":20}}' } },
        ],
      })
      .resolves({ events: [{ id: 9, timestamp: new Date(), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Run rollback' } }] });
    const run = await migrate(['status', exec('mig-2'), '--watch', '--interval', '1'], sfn, { tty: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('20%');
    expect(run.stdout).toContain('outcome        rolled-back (failed)');
    expect(run.stdout).toContain('new volume     vol-');
    expect(run.stdout).toMatch(/what to do {5}The volume group is back on the old volume only/);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
  });

  it('--watch without a terminal prints a line per change', async () => {
    const report = await reportOf({});
    const running = { executionArn: exec('mig-3'), status: 'RUNNING' as const, stateMachineArn: MACHINE, startDate: new Date(NOW) };
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce(running)
      .resolves({ ...running, status: 'SUCCEEDED', output: JSON.stringify(report) });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 2, timestamp: new Date(), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Create volume' } }] });
    const run = await migrate(['status', exec('mig-3'), '--watch'], sfn);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('vigil: RUNNING creating and attaching the new volume');
    expect(run.stderr).toContain('vigil: SUCCEEDED succeeded 100%');
    expect(run.stdout).toContain('outcome        completed');
  });

  it('rejects something that is not an execution ARN', async () => {
    const run = await migrate(['status', 'mig-1'], sfn);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a Step Functions execution ARN');
  });

  it('is registered in the vigil CLI (main)', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: exec('mig-9'), status: 'ABORTED', stateMachineArn: MACHINE, startDate: new Date(NOW), stopDate: new Date(NOW) });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const { io, out } = fakeIo({ AWS_REGION: REGION });
    const code = await main(['migrate', 'status', exec('mig-9')], io);
    expect(code).toBe(1);
    expect(out.join('')).toContain('status         ABORTED');
  });
});

describe('vigil migrate list and resume', () => {
  it('lists recent migrations with their instance, volume group and target', async () => {
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: [
        { executionArn: exec('mig-b'), name: 'mig-b', status: 'RUNNING', stateMachineArn: MACHINE, startDate: new Date('2026-03-01T09:00:00Z') },
        { executionArn: exec('mig-a'), name: 'mig-a', status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date('2026-02-01T09:00:00Z') },
      ],
    });
    sfnMock.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => ({
      executionArn: input.executionArn,
      status: 'RUNNING',
      stateMachineArn: MACHINE,
      startDate: new Date(),
      input: JSON.stringify(request(input.executionArn.endsWith('mig-a') ? { mode: 'grow-in-place', target: { sizeGiB: 300 } } : {})),
    }));
    const run = await migrate(['list', '--state-machine', MACHINE, '--status', 'RUNNING'], sfn);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^STARTED\s+STATUS\s+INSTANCE\s+VG\s+TARGET\s+EXECUTION$/);
    expect(lines[1]).toMatch(/^2026-03-01T09:00:00.000Z\s+RUNNING\s+i-0123456789abcdef0\s+datavg\s+gp3 200 GiB\s+mig-b$/);
    expect(lines[2]).toContain('grow in place to 300 GiB');
    expect(sfnMock.commandCalls(ListExecutionsCommand)[0]?.args[0].input).toMatchObject({ stateMachineArn: MACHINE, statusFilter: 'RUNNING' });
  });

  it('resumes a paused migration from its report', async () => {
    const report = await reportOf({}, (w) => {
      let polls = 0;
      w.cloud.faults.beforeSendCommand = (step, cloud) => {
        if (step === 'pvmove-status' && ++polls === 2) cloud.agentAway = 1000;
      };
    });
    expect(report.outcome).toBe('paused');
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: exec('mig-x'), status: 'FAILED', stateMachineArn: MACHINE, startDate: new Date(NOW), error: 'Migration.Paused', cause: JSON.stringify(report) });
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: exec('resume-mig-x-20260301T100000Z'), startDate: new Date() });
    const run = await migrate(['resume', exec('mig-x')], sfn);
    expect(run.code).toBe(0);
    const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start?.stateMachineArn).toBe(MACHINE);
    expect(start?.name).toBe('resume-mig-x-20260301T100000Z');
    expect(JSON.parse(start?.input ?? '')).toEqual(report.resume);
    expect(run.stdout).toContain('resuming       paused migration mig-x');
  });

  it('refuses to resume a migration that completed', async () => {
    const report = await reportOf({});
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: exec('mig-x'), status: 'SUCCEEDED', stateMachineArn: MACHINE, startDate: new Date(NOW), output: JSON.stringify(report) });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const run = await migrate(['resume', exec('mig-x')], sfn);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot be resumed (outcome completed)');
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('bin/vigil.mjs migrate as a real process', () => {
  it('refuses a bad request with exit 2 before touching AWS', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { repoRoot } = await import('../../support/shared-data');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_REGION: REGION, VIGIL_MIGRATION_STATE_MACHINE_ARN: MACHINE };
    const err = await promisify(execFile)(process.execPath, ['bin/vigil.mjs', 'migrate', 'start', '--instance', 'i-0123456789abcdef0', '--vg', 'datavg', '--size', '0'], {
      cwd: repoRoot,
      env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in err ? err.code : 0).toBe(2);
    expect(err.stderr).toContain('--size must be an integer >= 1');
  });
});
