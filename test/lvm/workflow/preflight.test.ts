import { describe, expect, it } from 'vitest';
import { chooseDeviceName } from '../../../shared/lvm/device';
import { buildPlan, MigrationRequest, type MigrationRequestInput } from '../../../shared/lvm/plan';
import { checkInstance, checkVolumeGroup, type InstanceFacts, type Limits } from '../../../shared/lvm/preflight';
import type { StepOutcome } from '../../../shared/lvm/step-outcome';

const INSTANCE = 'i-0123456789abcdef0';
const OLD = 'vol-0aaaaaaaaaaaaaaa1';
const OTHER = 'vol-0aaaaaaaaaaaaaaa2';
const ROOT = 'vol-0aaaaaaaaaaaaaaa0';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:vigil-test-migration:mig-1';
const limits: Limits = { maxVolumeSizeGiB: 16_384, allowedVolumeTypes: ['gp3', 'gp2', 'io2'] };

const planOf = (extra: Partial<MigrationRequestInput> = {}) =>
  buildPlan(
    MigrationRequest.parse({ instanceId: INSTANCE, volumeGroup: 'datavg', target: { volumeType: 'gp3', sizeGiB: 200 }, ...extra }),
    { executionArn: ARN, executionName: 'mig-1' },
    new Date('2026-03-01T10:00:00Z'),
  );

const volume = (id: string, device: string, extra: Record<string, unknown> = {}) => ({
  VolumeId: id,
  Size: 100,
  VolumeType: 'gp2',
  State: 'in-use',
  Attachments: [{ InstanceId: INSTANCE, Device: device, State: 'attached' }],
  Tags: [{ Key: 'InstanceId', Value: INSTANCE }],
  ...extra,
});

function facts(over: { state?: string; tags?: { Key: string; Value: string }[]; ping?: string | null; volumes?: ReturnType<typeof volume>[] } = {}): InstanceFacts {
  const volumes = over.volumes ?? [volume(ROOT, '/dev/xvda', { Tags: [] }), volume(OLD, '/dev/sdf')];
  return {
    reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            State: { Name: over.state ?? 'running' },
            Placement: { AvailabilityZone: 'eu-west-1b' },
            RootDeviceName: '/dev/xvda',
            BlockDeviceMappings: volumes.flatMap((v) => v.Attachments.map((a) => ({ DeviceName: a.Device, Ebs: { VolumeId: v.VolumeId } }))),
            Tags: over.tags ?? [{ Key: 'vigil:lvm-migration', Value: 'enabled' }],
          },
        ],
      },
    ],
    ssm: over.ping === null ? [] : [{ InstanceId: INSTANCE, PingStatus: over.ping ?? 'Online', PlatformType: 'Linux' }],
    attachedVolumes: volumes,
    ownVolumes: [],
  } as InstanceFacts;
}

const pv = (volumeId: string, extra: Record<string, unknown> = {}) => ({
  device: '/dev/nvme1n1',
  volumeId,
  sizeMiB: 102_396,
  allocatedMiB: 81_920,
  freeMiB: 20_476,
  allocatable: true,
  isOld: volumeId === OLD,
  ...extra,
});
const lv = (name: string, fsType: string | null, mountpoint: string | null) => ({
  name,
  path: `/dev/datavg/${name}`,
  sizeMiB: 81_920,
  active: true,
  fsType,
  mountpoint,
  onOld: true,
});

function inspect(over: Record<string, unknown> = {}): StepOutcome {
  return {
    outcome: 'ok',
    step: 'inspect',
    result: {
      step: 'inspect',
      status: 'ok',
      message: 'volume group datavg',
      changed: false,
      vg: 'datavg',
      extentSizeMiB: 4,
      pvs: [pv(OLD)],
      lvs: [lv('data', 'xfs', '/data')],
      allocatedMiB: 81_920,
      freeMiB: 20_476,
      missingPvs: 0,
      pvmoveInProgress: false,
      pvmovePercent: null,
      oldDevice: '/dev/nvme1n1',
      oldPv: '/dev/nvme1n1',
      oldHoldsSystem: false,
      oldSystemUses: [],
      ...over,
    },
  };
}

