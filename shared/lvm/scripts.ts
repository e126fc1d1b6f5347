import { readFileSync } from 'node:fs';

/** The on-instance steps, one script each (`shared/lvm/scripts/<step>.sh`); the contract is shared/lvm/README.md. */
export const LVM_STEPS = [
  'inspect',
  'prepare',
  'pvmove-start',
  'pvmove-status',
  'finish',
  'grow',
  'rollback',
  'grow-in-place',
] as const;
export type LvmStep = (typeof LVM_STEPS)[number];
export type LvmScriptFile = 'lib.sh' | `${LvmStep}.sh`;

export const LVM_SCRIPT_FILES: readonly LvmScriptFile[] = ['lib.sh', ...LVM_STEPS.map((s) => `${s}.sh` as const)];

/*
 * How the scripts reach the code that sends them, in every way this module runs:
 * - From source (vitest, tsx, the CLI through bin/vigil.mjs) this module is a .ts file and the scripts are read
 *   from the directory beside it, so an edited script is used at once, with no build step.
 * - In a Lambda bundle the .ts file no longer exists, and esbuild's text loader (`loader: {'.sh': text}` in
 *   serverless.yml custom.esbuild) has inlined each script as a string module. The import() specifiers below are
 *   literal on purpose: esbuild bundles only what it can read statically, and a missing loader fails
 *   `serverless package` loudly instead of failing at run time. test/lvm/scripts.test.ts bundles this module with
 *   esbuild and checks that the bundle carries the same text.
 * Node, vitest and tsx never evaluate those import() calls (they could not load a .sh module).
 */
const bundled: Record<LvmScriptFile, () => Promise<{ default: string }>> = {
  'lib.sh': () => import('./scripts/lib.sh'),
  'inspect.sh': () => import('./scripts/inspect.sh'),
  'prepare.sh': () => import('./scripts/prepare.sh'),
  'pvmove-start.sh': () => import('./scripts/pvmove-start.sh'),
  'pvmove-status.sh': () => import('./scripts/pvmove-status.sh'),
  'finish.sh': () => import('./scripts/finish.sh'),
  'grow.sh': () => import('./scripts/grow.sh'),
  'rollback.sh': () => import('./scripts/rollback.sh'),
  'grow-in-place.sh': () => import('./scripts/grow-in-place.sh'),
};

const fromSource = import.meta.url.endsWith('.ts');

async function load(file: LvmScriptFile): Promise<string> {
  if (fromSource) return readFileSync(new URL(`./scripts/${file}`, import.meta.url), 'utf8');
  return (await bundled[file]()).default;
}

/** The text of every script, loaded once. */
export const LVM_SCRIPTS: Readonly<Record<LvmScriptFile, string>> = Object.freeze(
  Object.fromEntries(await Promise.all(LVM_SCRIPT_FILES.map(async (f) => [f, await load(f)] as const))) as Record<
    LvmScriptFile,
    string
  >,
);
