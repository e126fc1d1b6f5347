import type { LvmStep, LvmStepEnvInput } from '../../../shared/lvm/command';

/**
 * The disks of the VM test: EBS-style volume ids whose dashless form is the NVMe serial QEMU gives each disk,
 * exactly as on a Nitro instance. The state disk keeps the data manifest across a crash; it is not an EBS id.
 */
export const VOLUMES = {
  OLD: 'vol-0a1b2c3d4e5f60001',
  NEW: 'vol-0a1b2c3d4e5f60002',
  SMALL: 'vol-0a1b2c3d4e5f60003',
  SIG: 'vol-0a1b2c3d4e5f60004',
  SYS: 'vol-0a1b2c3d4e5f60005',
  GROW: 'vol-0a1b2c3d4e5f60006',
  STATE: 'vol-0ffffffffffff0007',
} as const;
export type VolumeKey = keyof typeof VOLUMES;

const { OLD, NEW, SMALL, SIG, SYS, GROW } = VOLUMES;
const data = { VG: 'datavg', OLD_VOLUME_ID: OLD, NEW_VOLUME_ID: NEW, POLL_INTERVAL: 2 };

/**
 * Every step invocation the guest scenarios make, by the name the guest calls it (/vigil/ssm/<name>.sh). The host
 * turns each into ssmCommands(step, env) output; nothing else of the scripts reaches the guest.
 */
export const SSM_INVOCATIONS: Record<string, readonly [LvmStep, LvmStepEnvInput]> = {
  inspect: ['inspect', { VG: 'datavg', OLD_VOLUME_ID: OLD, NEW_VOLUME_ID: NEW }],
  prepare: ['prepare', data],
  'pvmove-start': ['pvmove-start', data],
  'pvmove-status': ['pvmove-status', data],
  finish: ['finish', data],
  rollback: ['rollback', data],
  'grow-data': ['grow', { VG: 'datavg', LV: 'data', LV_SIZE: 512 }],
  'grow-logs': ['grow', { VG: 'datavg', LV: 'logs', LV_SIZE: '100%FREE' }],
  // Refusals: a target with a filesystem, a target smaller than the allocated extents, a source holding / and swap.
  'prepare-sig': ['prepare', { ...data, NEW_VOLUME_ID: SIG }],
  'prepare-small': ['prepare', { ...data, NEW_VOLUME_ID: SMALL }],
  'inspect-sys': ['inspect', { VG: 'sysvg', OLD_VOLUME_ID: SYS }],
  'prepare-sys': ['prepare', { VG: 'sysvg', OLD_VOLUME_ID: SYS, NEW_VOLUME_ID: NEW }],
  'grow-in-place': ['grow-in-place', { VG: 'growvg', OLD_VOLUME_ID: GROW, LV: 'data' }],
};

export interface DiskSpec {
  volume: VolumeKey;
  /** Size in MiB; a later boot may give a larger size (the image grows, as with ModifyVolume). */
  mib: number;
  /** Slow writes (QEMU throttling) so a move lasts long enough to be interrupted. */
  throttleWriteMiBps?: number;
}

export interface BootSpec {
  phase: number;
  disks: DiskSpec[];
  /** The boot ends with a deliberate hard reset instead of a power-off. */
  crashes?: boolean;
}

export interface ScenarioSpec {
  /** vigil.scenario in the guest; scenario_<name> in guest/scenarios.sh. */
  name: string;
  /** The verdicts (VIGIL-RESULT names) the boots must print, all PASS. */
  verdicts: string[];
  boots: BootSpec[];
}

/*
 * The boots. Disks are attached in a shuffled order on purpose, so kernel names (nvme0n1, ...) never match the
 * logical roles: a script that found disks by name or order instead of serial would pick the wrong one.
 */
export const SCENARIOS: ScenarioSpec[] = [
  {
    name: 'full',
    verdicts: ['refusals', 'full'],
    boots: [
      {
        phase: 1,
        disks: [
          { volume: 'SIG', mib: 64 },
          // Slow enough that the move is still running when pvmove-start is asked again.
          { volume: 'NEW', mib: 2048, throttleWriteMiBps: 32 },
          { volume: 'SYS', mib: 256 },
          { volume: 'OLD', mib: 1024 },
          { volume: 'SMALL', mib: 256 },
        ],
      },
    ],
  },
  {
    name: 'crash',
    verdicts: ['crash/1', 'crash/2'],
    boots: [
      {
        phase: 1,
        crashes: true,
        disks: [
          { volume: 'NEW', mib: 2048, throttleWriteMiBps: 16 },
          { volume: 'STATE', mib: 64 },
          { volume: 'OLD', mib: 1024 },
        ],
      },
      {
        phase: 2,
        // The same slow disk after the reboot, so the resumed move is still running when it is polled.
        disks: [
          { volume: 'OLD', mib: 1024 },
          { volume: 'NEW', mib: 2048, throttleWriteMiBps: 16 },
          { volume: 'STATE', mib: 64 },
        ],
      },
    ],
  },
  {
    name: 'rollback',
    verdicts: ['rollback'],
    boots: [
      {
        phase: 1,
        disks: [
          { volume: 'NEW', mib: 2048, throttleWriteMiBps: 16 },
          { volume: 'OLD', mib: 1024 },
        ],
      },
    ],
  },
  {
    name: 'grow',
    verdicts: ['grow/1', 'grow/2'],
    boots: [
      {
        phase: 1,
        disks: [
          { volume: 'STATE', mib: 64 },
          { volume: 'GROW', mib: 512 },
        ],
      },
      {
        phase: 2,
        disks: [
          { volume: 'GROW', mib: 1024 },
          { volume: 'STATE', mib: 64 },
        ],
      },
    ],
  },
];
