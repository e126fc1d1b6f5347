import type { CreateSnapshotRequest, CreateVolumeRequest, ModifyVolumeRequest } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { chooseDeviceName } from './device';
import { Ec2Volume, Reservations, SsmInstanceInformation, tagValue, type Ec2Instance } from './facts';
import { INSTANCE_OPT_IN_TAG, type Plan, Tags, type VolumeType } from './plan';
import { InspectResult, type LvReport } from './step-result';
import type { StepOutcome } from './step-outcome';

/**
 * Pre-flight: the read-only checks that decide whether a migration may start. Pure functions of what the workflow
 * read (EC2 and SSM descriptions, the `inspect` step's JSON), so every refusal is unit-tested. A refusal always comes
 * with a sentence that says what is wrong and, where there is one, the command that fixes it.
 */

export interface Limits {
  maxVolumeSizeGiB: number;
  allowedVolumeTypes: readonly VolumeType[];
}

/** The grow step can grow these online (resize2fs, xfs_growfs); anything else is refused before a change. */
export const GROWABLE_FILESYSTEMS = ['ext4', 'xfs'] as const;
const SYSTEM_MOUNTS = ['/', '/boot', '/boot/efi', '/usr'];

/** LVM metadata and PE alignment need a little room on the new PV beyond the allocated extents. */
const PV_OVERHEAD_MIB = 8;

export const InstanceFacts = z.object({
  reservations: Reservations,
  ssm: z.array(SsmInstanceInformation),
  attachedVolumes: z.array(Ec2Volume),
  ownVolumes: z.array(Ec2Volume),
});
export type InstanceFacts = z.infer<typeof InstanceFacts>;

export const StepEnv = z.record(z.string(), z.string());
export type StepEnv = z.infer<typeof StepEnv>;

export const InstanceCheck = z.object({
  ok: z.boolean(),
  refusals: z.array(z.string()),
  warnings: z.array(z.string()),
  availabilityZone: z.string().optional(),
  rootDeviceName: z.string().optional(),
  device: z.string().optional(),
  /** The old volume when the request names it or the instance has exactly one data volume. */
  oldVolumeId: z.string().optional(),
  /** A volume this migration created in an earlier attempt of the same execution (redrive, crash). */
  existingNewVolumeId: z.string().optional(),
  inspectEnv: StepEnv,
});
export type InstanceCheck = z.infer<typeof InstanceCheck>;

const isRootVolume = (instance: Ec2Instance, volume: Ec2Volume): boolean => {
  const root = instance.RootDeviceName;
  if (!root) return false;
  if (instance.BlockDeviceMappings.some((m) => m.DeviceName === root && m.Ebs?.VolumeId === volume.VolumeId)) return true;
  return volume.Attachments.some((a) => a.InstanceId === instance.InstanceId && a.Device === root);
};

const attachedTo = (volume: Ec2Volume, instanceId: string): boolean =>
  volume.Attachments.some((a) => a.InstanceId === instanceId && a.State === 'attached');

const createTagsHint = (resource: string, key: string, value: string): string =>
  `aws ec2 create-tags --resources ${resource} --tags Key=${key},Value=${value}`;

