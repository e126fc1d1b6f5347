import { z } from 'zod';
import { ValidationError } from '../core/errors';

/*
 * The JSON object each on-instance step prints on stdout (shared/lvm/README.md). Step-specific fields are optional
 * because a refusal or a failure stops a step before it has them; the objects are strict so that a field a script
 * renames or misspells fails the VM test instead of silently reaching the state machine as `undefined`.
 */

export const LvmStepStatus = z.enum(['ok', 'noop', 'in-progress', 'refused', 'failed']);
export type LvmStepStatus = z.infer<typeof LvmStepStatus>;

const mib = z.number().int().nonnegative();
const base = {
  status: LvmStepStatus,
  message: z.string(),
  /** Whether this run changed anything (LVM metadata, data placement, a filesystem size). */
  changed: z.boolean(),
  /** The vgcfgbackup taken before this run's first change (on the instance). */
  backupFile: z.string().optional(),
};

export const PvReport = z
  .object({
    device: z.string(),
    volumeId: z.string().nullable(),
    sizeMiB: mib,
    allocatedMiB: mib,
    freeMiB: mib,
    allocatable: z.boolean(),
    isOld: z.boolean(),
  })
  .strict();

export const LvReport = z
  .object({
    name: z.string(),
    path: z.string(),
    sizeMiB: mib,
    active: z.boolean(),
    fsType: z.string().nullable(),
    mountpoint: z.string().nullable(),
    onOld: z.boolean(),
  })
  .strict();

export const GrownLvReport = z
  .object({ name: z.string(), sizeMiB: mib, fsType: z.string(), mountpoint: z.string(), fsSizeMiB: mib })
  .strict();

const strings = z.array(z.string());

export const InspectResult = z
  .object({
    step: z.literal('inspect'),
    ...base,
    vg: z.string().optional(),
    extentSizeMiB: mib.optional(),
    pvs: z.array(PvReport).optional(),
    lvs: z.array(LvReport).optional(),
    allocatedMiB: mib.optional(),
    freeMiB: mib.optional(),
    missingPvs: mib.optional(),
    pvmoveInProgress: z.boolean().optional(),
    pvmovePercent: z.number().nullable().optional(),
    oldDevice: z.string().optional(),
    oldPv: z.string().nullable().optional(),
    oldHoldsSystem: z.boolean().optional(),
    oldSystemUses: strings.optional(),
    newDevice: z.string().nullable().optional(),
    newDeviceSizeMiB: mib.optional(),
    newDeviceSignatures: strings.optional(),
    newDeviceCapacityMiB: z.number().int().optional(),
  })
  .strict();

export const PrepareResult = z
  .object({
    step: z.literal('prepare'),
    ...base,
    oldDevice: z.string().optional(),
    newDevice: z.string().optional(),
    oldPv: z.string().nullable().optional(),
    newPv: z.string().optional(),
    allocatedMiB: mib.optional(),
    newCapacityMiB: z.number().int().optional(),
  })
  .strict();

const moveProgress = {
  inProgress: z.boolean().optional(),
  percent: z.number().nullable().optional(),
  remainingExtents: mib.optional(),
  done: z.boolean().optional(),
};

export const PvmoveStartResult = z
  .object({
    step: z.literal('pvmove-start'),
    ...base,
    ...moveProgress,
    started: z.boolean().optional(),
    resumed: z.boolean().optional(),
  })
  .strict();

export const PvmoveStatusResult = z
  .object({
    step: z.literal('pvmove-status'),
    ...base,
    ...moveProgress,
    remainingMiB: mib.optional(),
    direction: z.enum(['forward', 'rollback']).nullable().optional(),
  })
  .strict();

export const FinishResult = z
  .object({
    step: z.literal('finish'),
    ...base,
    oldDevice: z.string().nullable().optional(),
    oldDeviceFree: z.boolean().optional(),
    oldDeviceUsers: strings.optional(),
  })
  .strict();

export const GrowResult = z
  .object({ step: z.literal('grow'), ...base, lvs: z.array(GrownLvReport).optional() })
  .strict();

export const RollbackResult = z
  .object({
    step: z.literal('rollback'),
    ...base,
    newDevice: z.string().nullable().optional(),
    aborted: z.boolean().optional(),
    movingBack: z.boolean().optional(),
    percent: z.number().nullable().optional(),
    newDeviceFree: z.boolean().optional(),
    newDeviceUsers: strings.optional(),
  })
  .strict();

export const GrowInPlaceResult = z
  .object({
    step: z.literal('grow-in-place'),
    ...base,
    device: z.string().optional(),
    pvResized: z.boolean().optional(),
    pvSizeMiB: mib.optional(),
    deviceSizeMiB: mib.optional(),
    lvs: z.array(GrownLvReport).optional(),
  })
  .strict();

export const LvmStepResult = z.discriminatedUnion('step', [
  InspectResult,
  PrepareResult,
  PvmoveStartResult,
  PvmoveStatusResult,
  FinishResult,
  GrowResult,
  RollbackResult,
  GrowInPlaceResult,
]);
export type LvmStepResult = z.infer<typeof LvmStepResult>;

/** The exit code that goes with each status: 0 done, 3 refused (nothing changed), anything else failed. */
export function statusMatchesExitCode(status: LvmStepStatus, exitCode: number): boolean {
  if (status === 'refused') return exitCode === 3;
  if (status === 'failed') return exitCode !== 0 && exitCode !== 3;
  return exitCode === 0;
}

/**
 * Parses what a step printed: stdout must be exactly one JSON object of the contract, consistent with the exit
 * code. A failed step may print nothing (the shell died before the script ran); that is a ValidationError too.
 */
export function parseLvmStepOutput(stdout: string, exitCode: number): LvmStepResult {
  const text = stdout.trim();
  if (text === '' || text.includes('\n')) {
    throw new ValidationError(`LVM step (exit ${exitCode}) printed ${text === '' ? 'nothing' : 'more than one line'} on stdout`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`LVM step (exit ${exitCode}) printed invalid JSON on stdout`, { cause: err });
  }
  const parsed = LvmStepResult.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError(`LVM step result does not match the contract: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  if (!statusMatchesExitCode(parsed.data.status, exitCode)) {
    throw new ValidationError(`LVM step ${parsed.data.step} reported status ${parsed.data.status} with exit code ${exitCode}`);
  }
  return parsed.data;
}
