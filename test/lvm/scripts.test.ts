import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LVM_STEP_REQUIRED_ENV, ssmCommands, ssmScript } from '../../shared/lvm/command';
import { LVM_SCRIPT_FILES, LVM_SCRIPTS, LVM_STEPS } from '../../shared/lvm/scripts';
import { ensureDebianPackages } from './vm/host-packages';

/*
 * Hygiene of the on-instance scripts, without a VM (plain `npm test`): syntax, shellcheck on exactly what bash runs
 * (lib.sh followed by the step), the documented header of every step, and the JSON/exit-code discipline of lib.sh
 * run for real on the host (its helpers only; no LVM command runs here). The real-LVM proof is `npm run test:lvm`.
 */

const run = promisify(execFile);
const scriptsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/lvm/scripts');
const guestDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'vm/guest');

/** What bash really executes for a step: lib.sh, then the step (command.ts feeds both through one heredoc). */
const combined = (step: string) => LVM_SCRIPTS['lib.sh'] + LVM_SCRIPTS[`${step}.sh` as keyof typeof LVM_SCRIPTS];

async function shellcheck(args: string[], input?: string): Promise<string> {
  return new Promise((resolve) => {
    const r = spawnSync('shellcheck', args, { input, encoding: 'utf8' });
    resolve(`${r.stdout}${r.stderr}`.trim());
  });
}

beforeAll(async () => {
  await ensureDebianPackages(['shellcheck', 'dash']);
}, 300_000);

describe('LVM scripts: syntax and shellcheck', () => {
  it.each(LVM_SCRIPT_FILES)('%s parses with bash -n', async (file) => {
    await expect(run('bash', ['-n', path.join(scriptsDir, file)])).resolves.toBeDefined();
  });

  // SC2317/SC2034: a step uses only part of lib.sh, so "unreachable function" and "unused variable" are expected.
  it.each(LVM_STEPS)('lib.sh + %s.sh passes shellcheck (all severities)', async (step) => {
    expect(await shellcheck(['-s', 'bash', '-S', 'style', '-e', 'SC2317,SC2034', '-'], combined(step))).toBe('');
  });

  it('the VM guest driver passes shellcheck at warning level', async () => {
    const files = ['driver.sh', 'scenarios.sh'].map((f) => path.join(guestDir, f));
    expect(await shellcheck(['-s', 'bash', '-S', 'warning', '-x', ...files])).toBe('');
  });

  it.each(LVM_STEPS)('the SSM command file of %s parses with dash and bash, and shellcheck -s sh accepts it', async (step) => {
    const env = { VG: 'datavg', LV: 'data', OLD_VOLUME_ID: 'vol-0123456789abcdef0', NEW_VOLUME_ID: 'vol-0123456789abcdef1' };
    const script = ssmScript(ssmCommands(step, env));
    for (const shell of ['dash', 'bash']) {
      const r = spawnSync(shell, ['-n'], { input: script, encoding: 'utf8' });
      expect(r.status, `${shell}: ${r.stderr}`).toBe(0);
    }
    expect(await shellcheck(['-s', 'sh', '-'], script)).toBe('');
  });
});