/** Stage 1: the instance, its SSM agent, its volumes and the request's target, before anything runs on the instance. */
export function checkInstance(plan: Plan, facts: InstanceFacts, limits: Limits): InstanceCheck {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const { request, instanceId } = plan;
  const refuse = (message: string) => void refusals.push(message);
  const inspectEnv: StepEnv = { VG: plan.vg };

  if (!limits.allowedVolumeTypes.includes(request.target.volumeType)) {
    refuse(
      `volume type ${request.target.volumeType} is not allowed by this deployment (allowed: ${limits.allowedVolumeTypes.join(', ')})`,
    );
  }
  if (request.target.sizeGiB > limits.maxVolumeSizeGiB) {
    refuse(`${request.target.sizeGiB} GiB exceeds this deployment's maximum volume size of ${limits.maxVolumeSizeGiB} GiB`);
  }

  const instance = facts.reservations.flatMap((r) => r.Instances).find((i) => i.InstanceId === instanceId);
  if (!instance) {
    refuse(`instance ${instanceId} does not exist in ${plan.region}`);
    return { ok: false, refusals, warnings, inspectEnv };
  }
  if (instance.State.Name !== 'running') {
    refuse(`instance ${instanceId} is ${instance.State.Name}; a migration needs it running`);
  }
  if ((instance.Platform ?? '').toLowerCase() === 'windows') refuse(`instance ${instanceId} runs Windows; LVM needs Linux`);
  if (tagValue(instance.Tags, INSTANCE_OPT_IN_TAG.key) !== INSTANCE_OPT_IN_TAG.value) {
    refuse(
      `instance ${instanceId} has not opted in to migrations (the SSM permission requires the tag ` +
        `${INSTANCE_OPT_IN_TAG.key}=${INSTANCE_OPT_IN_TAG.value}): ` +
        createTagsHint(instanceId, INSTANCE_OPT_IN_TAG.key, INSTANCE_OPT_IN_TAG.value),
    );
  }

  const ssm = facts.ssm.find((s) => s.InstanceId === instanceId);
  if (!ssm) {
    refuse(
      `instance ${instanceId} is not managed by SSM (no SSM agent registered): install the agent and give the ` +
        'instance role the policy in docs/migration.md',
    );
  } else if (ssm.PingStatus !== 'Online') {
    refuse(`the SSM agent of ${instanceId} is ${ssm.PingStatus}, not Online; commands cannot reach it`);
  } else if (ssm.PlatformType && ssm.PlatformType !== 'Linux') {
    refuse(`instance ${instanceId} reports platform ${ssm.PlatformType} to SSM; LVM needs Linux`);
  }

  let oldVolumeId = request.oldVolumeId;
  const dataVolumes = facts.attachedVolumes.filter((v) => attachedTo(v, instanceId) && !isRootVolume(instance, v));
  if (oldVolumeId) {
    const old = facts.attachedVolumes.find((v) => v.VolumeId === oldVolumeId);
    if (!old || !attachedTo(old, instanceId)) {
      refuse(`volume ${oldVolumeId} is not attached to ${instanceId}`);
    } else {
      refusals.push(...checkOldVolume(plan, instance, old));
      inspectEnv.OLD_VOLUME_ID = oldVolumeId;
    }
  } else if (dataVolumes.length === 0) {
    refuse(`instance ${instanceId} has no EBS data volume attached besides its root volume`);
  } else if (dataVolumes.length === 1 && dataVolumes[0]) {
    // The only candidate; the inspect step confirms it is a PV of the volume group.
    oldVolumeId = dataVolumes[0].VolumeId;
    refusals.push(...checkOldVolume(plan, instance, dataVolumes[0]));
    inspectEnv.OLD_VOLUME_ID = oldVolumeId;
  }

  const own = facts.ownVolumes.filter((v) => !['deleting', 'deleted', 'error'].includes(v.State));
  if (own.length > 1) {
    refuse(
      `more than one volume carries this migration's tag (${own.map((v) => v.VolumeId).join(', ')}); ` +
        'delete the stray ones before retrying',
    );
  }
  const existingNewVolumeId = own[0]?.VolumeId;
  if (existingNewVolumeId) warnings.push(`reusing ${existingNewVolumeId}, created by an earlier attempt of this migration`);

  let device: string | undefined;
  if (plan.mode === 'migrate') {
    const ownAttachment = own[0]?.Attachments.find((a) => a.InstanceId === instanceId && a.Device);
    device = ownAttachment?.Device ?? chooseDeviceName(instance.BlockDeviceMappings.map((m) => m.DeviceName));
    if (!device) refuse(`instance ${instanceId} has no free device name in /dev/sd[f-p] to attach the new volume`);
  }

  return {
    ok: refusals.length === 0,
    refusals,
    warnings,
    availabilityZone: instance.Placement.AvailabilityZone,
    rootDeviceName: instance.RootDeviceName,
    device,
    oldVolumeId,
    existingNewVolumeId,
    inspectEnv,
  };
}

