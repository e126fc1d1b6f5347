import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Alert } from '../../../shared/alerts/schema';
import { fixedClock, silentLogger } from '../../../shared/core/deps';
import { ConfigError, ValidationError } from '../../../shared/core/errors';
import { ssmCommands } from '../../../shared/lvm/command';
import {
  buildPlan,
  clientTokenFor,
  continuationName,
  executionNameFor,
  MigrationRequest,
} from '../../../shared/lvm/plan';
import { advanceMove, initialMove, MAX_RESUMES, MAX_UNREACHABLE_POLLS, type MoveState } from '../../../shared/lvm/progress';
import { buildReport, migrationAlert, Outcome, OUTCOMES, type WorkflowState } from '../../../shared/lvm/report';
import { limitsFromEnv, runNotifyTask, runPlanTask } from '../../../shared/lvm/tasks';
import { repoRoot } from '../../support/shared-data';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:vigil-test-migration:mig-1';
const request = MigrationRequest.parse({ instanceId: 'i-0123456789abcdef0', volumeGroup: 'datavg', target: { sizeGiB: 200 } });
const plan = buildPlan(request, { executionArn: ARN, executionName: 'mig-1' }, new Date('2026-03-01T10:00:00Z'));

describe('the migration request', () => {
  it('fills the documented defaults', () => {
    expect(request).toEqual({
      instanceId: 'i-0123456789abcdef0',
      volumeGroup: 'datavg',
      mode: 'migrate',
      target: { volumeType: 'gp3', sizeGiB: 200, encrypted: true },
      grow: { lv: '', size: '100%FREE' },
      snapshotOldVolume: true,
      deleteOldVolume: true,
      pollIntervalSeconds: 300,
      maxPollsPerExecution: 900,
      dryRun: false,
    });
  });

  it.each([
    [{ target: { volumeType: 'gp2', sizeGiB: 10, iops: 3000 } }, 'target.iops: gp2 takes neither iops nor throughput'],
    [{ target: { volumeType: 'io2', sizeGiB: 100 } }, 'target.iops: io2 needs iops'],
    [{ target: { volumeType: 'gp3', sizeGiB: 100, throughput: 5000 } }, 'target.throughput: gp3 throughput must be 125..2000 MiB/s'],
    [{ target: { volumeType: 'gp3', sizeGiB: 20_000 } }, 'target.sizeGiB: gp3 volumes are at most 16384 GiB'],
    [{ target: { sizeGiB: 100, encrypted: false } }, 'vigil only creates encrypted volumes'],
    [{ target: { sizeGiB: 100, kmsKeyId: 'my key' } }, 'target.kmsKeyId: a KMS key id, key ARN, alias/NAME or alias ARN'],
    [{ grow: { lv: '-x' } }, 'grow.lv'],
    [{ pollIntervalSeconds: 5 }, 'pollIntervalSeconds'],
    [{ typo: true }, 'Unrecognized key: "typo"'],
  ])('refuses %j', (extra, message) => {
    const parsed = MigrationRequest.safeParse({ instanceId: 'i-0123456789abcdef0', volumeGroup: 'datavg', target: { sizeGiB: 100 }, ...extra });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).toContain(message);
  });

  it('derives a client token of at most 64 characters from the execution ARN, stable and per execution', () => {
    expect(plan.clientToken).toBe(clientTokenFor(ARN));
    expect(plan.clientToken).toHaveLength(64);
    expect(clientTokenFor(ARN.replace('vigil-test', 'vigil-prod'))).not.toBe(plan.clientToken);
  });

  it('names executions within Step Functions limits', () => {
    const name = executionNameFor({ instanceId: 'i-0123456789abcdef0', volumeGroup: 'data.vg+1', dryRun: false }, new Date('2026-03-01T10:00:00.123Z'));
    expect(name).toBe('mig-i-0123456789abcdef0-data_vg_1-20260301T100000Z');
    expect(continuationName('x'.repeat(80), 12)).toMatch(/^x{76}-c12$/);
  });

  it('the sample inputs in events/migration are valid requests', () => {
    const dir = path.join(repoRoot, 'events/migration');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(MigrationRequest.safeParse(JSON.parse(readFileSync(path.join(dir, f), 'utf8'))).success, f).toBe(true);
  });
});

const statusOk = (percent: number | null, extra: Record<string, unknown> = {}) => ({
  outcome: 'ok' as const,
  step: 'pvmove-status',
  result: { step: 'pvmove-status', status: 'in-progress', message: '', changed: false, inProgress: true, percent, remainingExtents: 100, done: false, direction: 'forward', ...extra },
});
const opts = { maxPollsPerExecution: 900, migrationId: 'mig-1' };

