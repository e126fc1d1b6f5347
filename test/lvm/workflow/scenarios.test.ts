import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ssmCommands, type LvmStep } from '../../../shared/lvm/command';
import { ACCOUNT, REGION } from './definitions';
import type { SimCloud } from './sim-cloud';
import type { SimInstance } from './sim-instance';
import { AZ, INSTANCE_ID, request, world } from './world';

const executionArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:vigil-test-migration:${name}`;
/** Written out here rather than imported, so the test pins the derivation: sha256 of the execution ARN. */
const clientToken = (name: string) => `vigil-${createHash('sha256').update(executionArn(name)).digest('hex').slice(0, 58)}`;

const EXECUTION_TIMEOUT: Record<LvmStep, string> = {
  inspect: '300',
  prepare: '900',
  'pvmove-start': '600',
  'pvmove-status': '300',
  finish: '1800',
  grow: '3600',
  rollback: '172800',
  'grow-in-place': '3600',
};

/** The exact SendCommand request of one step. */
const sendCommand = (step: LvmStep, env: Record<string, string>, migrationId: string) => ({
  DocumentName: 'AWS-RunShellScript',
  InstanceIds: [INSTANCE_ID],
  Comment: `vigil ${step} ${migrationId}`,
  TimeoutSeconds: 600,
  Parameters: { commands: ssmCommands(step, env), executionTimeout: [EXECUTION_TIMEOUT[step]] },
});

const stepsSent = (cloud: SimCloud): string[] =>
  cloud.callsTo('ssm:sendCommand').map((c) => String(c.input.Comment).split(' ')[1] ?? '');

const newVolumeOf = (cloud: SimCloud) =>
  [...cloud.volumes.values()].filter((v) => v.Tags.some((t) => t.Key === 'vigil:role' && t.Value === 'migration-target'));

/** Whatever happened, no extent was lost or invented and the workflow never pulled a PV from under LVM. */
function expectSafe(w: { cloud: SimCloud; host: SimInstance }, extents: number): void {
  expect(w.cloud.violations).toEqual([]);
  expect(w.host.lvExtents()).toBeGreaterThanOrEqual(extents);
  const onPvs = [...w.host.pvs.values()].reduce((n, p) => n + p.allocated, 0);
  expect(onPvs).toBe(w.host.lvExtents());
}

const envFor = (old: string, neu: string) => ({
  VG: 'datavg',
  OLD_VOLUME_ID: old,
  LV: 'data',
  LV_SIZE: '100%FREE',
  POLL_INTERVAL: '15',
  OLD_DEVICE_NAME: '/dev/sdf',
  NEW_VOLUME_ID: neu,
  NEW_DEVICE_NAME: '/dev/sdg',
});

describe('migration workflow, run locally against simulated EC2, SSM and an LVM instance', () => {
  it('happy path: creates, attaches, moves, finishes, grows, snapshots and deletes the old volume', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    const result = await w.runner.run(request(), 'mig-happy');

    expect(result.status).toBe('SUCCEEDED');
    const [created] = newVolumeOf(w.cloud);
    const newId = created?.VolumeId as string;
    expect(result.report).toMatchObject({
      outcome: 'completed',
      succeeded: true,
      migrationId: 'mig-happy',
      instanceId: INSTANCE_ID,
      oldVolume: { volumeId: w.oldVolumeId, state: 'deleted' },
      newVolume: { volumeId: newId, state: expect.stringContaining('in use') },
      percent: 100,
    });

    // Exactly one CreateVolume, in the instance's AZ, with the client token and the tags.
    expect(w.cloud.callsTo('ec2:createVolume').map((c) => c.input)).toEqual([
      {
        AvailabilityZone: AZ,
        Size: 200,
        VolumeType: 'gp3',
        Encrypted: true,
        ClientToken: clientToken('mig-happy'),
        TagSpecifications: [
          {
            ResourceType: 'volume',
            Tags: [
              { Key: 'InstanceId', Value: INSTANCE_ID },
              { Key: 'vigil:migration', Value: 'mig-happy' },
              { Key: 'vigil:execution', Value: executionArn('mig-happy') },
              { Key: 'vigil:role', Value: 'migration-target' },
              { Key: 'Name', Value: 'data' },
              { Key: 'CostCenter', Value: '42' },
            ],
          },
        ],
      },
    ]);
    expect(w.cloud.callsTo('ec2:attachVolume').map((c) => c.input)).toEqual([
      { Device: '/dev/sdg', InstanceId: INSTANCE_ID, VolumeId: newId },
    ]);

    // The exact SendCommand requests, in order.
    const env = envFor(w.oldVolumeId, newId);
    expect(w.cloud.callsTo('ssm:sendCommand').map((c) => c.input)).toEqual([
      sendCommand('inspect', { VG: 'datavg', OLD_VOLUME_ID: w.oldVolumeId }, 'mig-happy'),
      sendCommand('prepare', env, 'mig-happy'),
      sendCommand('pvmove-start', env, 'mig-happy'),
      ...Array.from({ length: 5 }, () => sendCommand('pvmove-status', env, 'mig-happy')),
      sendCommand('finish', env, 'mig-happy'),
      sendCommand('grow', env, 'mig-happy'),
    ]);

    // The old volume: snapshot first, deleted only after finish proved it free and the snapshot completed.
    const snapshots = [...w.cloud.snapshots.values()];
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({ VolumeId: w.oldVolumeId, State: 'completed' });
    expect(w.cloud.volumes.get(w.oldVolumeId)?.State).toBe('deleted');
    expect(result.report?.snapshotId).toBe(snapshots[0]?.SnapshotId);

    // On the instance: the VG lives on the new PV only, with every extent, and the LV was grown.
    expect([...w.host.pvs.keys()]).toEqual([newId]);
    expect(w.host.allocatedOn(newId)).toBe(w.host.lvExtents());
    expect(w.host.lvExtents()).toBeGreaterThan(extents);
    expectSafe(w, extents);

    // Notifications: start, each 25 %, end; the lock is released.
    expect(w.runner.published.map((p) => [p.alert.id.split('#').pop(), p.alert.severity])).toEqual([
      ['started', 'info'],
      ['progress-25', 'info'],
      ['progress-50', 'info'],
      ['progress-75', 'info'],
      ['ended-completed', 'info'],
    ]);
    expect(w.cloud.lockTable.size).toBe(0);
  });

  it('throttling on every EC2 call: each throttled call is retried with backoff and the migration completes', async () => {
    const w = world();
    w.cloud.faults.throttleEveryEc2Call = true;
    const result = await w.runner.run(request(), 'mig-throttled');

    expect(result.status).toBe('SUCCEEDED');
    expect(result.report?.outcome).toBe('completed');
    const ec2 = w.cloud.calls.filter((c) => c.api.startsWith('ec2:'));
    const throttled = ec2.filter((c) => c.error === 'RequestLimitExceeded');
    const succeeded = ec2.filter((c) => !c.error);
    // Every successful EC2 call was throttled once first, and retried with the same request.
    expect(throttled.length).toBe(succeeded.length);
    expect(throttled.map((c) => [c.api, c.input])).toEqual(succeeded.map((c) => [c.api, c.input]));
    expect(newVolumeOf(w.cloud)).toHaveLength(1);
    expect(w.cloud.callsTo('ec2:createVolume')).toHaveLength(1);
    // The backoff states ran (their waits are zeroed in the local run).
    expect(result.path.filter((s) => s.endsWith(' - backoff')).length).toBe(throttled.length);
    expectSafe(w, w.host.lvExtents());
  });

  it('attach stuck: nothing runs on the instance; the new volume is force-detached and deleted (rolled-back)', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    w.cloud.faults.attachStuck = true;
    const result = await w.runner.run(request(), 'mig-stuck');

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Migration.RolledBack');
    const newId = newVolumeOf(w.cloud)[0]?.VolumeId;
    expect(result.report).toMatchObject({
      outcome: 'rolled-back',
      newVolume: { volumeId: newId, state: 'deleted' },
      reason: expect.stringContaining('the attachment did not complete within 10 minutes'),
    });
    expect(w.cloud.callsTo('ec2:detachVolume').map((c) => c.input)).toEqual([{ VolumeId: newId, InstanceId: INSTANCE_ID, Force: true }]);
    expect(w.cloud.callsTo('ec2:deleteVolume').map((c) => c.input)).toEqual([{ VolumeId: newId }]);
    expect(w.cloud.volumes.get(newId as string)?.State).toBe('deleted');
    expect(stepsSent(w.cloud)).toEqual(['inspect']);
    expect(w.host.pvs.get(w.oldVolumeId)).toMatchObject({ allocatable: true, allocated: extents });
    expect(w.cloud.volumes.get(w.oldVolumeId)?.State).toBe('in-use');
    expectSafe(w, extents);
    expect(w.runner.published.at(-1)?.alert).toMatchObject({ id: expect.stringContaining('ended-rolled-back'), severity: 'medium' });
    expect(w.cloud.lockTable.size).toBe(0);
  });

  it('SSM agent offline: refused before any change, with the reason', async () => {
    const w = world();
    w.cloud.faults.agentOffline = true;
    const result = await w.runner.run(request(), 'mig-offline');

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Migration.Refused');
    expect(result.report).toMatchObject({ outcome: 'refused', newVolume: { volumeId: null, state: 'none' } });
    expect(result.report?.refusals).toEqual([`the SSM agent of ${INSTANCE_ID} is ConnectionLost, not Online; commands cannot reach it`]);
    expect(w.cloud.callsTo('ec2:createVolume')).toEqual([]);
    expect(w.cloud.callsTo('ec2:createSnapshot')).toEqual([]);
    expect(w.cloud.calls.filter((c) => c.api === 'ssm:sendCommand')).toEqual([]);
    expect(w.cloud.callsTo('dynamodb:putItem')).toEqual([]);
  });

  it('pvmove fails at 40 %: the move is aborted, extents go back, the new volume is released and deleted', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    w.host.faults.pvmoveIoErrorAtPercent = 40;
    const result = await w.runner.run(request(), 'mig-ioerror');

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Migration.RolledBack');
    const newId = newVolumeOf(w.cloud)[0]?.VolumeId as string;
    expect(result.report).toMatchObject({
      outcome: 'rolled-back',
      oldVolume: { volumeId: w.oldVolumeId, state: expect.stringContaining('in use') },
      newVolume: { volumeId: newId, state: 'deleted' },
      reason: expect.stringContaining('pvmove-start failed'),
    });
    // The move stopped at 40 %, the restart failed with the I/O error, the rollback ran (moving the copied extents
    // back in the background, re-run until it reported the new PV free).
    const steps = stepsSent(w.cloud);
    expect(steps.slice(0, 6)).toEqual(['inspect', 'prepare', 'pvmove-start', 'pvmove-status', 'pvmove-status', 'pvmove-start']);
    expect(steps.slice(6).length).toBeGreaterThanOrEqual(2);
    expect(new Set(steps.slice(6))).toEqual(new Set(['rollback']));
    expect(w.host.log.filter((l) => l.startsWith('rollback: in-progress')).length).toBe(steps.length - 7);
    const env = envFor(w.oldVolumeId, newId);
    expect(w.cloud.callsTo('ssm:sendCommand').at(-1)?.input).toEqual(sendCommand('rollback', env, 'mig-ioerror'));
    expect([...w.host.pvs.keys()]).toEqual([w.oldVolumeId]);
    expect(w.host.pvs.get(w.oldVolumeId)).toMatchObject({ allocatable: true, allocated: extents });
    expect(w.cloud.volumes.get(newId)?.State).toBe('deleted');
    expect(w.cloud.volumes.get(w.oldVolumeId)?.State).toBe('in-use');
    expectSafe(w, extents);
    expect(w.runner.published.map((p) => p.alert.id.split('#').pop())).toEqual(['started', 'ended-rolled-back']);
  });

  it('instance reboots mid-move: status polls go undelivered, then the move is resumed and completes', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    let statusPolls = 0;
    w.cloud.faults.beforeSendCommand = (step, cloud) => {
      if (step === 'pvmove-status' && ++statusPolls === 3) {
        cloud.host.reboot();
        cloud.agentAway = 2;
      }
    };
    const result = await w.runner.run(request(), 'mig-reboot');

    expect(result.status).toBe('SUCCEEDED');
    expect(result.report?.outcome).toBe('completed');
    // Two polls were not delivered; the next one found the move without a poller and pvmove-start resumed it.
    const steps = stepsSent(w.cloud);
    expect(steps.slice(0, 7)).toEqual(['inspect', 'prepare', 'pvmove-start', 'pvmove-status', 'pvmove-status', 'pvmove-status', 'pvmove-status']);
    expect(steps[7]).toBe('pvmove-status');
    expect(steps[8]).toBe('pvmove-start');
    expect(steps.slice(-2)).toEqual(['finish', 'grow']);
    const newId = newVolumeOf(w.cloud)[0]?.VolumeId as string;
    expect([...w.host.pvs.keys()]).toEqual([newId]);
    expect(w.host.log).toContain('pvmove-start: ok: resumed the interrupted pvmove');
    expectSafe(w, extents);
  });

  it('execution retried after a crash right after CreateVolume: the rerun finds its volume, no second one', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    w.runner.onTask = (state) => {
      if (state === 'Wait for new volume - describe') w.runner.crash();
    };
    const first = await w.runner.run(request(), 'mig-crash');
    expect(first.status).toBe('ABORTED');
    expect(newVolumeOf(w.cloud)).toHaveLength(1);
    // The crashed run still holds the lock: a different migration of this instance is refused meanwhile.
    expect(w.cloud.lockTable.size).toBe(1);

    w.runner.onTask = undefined;
    const retried = await w.runner.run(request(), 'mig-crash');
    expect(retried.status).toBe('SUCCEEDED');
    expect(retried.report?.outcome).toBe('completed');
    expect(newVolumeOf(w.cloud)).toHaveLength(1);
    expect(w.cloud.callsTo('ec2:createVolume')).toHaveLength(1);
    expect(w.cloud.snapshots.size).toBe(1);
    expect(retried.path).toContain('Reuse new volume');
    expect(retried.path).toContain('Reuse snapshot');
    expect(w.cloud.lockTable.size).toBe(0);
    expectSafe(w, extents);
  });

  it('a CreateVolume whose response is lost is retried with the same client token: one volume', async () => {
    const w = world();
    w.cloud.faults.createVolumeResponseLostOnce = true;
    const result = await w.runner.run(request(), 'mig-lost');

    expect(result.status).toBe('SUCCEEDED');
    const calls = w.cloud.calls.filter((c) => c.api === 'ec2:createVolume');
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.input.ClientToken)).toEqual([clientToken('mig-lost'), clientToken('mig-lost')]);
    expect(newVolumeOf(w.cloud)).toHaveLength(1);
  });

  it('grow in place: ModifyVolume, wait for optimizing, then pvresize + lvextend + filesystem grow', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    const result = await w.runner.run(request({ mode: 'grow-in-place', target: { volumeType: 'gp3', sizeGiB: 300 } }), 'mig-gip');

    expect(result.status).toBe('SUCCEEDED');
    expect(result.report).toMatchObject({ outcome: 'grown-in-place', oldVolume: { volumeId: w.oldVolumeId } });
    expect(w.cloud.callsTo('ec2:modifyVolume').map((c) => c.input)).toEqual([{ VolumeId: w.oldVolumeId, Size: 300, VolumeType: 'gp3' }]);
    expect(w.cloud.callsTo('ec2:createVolume')).toEqual([]);
    expect(w.cloud.callsTo('ssm:sendCommand').map((c) => c.input)).toEqual([
      sendCommand('inspect', { VG: 'datavg', OLD_VOLUME_ID: w.oldVolumeId }, 'mig-gip'),
      sendCommand(
        'grow-in-place',
        { VG: 'datavg', OLD_VOLUME_ID: w.oldVolumeId, LV: 'data', LV_SIZE: '100%FREE', POLL_INTERVAL: '15', OLD_DEVICE_NAME: '/dev/sdf' },
        'mig-gip',
      ),
    ]);
    expect(w.cloud.volumes.get(w.oldVolumeId)).toMatchObject({ Size: 300, VolumeType: 'gp3', State: 'in-use' });
    expect(w.host.pvs.get(w.oldVolumeId)?.peCount).toBe(Math.floor((300 * 1024 - 1) / 4));
    expect(w.host.lvExtents()).toBeGreaterThan(extents);
    expectSafe(w, extents);
  });
});

describe('migration workflow: longer and stranger paths', () => {
  it('hands a long move over to a continuation execution before the history limit, which completes it', async () => {
    const w = world();
    w.host.extentsPerPoll = Math.ceil(w.host.lvExtents() / 8);
    const first = await w.runner.run(request({ maxPollsPerExecution: 3 }), 'mig-long');

    expect(first.status).toBe('SUCCEEDED');
    expect(first.report).toMatchObject({ outcome: 'continued', continuedAs: expect.stringContaining('mig-long-c1') });
    expect(w.cloud.startedExecutions.map((e) => e.name)).toEqual(['mig-long-c1']);
    expect(w.cloud.lockTable.size).toBe(1);

    const next = w.cloud.startedExecutions[0];
    const second = await w.runner.run(next?.input, 'mig-long-c1');
    expect(second.report).toMatchObject({ outcome: 'continued', continuedAs: expect.stringContaining('mig-long-c2') });
    const third = await w.runner.run(w.cloud.startedExecutions[1]?.input, 'mig-long-c2');
    expect(third.status).toBe('SUCCEEDED');
    expect(third.report).toMatchObject({ outcome: 'completed', migrationId: 'mig-long', percent: 100 });
    // One volume, one CreateVolume: the continuations resumed the move, they did not start a migration.
    expect(w.cloud.callsTo('ec2:createVolume')).toHaveLength(1);
    expect(stepsSent(w.cloud).filter((s) => s === 'prepare')).toHaveLength(1);
    expect(w.cloud.lockTable.size).toBe(0);
    // 25/50/75 were each announced once across the three executions.
    expect(w.runner.published.map((p) => p.alert.id.split('#').pop())).toEqual([
      'started',
      'progress-25',
      'progress-50',
      'progress-75',
      'ended-completed',
    ]);
  });

  it('SSM agent lost during the move: paused with both volumes kept, then `resume` completes it', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    let polls = 0;
    w.cloud.faults.beforeSendCommand = (step, cloud) => {
      if (step === 'pvmove-status' && ++polls === 2) cloud.agentAway = 1000;
    };
    const paused = await w.runner.run(request(), 'mig-lost-agent');
    expect(paused.status).toBe('FAILED');
    expect(paused.error).toBe('Migration.Paused');
    expect(paused.report).toMatchObject({
      outcome: 'paused',
      reason: expect.stringContaining('did not answer 12 status polls'),
      newVolume: { state: 'in use: pvmove target' },
    });
    expect(w.cloud.callsTo('ec2:detachVolume')).toEqual([]);
    expect(w.cloud.callsTo('ec2:deleteVolume')).toEqual([]);

    w.cloud.agentAway = 0;
    w.cloud.faults.beforeSendCommand = undefined;
    const resumed = await w.runner.run(paused.report?.resume, 'resume-mig-lost-agent');
    expect(resumed.status).toBe('SUCCEEDED');
    expect(resumed.report).toMatchObject({ outcome: 'completed', migrationId: 'mig-lost-agent' });
    expect(w.cloud.callsTo('ec2:createVolume')).toHaveLength(1);
    expectSafe(w, extents);
  });

  it('an old volume that cannot be deleted leaves a completed migration that resume finishes', async () => {
    const w = world();
    w.cloud.faults.deleteDenied = w.oldVolumeId;
    const first = await w.runner.run(request(), 'mig-scp');
    expect(first.status).toBe('SUCCEEDED');
    expect(first.report).toMatchObject({
      outcome: 'completed-old-volume-left',
      oldVolume: { volumeId: w.oldVolumeId, state: 'removed from the volume group, not deleted' },
      reason: expect.stringContaining('DeleteVolume of the old volume failed (Ec2.Ec2Exception: You are not authorized'),
    });
    expect(w.cloud.volumes.get(w.oldVolumeId)?.State).toBe('available');

    w.cloud.faults.deleteDenied = undefined;
    const resumed = await w.runner.run(first.report?.resume, 'resume-mig-scp');
    expect(resumed.report).toMatchObject({ outcome: 'completed', oldVolume: { state: 'deleted' } });
    expect(w.cloud.volumes.get(w.oldVolumeId)?.State).toBe('deleted');
    expect(stepsSent(w.cloud).filter((s) => s === 'finish')).toHaveLength(1);
  });

  it('a rollback that cannot free the new volume keeps it (rollback-incomplete), and resume retries the rollback', async () => {
    const w = world();
    const extents = w.host.lvExtents();
    w.host.faults.pvmoveIoErrorAtPercent = 40;
    w.host.faults.newDiskHeld = true;
    const first = await w.runner.run(request(), 'mig-held');
    expect(first.error).toBe('Migration.RollbackIncomplete');
    const newId = newVolumeOf(w.cloud)[0]?.VolumeId as string;
    expect(first.report).toMatchObject({
      outcome: 'rollback-incomplete',
      newVolume: { volumeId: newId, state: 'kept: may still be part of the volume group' },
      reason: expect.stringContaining('then the rollback did not finish: rollback failed: new volume'),
    });
    // Never detached or deleted while the rollback had not proved it free.
    expect(w.cloud.callsTo('ec2:detachVolume')).toEqual([]);
    expect(w.cloud.volumes.get(newId)?.State).toBe('in-use');
    expect(w.runner.published.at(-1)?.alert.severity).toBe('high');

    w.host.faults.newDiskHeld = false;
    const resumed = await w.runner.run(first.report?.resume, 'resume-mig-held');
    expect(resumed.error).toBe('Migration.RolledBack');
    expect(w.cloud.volumes.get(newId)?.State).toBe('deleted');
    expect([...w.host.pvs.keys()]).toEqual([w.oldVolumeId]);
    expectSafe(w, extents);
  });

  it('refuses an old volume that holds / and changes nothing', async () => {
    const w = world();
    w.host.systemUses = ['/'];
    const result = await w.runner.run(request(), 'mig-root');
    expect(result.error).toBe('Migration.Refused');
    expect(result.report?.refusals).toEqual([`volume ${w.oldVolumeId} holds /; vigil does not move system volumes online`]);
    expect(w.cloud.callsTo('ec2:createVolume')).toEqual([]);
    expect(stepsSent(w.cloud)).toEqual(['inspect']);
    expect(w.cloud.lockTable.size).toBe(0);
  });

  it('refuses while another migration of the instance runs, and leaves its lock alone', async () => {
    const w = world();
    const other = executionArn('mig-other');
    w.cloud.executions.set(other, { status: 'RUNNING' });
    w.cloud.lockTable.set(`migration-lock#${INSTANCE_ID}`, { pk: { S: `migration-lock#${INSTANCE_ID}` }, migrationId: { S: 'mig-other' }, executionArn: { S: other } });
    const result = await w.runner.run(request(), 'mig-second');
    expect(result.error).toBe('Migration.Refused');
    expect(result.report?.reason).toContain(`another migration of this instance is running (${other})`);
    expect(w.cloud.lockTable.get(`migration-lock#${INSTANCE_ID}`)?.executionArn?.S).toBe(other);
    expect(stepsSent(w.cloud)).toEqual([]);
  });

  it('takes over the lock of a migration that ended without releasing it', async () => {
    const w = world();
    const stale = executionArn('mig-stopped');
    w.cloud.executions.set(stale, { status: 'ABORTED' });
    w.cloud.lockTable.set(`migration-lock#${INSTANCE_ID}`, { pk: { S: `migration-lock#${INSTANCE_ID}` }, migrationId: { S: 'mig-stopped' }, executionArn: { S: stale } });
    const result = await w.runner.run(request({ dryRun: true }), 'dry-takeover');
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report).toMatchObject({ outcome: 'dry-run', preflight: { allocatedMiB: 80 * 1024 } });
    expect(w.cloud.lockTable.size).toBe(0);
  });

  it('dry run: the read-only checks only', async () => {
    const w = world();
    const result = await w.runner.run(request({ dryRun: true }), 'dry-1');
    expect(result.report).toMatchObject({ outcome: 'dry-run', succeeded: true });
    expect(stepsSent(w.cloud)).toEqual(['inspect']);
    const mutating = w.cloud.calls.filter((c) => /ec2:(create|attach|detach|delete|modify)/.test(c.api));
    expect(mutating).toEqual([]);
  });

  it('a failed grow still completes the migration and says so (completed-not-grown)', async () => {
    const w = world();
    w.host.faults.growFails = true;
    const result = await w.runner.run(request(), 'mig-nogrow');
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report).toMatchObject({ outcome: 'completed-not-grown', reason: expect.stringContaining('grow failed') });
    expect(w.cloud.volumes.get(w.oldVolumeId)?.State).toBe('deleted');
  });

  it('invalid input is refused with every problem named', async () => {
    const w = world();
    const result = await w.runner.run({ instanceId: 'i-nope', volumeGroup: '-bad', target: { volumeType: 'st1', sizeGiB: 0 }, extra: 1 }, 'bad-input');
    expect(result.error).toBe('Migration.Refused');
    expect(result.report?.refusals).toEqual(
      expect.arrayContaining([expect.stringMatching(/^instanceId: /), expect.stringMatching(/^volumeGroup: /), expect.stringMatching(/^target\.volumeType: /)]),
    );
    expect(w.cloud.calls).toEqual([]);
  });
});