/** Rules on the volume to move off (or to grow in place). */
function checkOldVolume(plan: Plan, instance: Ec2Instance, old: Ec2Volume): string[] {
  const out: string[] = [];
  if (plan.mode === 'migrate' && isRootVolume(instance, old)) {
    out.push(`volume ${old.VolumeId} is the root volume of ${plan.instanceId}; vigil does not move the root volume`);
  }
  if (old.Attachments.length > 1 || old.MultiAttachEnabled) {
    out.push(`volume ${old.VolumeId} is multi-attached; detach it from the other instances first`);
  }
  if (tagValue(old.Tags, Tags.instanceId) !== plan.instanceId) {
    out.push(
      `volume ${old.VolumeId} must carry the tag ${Tags.instanceId}=${plan.instanceId} (the IAM policy lets the ` +
        `workflow detach, modify or delete only volumes tagged with their instance): ` +
        createTagsHint(old.VolumeId, Tags.instanceId, plan.instanceId),
    );
  }
  if (plan.mode === 'grow-in-place') {
    const t = plan.request.target;
    if (t.sizeGiB < old.Size) out.push(`EBS volumes cannot shrink: ${old.VolumeId} is ${old.Size} GiB, target ${t.sizeGiB} GiB`);
  }
  return out;
}

export const VolumeGroupCheck = z.object({
  ok: z.boolean(),
  refusals: z.array(z.string()),
  warnings: z.array(z.string()),
  /** Set when the old volume was found only now: run `inspect` again with OLD_VOLUME_ID so it reports what it holds. */
  reinspectEnv: StepEnv.optional(),
  oldVolumeId: z.string().optional(),
  /** The environment of every later step except NEW_VOLUME_ID (added once the volume exists). */
  env: StepEnv.optional(),
  grow: z.boolean(),
  /** A move already ran part-way for this same migration (redrive/re-run): prepare and pvmove-start resume it. */
  resuming: z.boolean(),
  createVolume: z.custom<CreateVolumeRequest>().optional(),
  createSnapshot: z.custom<CreateSnapshotRequest>().optional(),
  modifyVolume: z.custom<ModifyVolumeRequest>().optional(),
  /** grow-in-place: the volume already has the target size and type, so ModifyVolume is skipped. */
  modifyNeeded: z.boolean(),
  summary: z.record(z.string(), z.unknown()),
});
export type VolumeGroupCheck = z.infer<typeof VolumeGroupCheck>;

const fsOf = (lv: z.infer<typeof LvReport>): string => (lv.fsType ?? '').toLowerCase();
const holdsSystemLv = (lv: z.infer<typeof LvReport>): boolean => SYSTEM_MOUNTS.includes(lv.mountpoint ?? '') || fsOf(lv) === 'swap';