describe('pvmove progress', () => {
  it('notifies once per crossed 25 % mark, even after a jump', () => {
    let move = initialMove();
    const notes: (number | undefined)[] = [];
    for (const p of [10, 30, 31, 80, 99]) {
      const d = advanceMove(move, statusOk(p), opts);
      notes.push(d.notifyPercent);
      move = d.move;
    }
    expect(notes).toEqual([undefined, 25, undefined, 75, undefined]);
    expect(advanceMove(move, statusOk(100, { inProgress: false, done: true }), opts)).toMatchObject({ action: 'done', move: { percent: 100 } });
  });

  it('restarts a stalled or stopped move a few times, then gives up (rollback)', () => {
    let move: MoveState = { ...initialMove(), percent: 40 };
    const actions: string[] = [];
    for (let i = 0; i < 20 && actions.at(-1) !== 'failed'; i++) {
      const d = advanceMove(move, statusOk(40), opts);
      actions.push(d.action);
      move = d.move;
    }
    expect(actions.filter((a) => a === 'resume')).toHaveLength(MAX_RESUMES);
    expect(actions.at(-1)).toBe('failed');
    const stopped = advanceMove({ ...initialMove(), resumes: MAX_RESUMES }, statusOk(null, { inProgress: false, direction: null }), opts);
    expect(stopped).toMatchObject({ action: 'failed', move: { reason: expect.stringContaining('restarts did not help') } });
  });

  it('waits out an unreachable instance, resumes the move when it answers again, pauses when it stays away', () => {
    let move = initialMove();
    move = advanceMove(move, statusOk(20), opts).move;
    const away = advanceMove(move, { outcome: 'undeliverable', statusDetails: 'Delivery Timed Out' }, opts);
    expect(away.action).toBe('wait');
    expect(advanceMove(away.move, statusOk(20), opts).action).toBe('resume');
    let m = move;
    let last = '';
    for (let i = 0; i < MAX_UNREACHABLE_POLLS; i++) {
      const d = advanceMove(m, { outcome: 'undeliverable' }, opts);
      m = d.move;
      last = d.action;
    }
    expect(last).toBe('paused');
    expect(advanceMove(move, statusOk(20, { direction: 'rollback' }), opts).action).toBe('paused');
  });

  it('hands over to a new execution after the poll budget, named after the migration', () => {
    const d = advanceMove({ ...initialMove(), polls: 2, percent: 10 }, statusOk(20), { maxPollsPerExecution: 3, migrationId: 'mig-1' });
    expect(d).toMatchObject({ action: 'continue', nextExecutionName: 'mig-1-c1' });
  });
});

describe('reports and notifications', () => {
  const base = { plan, preflight: undefined, new: { volumeId: 'vol-0bbbbbbbbbbbbbbb1' }, snapshot: { snapshotId: 'snap-0ccccccccccccccc1' } };

  it.each(Outcome.options)('names the outcome %s with a message, what to do and a valid alert', (outcome) => {
    const state = { ...base, end: { outcome } } as WorkflowState;
    const report = buildReport(state, ARN);
    expect(report).toMatchObject({ outcome, succeeded: OUTCOMES[outcome].succeeded, whatToDo: OUTCOMES[outcome].whatToDo });
    expect(report.message.length).toBeGreaterThan(10);
    if (!report.succeeded) expect(report.error).toMatch(/^Migration\./);
    expect(Boolean(report.resume)).toBe(OUTCOMES[outcome].resumeAt !== undefined);
    const alert = migrationAlert('ended', { plan, executionArn: ARN, report, now: new Date() });
    expect(Alert.safeParse(alert).success).toBe(true);
    // A Fail state's Cause holds at most 32,768 characters.
    expect(JSON.stringify(report).length).toBeLessThan(32_768);
  });

  it('explains a rollback-incomplete: the original failure and why the rollback did not finish', () => {
    const report = buildReport(
      {
        ...base,
        failure: { reason: 'the prepare step did not succeed', detail: { outcome: 'refused', step: 'prepare', result: { message: 'new volume is not attached' } } },
        step: { outcome: 'failed', output: { outcome: 'failed', step: 'rollback', stderr: 'vgreduce: device busy\n' } },
        end: { outcome: 'rollback-incomplete' },
      } as WorkflowState,
      ARN,
    );
    expect(report.reason).toBe(
      'the prepare step did not succeed (prepare refused: new volume is not attached); then the rollback did not finish: rollback failed: vgreduce: device busy',
    );
    expect(report.newVolume).toEqual({ volumeId: 'vol-0bbbbbbbbbbbbbbb1', state: 'kept: may still be part of the volume group' });
  });

  it('progress and start alerts follow the Alert schema with stable ids', () => {
    const started = migrationAlert('started', { plan, executionArn: ARN, now: new Date('2026-03-01T10:00:00Z') });
    const progress = migrationAlert('progress', { plan, executionArn: ARN, percent: 50, now: new Date() });
    expect(Alert.parse(started)).toMatchObject({ id: 'lvm-migration#mig-1#started', severity: 'info', account: '123456789012', region: 'eu-west-1' });
    expect(Alert.parse(progress)).toMatchObject({ id: 'lvm-migration#mig-1#progress-50', title: 'Migration of datavg on i-0123456789abcdef0: 50% moved' });
  });
});

