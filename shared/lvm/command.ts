import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { LVM_SCRIPTS, LVM_STEPS, type LvmStep } from './scripts';

export { LVM_STEPS, type LvmStep } from './scripts';

/*
 * The SSM side of the contract in shared/lvm/README.md: the exact `commands` parameter of AWS-RunShellScript for
 * one step. The SSM agent writes the commands, joined by newlines, to a script file and runs it with `sh`, so:
 *
 *   export VG='datavg'                      one line per variable, every value validated, then single-quoted;
 *   export OLD_VOLUME_ID='vol-…'            unused variables are exported empty, so nothing from the agent's
 *   …                                       environment can leak into a step
 *   bash -euo pipefail <<'VIGIL_LVM_EOF'    a quoted heredoc: the outer sh expands nothing inside it
 *   {                                       a brace group: bash parses the whole script before running any of it,
 *   <lib.sh>                                so a truncated delivery is a syntax error, never half a step; and
 *   <step>.sh                               stdin is /dev/null for the commands, which therefore cannot swallow
 *   } </dev/null                            the rest of the script that bash reads from the heredoc
 *   VIGIL_LVM_EOF
 *
 * The VM test (test/lvm/vm) runs this very output with `sh` against real LVM.
 */

export const HEREDOC_DELIMITER = 'VIGIL_LVM_EOF';

/** LVM's rule for VG and LV names (lvm(8) "Valid names"). */
const vgName = z
  .string()
  .regex(/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/, 'letters, digits, + _ . - (not starting with -), at most 127')
  .refine((v) => v !== '.' && v !== '..', 'must not be . or ..');
/** LV names also avoid the names and infixes LVM uses for its own sub-LVs. */
const lvName = vgName
  .refine((v) => v !== 'snapshot' && v !== 'pvmove', 'is reserved by LVM')
  .refine(
    (v) => !/_(?:cdata|cmeta|corig|iorig|mlog|mimage|pmspare|rimage|rmeta|tdata|tmeta|vorigin|vdata)/.test(v),
    'contains a suffix LVM reserves',
  );

export const VolumeId = z
  .string()
  .regex(/^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'an EBS volume id (vol- and 8 or 17 hex digits)');

/** `100%FREE`, or a size in MiB (a positive integer, as number or string). */
export const LvSize = z.union([
  z.literal('100%FREE'),
  z.number().int().min(1).max(999_999_999).transform(String),
  z.string().regex(/^[1-9][0-9]{0,8}$/, '100%FREE or a size in MiB'),
]);

const ec2DeviceName = z.string().regex(/^\/dev\/(?:sd|xvd)[a-z]{1,2}$/, 'an EC2 device name such as /dev/sdf');

/** Every variable a step may receive. The state machine passes the names exactly as the scripts read them. */
export const LvmStepEnv = z
  .object({
    VG: vgName,
    LV: z.union([lvName, z.literal('')]).optional(),
    OLD_VOLUME_ID: VolumeId.optional(),
    NEW_VOLUME_ID: VolumeId.optional(),
    LV_SIZE: LvSize.optional(),
    /** Seconds between the checks of a background pvmove (pvmove -i). */
    POLL_INTERVAL: z
      .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
      .pipe(z.number().int().min(1).max(9999))
      .optional(),
    /** Xen instances only (no NVMe serial): the EC2 attachment's device name of the old / new volume. */
    OLD_DEVICE_NAME: ec2DeviceName.optional(),
    NEW_DEVICE_NAME: ec2DeviceName.optional(),
  })
  .strict()
  .refine((e) => !e.OLD_VOLUME_ID || e.OLD_VOLUME_ID !== e.NEW_VOLUME_ID, 'OLD_VOLUME_ID and NEW_VOLUME_ID must differ');
export type LvmStepEnvInput = z.input<typeof LvmStepEnv>;
export type LvmStepEnvValues = z.output<typeof LvmStepEnv>;

export const LVM_ENV_KEYS = [
  'VG',
  'LV',
  'OLD_VOLUME_ID',
  'NEW_VOLUME_ID',
  'LV_SIZE',
  'POLL_INTERVAL',
  'OLD_DEVICE_NAME',
  'NEW_DEVICE_NAME',
] as const satisfies readonly (keyof LvmStepEnvValues)[];
export type LvmEnvKey = (typeof LVM_ENV_KEYS)[number];

/** What each step cannot run without; each script checks the same list in its `begin` line. */
export const LVM_STEP_REQUIRED_ENV: Readonly<Record<LvmStep, readonly LvmEnvKey[]>> = {
  inspect: ['VG'],
  prepare: ['VG', 'OLD_VOLUME_ID', 'NEW_VOLUME_ID'],
  'pvmove-start': ['VG', 'OLD_VOLUME_ID', 'NEW_VOLUME_ID'],
  'pvmove-status': ['VG', 'OLD_VOLUME_ID'],
  finish: ['VG', 'OLD_VOLUME_ID', 'NEW_VOLUME_ID'],
  grow: ['VG', 'LV'],
  rollback: ['VG', 'OLD_VOLUME_ID', 'NEW_VOLUME_ID'],
  'grow-in-place': ['VG', 'OLD_VOLUME_ID'],
};

/** POSIX single quoting: the value cannot end the quote, whatever it contains. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}

for (const [file, text] of Object.entries(LVM_SCRIPTS)) {
  // The heredoc would end early at such a line and the rest would run under sh: refuse to build at all.
  if (lines(text).some((l) => l.trim() === HEREDOC_DELIMITER)) {
    throw new Error(`shared/lvm/scripts/${file} contains the heredoc delimiter ${HEREDOC_DELIMITER} on a line of its own`);
  }
}

/**
 * The `commands` parameter of AWS-RunShellScript that runs one step on the instance. `env` holds the variables by
 * their script names (LVM_ENV_KEYS) and is validated here, whatever its static type.
 * @throws ValidationError when the step is unknown, a variable is invalid or unknown, or a required one is missing.
 */
export function ssmCommands(
  step: LvmStep,
  env: LvmStepEnvInput | Readonly<Record<string, string | number | undefined>>,
): string[] {
  const parsedStep = z.enum(LVM_STEPS).safeParse(step);
  if (!parsedStep.success) throw new ValidationError(`unknown LVM step "${String(step)}"; one of ${LVM_STEPS.join(', ')}`);
  const parsed = LvmStepEnv.safeParse(env);
  if (!parsed.success) {
    throw new ValidationError(`invalid environment for LVM step ${step}: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  const values = parsed.data;
  const missing = LVM_STEP_REQUIRED_ENV[step].filter((key) => !values[key]);
  if (missing.length > 0) throw new ValidationError(`LVM step ${step} needs ${missing.join(', ')}`);

  return [
    `# vigil LVM step ${step}: shared/lvm/scripts/lib.sh + ${step}.sh, contract in shared/lvm/README.md`,
    ...LVM_ENV_KEYS.map((key) => `export ${key}=${shellQuote(String(values[key] ?? ''))}`),
    `bash -euo pipefail <<'${HEREDOC_DELIMITER}'`,
    '{',
    ...lines(LVM_SCRIPTS['lib.sh']),
    ...lines(LVM_SCRIPTS[`${step}.sh`]),
    '} </dev/null',
    HEREDOC_DELIMITER,
  ];
}

/** The script file the SSM agent writes and runs with `sh`: the commands joined by newlines. */
export const ssmScript = (commands: readonly string[]): string => `${commands.join('\n')}\n`;