/** Stage 2: the volume group as the `inspect` step saw it. */
export function checkVolumeGroup(
  plan: Plan,
  instanceCheck: InstanceCheck,
  facts: InstanceFacts,
  inspectOutcome: StepOutcome,
): VolumeGroupCheck {
  const refusals: string[] = [];
  const warnings = [...instanceCheck.warnings];
  const { request, instanceId, vg } = plan;
  const refuse = (message: string) => void refusals.push(message);
  const notOk = (): VolumeGroupCheck => ({
    ok: false,
    refusals,
    warnings,
    grow: false,
    resuming: false,
    modifyNeeded: false,
    summary: {},
  });

  switch (inspectOutcome.outcome) {
    case 'undeliverable':
      refuse(
        `SSM could not deliver the inspect command to ${instanceId} (${inspectOutcome.statusDetails ?? inspectOutcome.status ?? 'agent unreachable'}); ` +
          'check that the SSM agent is running',
      );
      return notOk();
    case 'failed':
      refuse(`the inspect step failed on ${instanceId}: ${tail(inspectOutcome.stderr) || inspectOutcome.status || 'no output'}`);
      return notOk();
    case 'refused':
      refuse(`the inspect step refused: ${messageOf(inspectOutcome.result) || 'no reason given'}`);
      return notOk();
    case 'ok':
      break;
  }
  const parsed = InspectResult.safeParse(inspectOutcome.result);
  if (!parsed.success) {
    refuse(`the inspect step printed an unexpected result: ${z.prettifyError(parsed.error)}`);
    return notOk();
  }
  const { pvs, lvs, allocatedMiB, pvmoveInProgress } = parsed.data;
  if (!pvs || !lvs || allocatedMiB === undefined || pvmoveInProgress === undefined) {
    refuse('the inspect step reported success without the volume group fields (pvs, lvs, allocatedMiB, pvmoveInProgress)');
    return notOk();
  }
  const inspect = { ...parsed.data, pvs, lvs, allocatedMiB, pvmoveInProgress };
  const instance = facts.reservations.flatMap((r) => r.Instances).find((i) => i.InstanceId === instanceId);
  const ownIds = new Set(facts.ownVolumes.map((v) => v.VolumeId));

  // Resolve the old volume: named, the only data volume, or the only PV of the VG.
  let oldVolumeId = instanceCheck.oldVolumeId;
  if (!oldVolumeId) {
    const candidates = inspect.pvs.filter((pv) => pv.volumeId && !ownIds.has(pv.volumeId));
    if (candidates.length !== 1 || !candidates[0]?.volumeId) {
      refuse(
        `volume group ${vg} has ${candidates.length} EBS physical volumes (${candidates.map((p) => p.volumeId).join(', ') || 'none'}); ` +
          'name the one to move with oldVolumeId (--old-volume)',
      );
      return notOk();
    }
    oldVolumeId = candidates[0].volumeId;
    const old = facts.attachedVolumes.find((v) => v.VolumeId === oldVolumeId);
    if (!old || !instance) {
      refuse(`volume ${oldVolumeId} (a PV of ${vg}) is not attached to ${instanceId} as EBS`);
      return notOk();
    }
    const problems = checkOldVolume(plan, instance, old);
    if (problems.length > 0) {
      refusals.push(...problems);
      return notOk();
    }
    return { ...notOk(), ok: true, refusals: [], oldVolumeId, reinspectEnv: { VG: vg, OLD_VOLUME_ID: oldVolumeId } };
  }

  const oldPv = inspect.pvs.find((pv) => pv.volumeId === oldVolumeId);
  if (!oldPv) {
    refuse(`volume ${oldVolumeId} is not a physical volume of ${vg} (its PVs: ${inspect.pvs.map((p) => p.volumeId ?? p.device).join(', ')})`);
    return notOk();
  }
  const newPv = inspect.pvs.find((pv) => pv.volumeId && ownIds.has(pv.volumeId));
  const resuming = plan.mode === 'migrate' && newPv !== undefined;

  if ((inspect.missingPvs ?? 0) > 0) refuse(`volume group ${vg} has ${inspect.missingPvs} missing physical volume(s); repair it first`);
  for (const pv of inspect.pvs) {
    if (pv === oldPv || pv === newPv) continue;
    const label = pv.volumeId ?? pv.device ?? 'a PV';
    if (pv.allocatable === false) {
      refuse(`physical volume ${label} of ${vg} has allocation disabled (left by an unfinished migration?); check with pvs`);
    } else {
      const other = facts.attachedVolumes.find((v) => v.VolumeId === pv.volumeId);
      const otherMigration = other ? tagValue(other.Tags, Tags.migration) : undefined;
      if (otherMigration) {
        refuse(`physical volume ${label} of ${vg} was created by migration ${otherMigration}, which did not finish; resume or roll it back first`);
      }
    }
  }
  if (plan.mode === 'migrate' && !resuming) {
    if (oldPv.allocatable === false) {
      refuse(`physical volume ${oldVolumeId} has allocation disabled (pvchange -x n): a previous migration did not finish; check with pvs`);
    }
    if (inspect.pvmoveInProgress) {
      refuse(`a pvmove is already running in ${vg}; let it finish (or resume the migration that started it) first`);
    }
  }
  if (plan.mode === 'grow-in-place' && inspect.pvmoveInProgress) {
    refuse(`a pvmove is running in ${vg}; grow in place after it has finished`);
  }

  if (plan.mode === 'migrate') {
    const system = [
      ...new Set([
        ...(inspect.oldSystemUses ?? (inspect.oldHoldsSystem ? ['system filesystems'] : [])),
        ...inspect.lvs.filter((lv) => lv.onOld !== false && holdsSystemLv(lv)).map(describeSystemLv),
      ]),
    ];
    if (system.length > 0) {
      refuse(`volume ${oldVolumeId} holds ${system.join(', ')}; vigil does not move system volumes online`);
    }
    const neededMiB = oldPv.allocatedMiB;
    const newMiB = request.target.sizeGiB * 1024;
    if (newMiB - PV_OVERHEAD_MIB < neededMiB) {
      const minGiB = Math.ceil((neededMiB + PV_OVERHEAD_MIB) / 1024);
      refuse(
        `the new volume (${request.target.sizeGiB} GiB) is smaller than the ${neededMiB} MiB allocated on ${oldVolumeId}; it needs at least ${minGiB} GiB`,
      );
    }
  }

  // The grow steps take one LV: the named one, or the VG's only LV.
  const grow = request.grow !== false;
  const growSpec = request.grow === false ? { lv: '', size: '100%FREE' as const } : { ...request.grow };
  if (grow) {
    if (!growSpec.lv) {
      if (inspect.lvs.length === 1 && inspect.lvs[0]) growSpec.lv = inspect.lvs[0].name;
      else {
        refuse(
          `${vg} has ${inspect.lvs.length} logical volumes (${inspect.lvs.map((l) => l.name).join(', ') || 'none'}); ` +
            'say which one to grow (grow.lv / --lv) or do not grow (--no-grow)',
        );
      }
    }
    const targets = inspect.lvs.filter((lv) => lv.name === growSpec.lv);
    if (growSpec.lv && targets.length === 0) {
      refuse(`logical volume ${growSpec.lv} is not in ${vg} (its LVs: ${inspect.lvs.map((l) => l.name).join(', ') || 'none'})`);
    }
    for (const lv of targets) {
      const fs = fsOf(lv);
      if (!(GROWABLE_FILESYSTEMS as readonly string[]).includes(fs)) {
        refuse(
          `logical volume ${lv.name} has ${fs ? `a ${fs} filesystem` : 'no filesystem'}; vigil grows only ext4 and xfs online ` +
            '(choose another LV with --lv, or --no-grow)',
        );
      }
    }
  }

  const old = facts.attachedVolumes.find((v) => v.VolumeId === oldVolumeId);
  let modifyNeeded = false;
  let modifyVolume: ModifyVolumeRequest | undefined;
  if (plan.mode === 'grow-in-place' && old) {
    const t = request.target;
    modifyNeeded =
      t.sizeGiB > old.Size ||
      t.volumeType !== old.VolumeType ||
      (t.iops !== undefined && t.iops !== old.Iops) ||
      (t.throughput !== undefined && t.throughput !== old.Throughput);
    modifyVolume = {
      VolumeId: old.VolumeId,
      Size: t.sizeGiB,
      VolumeType: t.volumeType,
      ...(t.iops !== undefined ? { Iops: t.iops } : {}),
      ...(t.throughput !== undefined ? { Throughput: t.throughput } : {}),
    };
    if (!modifyNeeded) warnings.push(`${old.VolumeId} already has the target size and type; only the LVM and filesystem grow run`);
  }

  const env: StepEnv = {
    VG: vg,
    OLD_VOLUME_ID: oldVolumeId,
    LV: growSpec.lv,
    LV_SIZE: String(growSpec.size),
    POLL_INTERVAL: '15',
    ...ec2DeviceName('OLD_DEVICE_NAME', old, instanceId),
  };
  const ok = refusals.length === 0;
  return {
    ok,
    refusals,
    warnings,
    oldVolumeId,
    env,
    grow,
    resuming,
    modifyNeeded,
    createVolume: ok && plan.mode === 'migrate' ? createVolumeRequest(plan, instanceCheck, old) : undefined,
    createSnapshot: ok && plan.mode === 'migrate' && request.snapshotOldVolume ? createSnapshotRequest(plan, oldVolumeId) : undefined,
    modifyVolume: ok ? modifyVolume : undefined,
    summary: {
      oldVolume: old ? { id: old.VolumeId, sizeGiB: old.Size, type: old.VolumeType } : { id: oldVolumeId },
      allocatedMiB: oldPv.allocatedMiB,
      lvs: inspect.lvs.map((lv) => ({ name: lv.name, sizeMiB: lv.sizeMiB ?? null, fsType: lv.fsType ?? null, mountpoint: lv.mountpoint ?? null })),
      ...(resuming ? { resumingWith: newPv?.volumeId } : {}),
    },
  };
}