describe('the Lambda tasks', () => {
  const deps = { clock: fixedClock('2026-03-01T10:00:00Z'), logger: silentLogger, limits: limitsFromEnv({}) };

  it('reads its limits from the environment and refuses a broken setting', () => {
    expect(limitsFromEnv({ MIGRATION_MAX_VOLUME_GIB: '2048', MIGRATION_ALLOWED_VOLUME_TYPES: 'gp3, io2' })).toEqual({
      maxVolumeSizeGiB: 2048,
      allowedVolumeTypes: ['gp3', 'io2'],
    });
    expect(() => limitsFromEnv({ MIGRATION_ALLOWED_VOLUME_TYPES: 'st1' })).toThrow(ConfigError);
  });

  it('builds the SendCommand request of a step with ssmCommands', async () => {
    const env = { VG: 'datavg', OLD_VOLUME_ID: 'vol-0aaaaaaaaaaaaaaa1' };
    const out = await runPlanTask({ action: 'step-request', request: { step: 'pvmove-status', env, instanceId: 'i-0123456789abcdef0', migrationId: 'mig-1' } }, deps);
    expect(out).toEqual({
      sendCommand: {
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: ['i-0123456789abcdef0'],
        Comment: 'vigil pvmove-status mig-1',
        TimeoutSeconds: 600,
        Parameters: { commands: ssmCommands('pvmove-status', env), executionTimeout: ['300'] },
      },
      pollSeconds: 5,
      maxPolls: 190,
    });
  });

  it('rejects a malformed event with a ValidationError (the state machine catches it)', async () => {
    await expect(runPlanTask({ action: 'step-request', request: { step: 'format-disk', env: {}, instanceId: 'x', migrationId: 'm' } }, deps)).rejects.toThrow(
      ValidationError,
    );
    await expect(
      runPlanTask({ action: 'step-request', request: { step: 'prepare', env: { VG: 'datavg', OLD_VOLUME_ID: "vol-1'; rm -rf /" }, instanceId: 'i-0123456789abcdef0', migrationId: 'm' } }, deps),
    ).rejects.toThrow(ValidationError);
  });

  it('a failed publish does not fail the final report', async () => {
    const sns = { send: async () => Promise.reject(new Error('SNS is down')) };
    const out = (await runNotifyTask(
      { action: 'finalize', executionArn: ARN, state: { plan, end: { outcome: 'completed' }, new: { volumeId: 'vol-0bbbbbbbbbbbbbbb1' } } },
      { clock: fixedClock('2026-03-01T10:00:00Z'), logger: silentLogger, alerts: { sns: sns as never, topicArn: 'arn:aws:sns:eu-west-1:123456789012:t' } },
    )) as { succeeded: boolean; notification: { published: boolean }; report: { outcome: string } };
    expect(out).toMatchObject({ succeeded: true, notification: { published: false }, report: { outcome: 'completed' } });
  });
});

describe('phases for people', () => {
  it('puts every state of the workflow in a phase; only the pre-flight states in "pre-flight"', async () => {
    const { phaseOf } = await import('../../../shared/lvm/executions');
    const { loadDefinition } = await import('./definitions');
    const names = Object.keys(loadDefinition('migration').States);
    const preflight = names.filter((n) => phaseOf(n) === 'pre-flight').map((n) => n.split(' - ')[0]);
    expect(new Set(preflight)).toEqual(
      new Set([
        'Start', 'Plan', 'Is the plan valid', 'Resume', 'Is the resume valid', 'Describe instance', 'Instance not found',
        'Describe SSM agent', 'Describe attached volumes', 'Find volume of this migration', 'Check instance', 'Is the instance ok',
        'Acquire lock', 'Read lock holder', 'Is the lock held', 'Describe lock holder', 'Is the lock holder running',
        'Take over stale lock', 'Another migration runs', 'Locked', 'Inspect', 'Check volume group', 'Is the volume group ok',
        'Old volume found', 'Inspect with old volume', 'Notify start', 'Which mode',
      ]),
    );
    expect(phaseOf('Poll pvmove')).toBe('moving data');
    expect(phaseOf('Create volume - backoff')).toBe('creating and attaching the new volume');
    expect(phaseOf('Wait for new volume deleted - check')).toBe('rolling back');
    expect(phaseOf('Wait for old volume deleted - check')).toBe('releasing the old volume');
    expect(phaseOf('Why - attach stuck')).toBe('ending');
  });
});