const vgCheck = (plan = planOf(), f = facts(), out = inspect()) => checkVolumeGroup(plan, checkInstance(plan, f, limits), f, out);

describe('pre-flight: the instance', () => {
  it('passes a running, opted-in, SSM-managed instance and picks the only data volume and a free device', () => {
    const check = checkInstance(planOf(), facts(), limits);
    expect(check).toMatchObject({ ok: true, refusals: [], availabilityZone: 'eu-west-1b', device: '/dev/sdg', oldVolumeId: OLD });
    expect(check.inspectEnv).toEqual({ VG: 'datavg', OLD_VOLUME_ID: OLD });
  });

  it.each([
    ['not running', facts({ state: 'stopped' }), `instance ${INSTANCE} is stopped; a migration needs it running`],
    ['not SSM-managed', facts({ ping: null }), `instance ${INSTANCE} is not managed by SSM`],
    ['SSM agent offline', facts({ ping: 'ConnectionLost' }), 'is ConnectionLost, not Online'],
    ['not opted in', facts({ tags: [] }), 'aws ec2 create-tags --resources i-0123456789abcdef0 --tags Key=vigil:lvm-migration,Value=enabled'],
  ])('refuses an instance that is %s', (_what, f, message) => {
    const check = checkInstance(planOf(), f, limits);
    expect(check.ok).toBe(false);
    expect(check.refusals.join('\n')).toContain(message);
  });

  it('refuses the root volume as the old volume', () => {
    const check = checkInstance(planOf({ oldVolumeId: ROOT }), facts(), limits);
    expect(check.refusals).toContain(`volume ${ROOT} is the root volume of ${INSTANCE}; vigil does not move the root volume`);
  });

  it('refuses an old volume without its InstanceId tag, saying how to add it', () => {
    const f = facts({ volumes: [volume(ROOT, '/dev/xvda'), volume(OLD, '/dev/sdf', { Tags: [] })] });
    const check = checkInstance(planOf({ oldVolumeId: OLD }), f, limits);
    expect(check.refusals.join('\n')).toContain(`aws ec2 create-tags --resources ${OLD} --tags Key=InstanceId,Value=${INSTANCE}`);
  });

  it('refuses a multi-attached or unattached old volume', () => {
    const multi = facts({
      volumes: [volume(ROOT, '/dev/xvda'), volume(OLD, '/dev/sdf', { MultiAttachEnabled: true, VolumeType: 'io2' })],
    });
    expect(checkInstance(planOf({ oldVolumeId: OLD }), multi, limits).refusals.join()).toContain('multi-attached');
    expect(checkInstance(planOf({ oldVolumeId: OTHER }), facts(), limits).refusals).toEqual([`volume ${OTHER} is not attached to ${INSTANCE}`]);
  });

  it('refuses types and sizes beyond what this deployment allows', () => {
    const check = checkInstance(planOf({ target: { volumeType: 'io2', sizeGiB: 20_000, iops: 10_000 } }), facts(), {
      maxVolumeSizeGiB: 1024,
      allowedVolumeTypes: ['gp3'],
    });
    expect(check.refusals).toEqual([
      'volume type io2 is not allowed by this deployment (allowed: gp3)',
      '20000 GiB exceeds this deployment\'s maximum volume size of 1024 GiB',
    ]);
  });

  it('reuses the volume an earlier attempt of the same migration created, at its device', () => {
    const f = facts();
    f.ownVolumes = [{ ...volume('vol-0bbbbbbbbbbbbbbb1', '/dev/sdh'), Tags: [] } as never];
    const check = checkInstance(planOf(), f, limits);
    expect(check).toMatchObject({ ok: true, existingNewVolumeId: 'vol-0bbbbbbbbbbbbbbb1', device: '/dev/sdh' });
  });

  it('chooses a device name no mapping uses, treating sdX and xvdX as one slot', () => {
    expect(chooseDeviceName(['/dev/xvda', '/dev/sdf', '/dev/xvdg'])).toBe('/dev/sdh');
    expect(chooseDeviceName('fghijklmnop'.split('').map((c) => `/dev/sd${c}`))).toBeUndefined();
  });
});