describe('LVM scripts: documented and consistent with command.ts', () => {
  it.each(LVM_STEPS)('%s.sh starts with a header naming the step, its guards and its refusals', (step) => {
    const header = LVM_SCRIPTS[`${step}.sh`].split('\n').filter((l) => l.startsWith('#')).join('\n');
    expect(header).toContain(`# Step ${step} — `);
    expect(header).toMatch(/^# Guards\b/m);
    expect(header).toMatch(/^# Refusals\b/m);
    expect(header).toMatch(/^# Env:/m);
  });

  it.each(LVM_STEPS)('the begin line of %s.sh requires exactly what command.ts requires', (step) => {
    const begin = LVM_SCRIPTS[`${step}.sh`].split('\n').find((l) => l.startsWith('begin '));
    expect(begin?.split(/\s+/)).toEqual(['begin', step, ...LVM_STEP_REQUIRED_ENV[step]]);
  });

  it('every changing LVM command in a step goes through change(), which backs the VG up first', () => {
    const mutating = /^\s*(?:pvcreate|vgextend|pvchange|vgreduce|pvremove|lvextend|pvresize|pvmove|vgcfgrestore)\b/;
    for (const file of LVM_SCRIPT_FILES) {
      const bare = LVM_SCRIPTS[file]
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('#'))
        .filter((l) => mutating.test(l) && !/pvmove -b -i "\$POLL_INTERVAL"/.test(l));
      expect(bare, file).toEqual([]);
    }
  });

  it('no LVM command is ever forced', () => {
    for (const file of LVM_SCRIPT_FILES) {
      const code = LVM_SCRIPTS[file]
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('#'))
        .join('\n');
      expect(code, file).not.toMatch(/\b(?:pvcreate|pvremove|vgreduce|lvextend|pvmove|vgextend)\b[^\n]*\s-(?:f|ff|y)\b/);
      expect(code, file).not.toMatch(/--(?:force|yes)\b/);
    }
  });
});

describe('lib.sh result discipline, run on the host', () => {
  /** Runs lib.sh followed by SNIPPET in bash, as a step would run; returns exit code, stdout and stderr. */
  const runLib = (snippet: string, env: Record<string, string> = {}) => {
    const r = spawnSync('bash', ['-euo', 'pipefail'], {
      input: `${LVM_SCRIPTS['lib.sh']}\nSTEP=inspect\n${snippet}\n`,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    });
    return { rc: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const nasty = 'quote " backslash \\ tab \t newline \n bell \u0007 del \u007f unicode é ✓';

  it('writes exactly one JSON object on stdout, escaping every character, and nothing else', () => {
    const r = runLib('field_str text "$NASTY"; field_int n 42; field_int bad x; field_num pct 26.50; jstr_array "a b" "$NASTY"; field list "$_J"; echo noise; succeed done ok', {
      NASTY: nasty,
    });
    expect(r.rc).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({
      step: 'inspect',
      status: 'ok',
      message: 'done',
      changed: false,
      text: nasty,
      n: 42,
      bad: null,
      pct: 26.5,
      list: ['a b', nasty],
    });
    expect(r.stderr).toContain('noise');
  });

  it('a refusal exits 3 with status refused', () => {
    const r = runLib('refuse "volume group x not found"');
    expect(r.rc).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'refused', message: 'volume group x not found', changed: false });
  });

  it('a refusal after a change is a failure, never exit 3', () => {
    const r = runLib('_CHANGED=1; refuse "too late"');
    expect(r.rc).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', changed: true });
  });

  it('a command failing under set -e still yields one JSON object, and its exit 3 is not mistaken for a refusal', () => {
    const r = runLib('f() { return 3; }; f; succeed "not reached"');
    expect(r.rc).toBe(1);
    const out = JSON.parse(r.stdout) as { status: string; message: string };
    expect(out.status).toBe('failed');
    expect(out.message).toMatch(/exit 1|exited 3/);

    const r5 = runLib('(exit 5)');
    expect(r5.rc).toBe(5);
    expect(JSON.parse(r5.stdout)).toMatchObject({ status: 'failed' });
  });

  it('begin refuses invalid input before taking any lock', () => {
    for (const [env, message] of [
      [{ VG: 'bad name' }, /not a valid volume group/],
      [{ VG: 'datavg', OLD_VOLUME_ID: 'vol-xyz' }, /not an EBS volume id/],
      [{ VG: 'datavg', LV_SIZE: '10G' }, /LV_SIZE/],
      [{}, /VG is required/],
    ] as const) {
      const r = runLib('begin inspect VG', env);
      expect(r.rc, JSON.stringify(env)).toBe(3);
      expect((JSON.parse(r.stdout) as { message: string }).message).toMatch(message);
    }
  });

  it('volume_device finds nothing on a machine without that NVMe serial, and says so by its return code', () => {
    const r = runLib('rc=0; volume_device vol-0123456789abcdef0 || rc=$?; field rc "$rc"; succeed x ok');
    expect(JSON.parse(r.stdout)).toMatchObject({ rc: 1 });
  });
});

describe('the files the VM test boots are the real scripts', () => {
  it('shared/lvm/scripts.ts serves the files on disk', () => {
    for (const file of LVM_SCRIPT_FILES) expect(LVM_SCRIPTS[file]).toBe(readFileSync(path.join(scriptsDir, file), 'utf8'));
  });
});