/**
 * The EC2 attachment name lets the scripts find a disk on Xen instances, which have no NVMe serial (the scripts use
 * it only when the instance has no NVMe disk at all). Only names of the /dev/sdX and /dev/xvdX form qualify.
 */
export const ec2DeviceName = (key: string, volume: Ec2Volume | undefined, instanceId: string): StepEnv => {
  const device = volume?.Attachments.find((a) => a.InstanceId === instanceId)?.Device;
  return device && /^\/dev\/(sd|xvd)[a-z]{1,2}$/.test(device) ? { [key]: device } : {};
};

const describeSystemLv = (lv: z.infer<typeof LvReport>): string => (fsOf(lv) === 'swap' ? `swap (${lv.name})` : `${lv.mountpoint} (${lv.name})`);

/** User tags of the old volume carry over (backup and cost policies select volumes by tag); vigil's own win. */
function carriedTags(old: Ec2Volume | undefined, own: { Key: string; Value: string }[]): { Key: string; Value: string }[] {
  const ownKeys = new Set(own.map((t) => t.Key));
  const carried = (old?.Tags ?? []).filter((t) => !t.Key.startsWith('aws:') && !t.Key.startsWith('vigil:') && !ownKeys.has(t.Key));
  return [...own, ...carried].slice(0, 50);
}