describe('pre-flight: the volume group (from the inspect step)', () => {
  it('passes and builds the CreateVolume and CreateSnapshot requests and the step environment', () => {
    const check = vgCheck();
    expect(check).toMatchObject({ ok: true, grow: true, resuming: false, oldVolumeId: OLD });
    expect(check.env).toEqual({ VG: 'datavg', OLD_VOLUME_ID: OLD, LV: 'data', LV_SIZE: '100%FREE', POLL_INTERVAL: '15', OLD_DEVICE_NAME: '/dev/sdf' });
    expect(check.createVolume).toMatchObject({ AvailabilityZone: 'eu-west-1b', Size: 200, VolumeType: 'gp3', Encrypted: true });
    expect(check.createSnapshot).toMatchObject({ VolumeId: OLD, TagSpecifications: [{ ResourceType: 'snapshot' }] });
  });

  it('refuses an old volume that holds /, /boot or swap', () => {
    expect(vgCheck(planOf(), facts(), inspect({ oldHoldsSystem: true, oldSystemUses: ['/', 'swap'] })).refusals).toEqual([
      `volume ${OLD} holds /, swap; vigil does not move system volumes online`,
    ]);
    const swapLv = inspect({ lvs: [lv('data', 'xfs', '/data'), lv('swap', 'swap', null)] });
    expect(vgCheck(planOf({ grow: { lv: 'data' } }), facts(), swapLv).refusals).toEqual([
      `volume ${OLD} holds swap (swap); vigil does not move system volumes online`,
    ]);
  });

  it('refuses a new size smaller than the allocated extents, with the size that would do', () => {
    const check = vgCheck(planOf({ target: { volumeType: 'gp3', sizeGiB: 80 } }));
    expect(check.refusals).toEqual([`the new volume (80 GiB) is smaller than the 81920 MiB allocated on ${OLD}; it needs at least 81 GiB`]);
  });

  it('refuses to grow a filesystem other than ext4/xfs, and an ambiguous grow', () => {
    expect(vgCheck(planOf(), facts(), inspect({ lvs: [lv('data', 'btrfs', '/data')] })).refusals).toEqual([
      'logical volume data has a btrfs filesystem; vigil grows only ext4 and xfs online (choose another LV with --lv, or --no-grow)',
    ]);
    const two = inspect({ lvs: [lv('a', 'ext4', '/a'), lv('b', 'xfs', '/b')] });
    expect(vgCheck(planOf(), facts(), two).refusals[0]).toContain('datavg has 2 logical volumes (a, b); say which one to grow');
    expect(vgCheck(planOf({ grow: { lv: 'b' } }), facts(), two).ok).toBe(true);
    expect(vgCheck(planOf({ grow: false }), facts(), inspect({ lvs: [lv('data', 'btrfs', '/data')] })).ok).toBe(true);
  });

  it('refuses a VG whose other PVs are in an unexpected state, or with a move already running', () => {
    expect(vgCheck(planOf(), facts(), inspect({ pvs: [pv(OLD), pv(OTHER, { allocatable: false })] })).refusals[0]).toContain(
      `physical volume ${OTHER} of datavg has allocation disabled`,
    );
    expect(vgCheck(planOf(), facts(), inspect({ missingPvs: 1 })).refusals[0]).toContain('1 missing physical volume(s)');
    expect(vgCheck(planOf(), facts(), inspect({ pvmoveInProgress: true })).refusals).toEqual([
      'a pvmove is already running in datavg; let it finish (or resume the migration that started it) first',
    ]);
    expect(vgCheck(planOf(), facts(), inspect({ pvs: [pv(OLD, { allocatable: false })] })).refusals[0]).toContain('has allocation disabled (pvchange -x n)');
    const leftover = facts({ volumes: [volume(ROOT, '/dev/xvda'), volume(OLD, '/dev/sdf'), volume(OTHER, '/dev/sdh', { Tags: [{ Key: 'vigil:migration', Value: 'mig-0' }] })] });
    expect(vgCheck(planOf({ oldVolumeId: OLD }), leftover, inspect({ pvs: [pv(OLD), pv(OTHER)] })).refusals[0]).toContain('created by migration mig-0');
  });

  it('accepts the half-done VG of this same migration (a retried run resumes it)', () => {
    const f = facts();
    f.ownVolumes = [volume(OTHER, '/dev/sdg', { Tags: [{ Key: 'vigil:migration', Value: 'mig-1' }] }) as never];
    const check = vgCheck(planOf(), f, inspect({ pvs: [pv(OLD, { allocatable: false }), pv(OTHER)], pvmoveInProgress: true }));
    expect(check).toMatchObject({ ok: true, resuming: true });
  });

  it('asks for the old volume when the VG has several, and re-inspects once it found the only one', () => {
    const f = facts({ volumes: [volume(ROOT, '/dev/xvda'), volume(OLD, '/dev/sdf'), volume(OTHER, '/dev/sdh')] });
    const plan = planOf();
    const instance = checkInstance(plan, f, limits);
    expect(instance.oldVolumeId).toBeUndefined();
    expect(instance.inspectEnv).toEqual({ VG: 'datavg' });
    expect(checkVolumeGroup(plan, instance, f, inspect({ pvs: [pv(OLD), pv(OTHER)] })).refusals[0]).toContain('name the one to move with oldVolumeId (--old-volume)');
    const one = checkVolumeGroup(plan, instance, f, inspect({ pvs: [pv(OLD)] }));
    expect(one).toMatchObject({ ok: true, oldVolumeId: OLD, reinspectEnv: { VG: 'datavg', OLD_VOLUME_ID: OLD } });
  });

  it('turns a refused, failed or undelivered inspect into a refusal that says so', () => {
    expect(vgCheck(planOf(), facts(), { outcome: 'undeliverable', statusDetails: 'Delivery Timed Out' }).refusals[0]).toContain(
      'SSM could not deliver the inspect command',
    );
    expect(vgCheck(planOf(), facts(), { outcome: 'refused', result: { message: 'volume group datavg not found' } }).refusals).toEqual([
      'the inspect step refused: volume group datavg not found',
    ]);
    expect(vgCheck(planOf(), facts(), { outcome: 'failed', stderr: 'lvm: command not found' }).refusals[0]).toContain('lvm: command not found');
    expect(vgCheck(planOf(), facts(), inspect({ pvs: 'nope' })).refusals[0]).toContain('the inspect step printed an unexpected result');
  });

  it('grow in place: refuses to shrink, skips ModifyVolume when the volume already has the target', () => {
    const shrink = planOf({ mode: 'grow-in-place', target: { volumeType: 'gp2', sizeGiB: 50 } });
    expect(checkInstance(shrink, facts(), limits).refusals).toEqual([`EBS volumes cannot shrink: ${OLD} is 100 GiB, target 50 GiB`]);
    const same = planOf({ mode: 'grow-in-place', target: { volumeType: 'gp2', sizeGiB: 100 } });
    const check = vgCheck(same);
    expect(check).toMatchObject({ ok: true, modifyNeeded: false, createVolume: undefined });
    const bigger = vgCheck(planOf({ mode: 'grow-in-place', target: { volumeType: 'gp3', sizeGiB: 300, throughput: 250 } }));
    expect(bigger).toMatchObject({ modifyNeeded: true, modifyVolume: { VolumeId: OLD, Size: 300, VolumeType: 'gp3', Throughput: 250 } });
  });
});
