import { LocalRunner } from './run';
import { SimCloud } from './sim-cloud';
import { SimInstance } from './sim-instance';

export const INSTANCE_ID = 'i-0123456789abcdef0';
export const AZ = 'eu-west-1b';

/**
 * The standard world of the scenarios: a running, opted-in, SSM-managed instance with a 100 GiB gp2 data volume at
 * /dev/sdf, tagged with its instance id, holding the volume group `datavg` with one 80 GiB xfs LV mounted at /data.
 * The pvmove copies a fifth of the extents per status poll.
 */
export function world(opts: { lvs?: ConstructorParameters<typeof SimInstance>[1]['lvs'] } = {}) {
  const host = new SimInstance('datavg', {
    lvs: opts.lvs ?? [{ name: 'data', fsType: 'xfs', mountpoint: '/data', sizeMiB: 80 * 1024 }],
  });
  const cloud = new SimCloud(host, { instanceId: INSTANCE_ID, az: AZ });
  const oldVolumeId = cloud.addAttachedVolume(100, '/dev/sdf', [
    { Key: 'Name', Value: 'data' },
    { Key: 'CostCenter', Value: '42' },
  ]);
  host.createVolumeGroupOn(oldVolumeId);
  host.extentsPerPoll = Math.ceil(host.lvExtents() / 5);
  return { host, cloud, oldVolumeId, runner: new LocalRunner(cloud) };
}

export const request = (extra: Record<string, unknown> = {}) => ({
  instanceId: INSTANCE_ID,
  volumeGroup: 'datavg',
  target: { volumeType: 'gp3', sizeGiB: 200 },
  ...extra,
});