export function createVolumeRequest(plan: Plan, instanceCheck: InstanceCheck, old: Ec2Volume | undefined): CreateVolumeRequest {
  const t = plan.request.target;
  const own = [
    ...plan.tags,
    { Key: Tags.role, Value: 'migration-target' },
    ...(old && !old.Tags.some((tag) => tag.Key === 'Name') ? [{ Key: 'Name', Value: `${plan.vg} (vigil migration)` }] : []),
  ];
  return {
    AvailabilityZone: instanceCheck.availabilityZone,
    Size: t.sizeGiB,
    VolumeType: t.volumeType,
    ...(t.iops !== undefined ? { Iops: t.iops } : {}),
    ...(t.throughput !== undefined ? { Throughput: t.throughput } : {}),
    Encrypted: true,
    ...(t.kmsKeyId ? { KmsKeyId: t.kmsKeyId } : {}),
    ClientToken: plan.clientToken,
    TagSpecifications: [{ ResourceType: 'volume', Tags: carriedTags(old, own) }],
  };
}

export function createSnapshotRequest(plan: Plan, oldVolumeId: string): CreateSnapshotRequest {
  return {
    VolumeId: oldVolumeId,
    Description: `vigil: ${oldVolumeId} before migrating ${plan.vg} of ${plan.instanceId} (${plan.migrationId})`.slice(0, 255),
    TagSpecifications: [
      { ResourceType: 'snapshot', Tags: [...plan.tags, { Key: Tags.role, Value: 'pre-migration-snapshot' }] },
    ],
  };
}

const messageOf = (result: unknown): string =>
  result && typeof result === 'object' && 'message' in result ? String((result as { message: unknown }).message) : '';

const tail = (text: string | undefined, max = 400): string => {
  const t = (text ?? '').trim();
  return t.length <= max ? t : `…${t.slice(-max)}`;
};
