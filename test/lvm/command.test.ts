import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/core/errors';
import {
  HEREDOC_DELIMITER,
  LVM_ENV_KEYS,
  LVM_STEP_REQUIRED_ENV,
  LVM_STEPS,
  type LvmStep,
  shellQuote,
  ssmCommands,
  ssmScript,
} from '../../shared/lvm/command';
import { LVM_SCRIPTS } from '../../shared/lvm/scripts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OLD = 'vol-0123456789abcdef0';
const NEW = 'vol-0123456789abcdef1';
const full = { VG: 'datavg', LV: 'data', OLD_VOLUME_ID: OLD, NEW_VOLUME_ID: NEW, LV_SIZE: '100%FREE', POLL_INTERVAL: 30 };

describe('ssmCommands', () => {
  it('exports every variable, quoted, then feeds lib.sh + the step to bash through a quoted heredoc', () => {
    const commands = ssmCommands('prepare', { VG: 'datavg', OLD_VOLUME_ID: OLD, NEW_VOLUME_ID: NEW });
    expect(commands[0]).toMatch(/^# vigil LVM step prepare/);
    expect(commands.slice(1, 1 + LVM_ENV_KEYS.length)).toEqual([
      "export VG='datavg'",
      "export LV=''",
      `export OLD_VOLUME_ID='${OLD}'`,
      `export NEW_VOLUME_ID='${NEW}'`,
      "export LV_SIZE=''",
      "export POLL_INTERVAL=''",
      "export OLD_DEVICE_NAME=''",
      "export NEW_DEVICE_NAME=''",
    ]);
    const rest = commands.slice(1 + LVM_ENV_KEYS.length);
    expect(rest[0]).toBe(`bash -euo pipefail <<'${HEREDOC_DELIMITER}'`);
    expect(rest[1]).toBe('{');
    expect(rest.at(-2)).toBe('} </dev/null');
    expect(rest.at(-1)).toBe(HEREDOC_DELIMITER);
    // The body is the two files, verbatim.
    expect(`${rest.slice(2, -2).join('\n')}\n`).toBe(LVM_SCRIPTS['lib.sh'] + LVM_SCRIPTS['prepare.sh']);
  });

  it('normalises numbers and numeric strings', () => {
    const commands = ssmCommands('grow', { VG: 'datavg', LV: 'data', LV_SIZE: 512, POLL_INTERVAL: '20' });
    expect(commands).toContain("export LV_SIZE='512'");
    expect(commands).toContain("export POLL_INTERVAL='20'");
  });

  it.each(LVM_STEPS)('builds %s with every variable it may take, under 64 KiB', (step) => {
    const script = ssmScript(ssmCommands(step, full));
    expect(Buffer.byteLength(script)).toBeLessThan(64 * 1024);
  });

  it.each(LVM_STEPS)('%s refuses to build without its required variables', (step) => {
    for (const key of LVM_STEP_REQUIRED_ENV[step].filter((k) => k !== 'VG')) {
      const env: Record<string, unknown> = { ...full };
      delete env[key];
      expect(() => ssmCommands(step, env as typeof full), `${step} without ${key}`).toThrow(ValidationError);
    }
  });

  it.each([
    [{ VG: 'data vg' }, /VG/],
    [{ VG: '-datavg' }, /VG/],
    [{ VG: "datavg'; rm -rf / #" }, /VG/],
    [{ VG: '$(reboot)' }, /VG/],
    [{ VG: '..' }, /VG/],
    [{ VG: 'datavg', LV: 'pvmove' }, /LV/],
    [{ VG: 'datavg', LV: 'data_rimage_0' }, /LV/],
    [{ VG: 'datavg', OLD_VOLUME_ID: 'vol-123' }, /OLD_VOLUME_ID/],
    [{ VG: 'datavg', OLD_VOLUME_ID: 'i-0123456789abcdef0' }, /OLD_VOLUME_ID/],
    [{ VG: 'datavg', OLD_VOLUME_ID: OLD, NEW_VOLUME_ID: OLD }, /must differ/],
    [{ VG: 'datavg', LV_SIZE: '10G' }, /LV_SIZE/],
    [{ VG: 'datavg', LV_SIZE: 0 }, /LV_SIZE/],
    [{ VG: 'datavg', POLL_INTERVAL: 0 }, /POLL_INTERVAL/],
    [{ VG: 'datavg', OLD_DEVICE_NAME: '/dev/nvme1n1' }, /OLD_DEVICE_NAME/],
    [{ VG: 'datavg', EXTRA: 'x' }, /EXTRA|unrecognized/i],
  ])('rejects %j', (env, message) => {
    expect(() => ssmCommands('inspect', env as never)).toThrow(ValidationError);
    expect(() => ssmCommands('inspect', env as never)).toThrow(message);
  });

  it('rejects an unknown step', () => {
    expect(() => ssmCommands('pvmove-everything' as LvmStep, { VG: 'datavg' })).toThrow(/unknown LVM step/);
  });
});

describe('shellQuote', () => {
  it.each(["plain", "it's", "'", "''", '$(reboot) `id` ${HOME} "x" \\ \n;|&', ''])('round-trips %j through sh', (value) => {
    const r = spawnSync('sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
    expect(r.stdout).toBe(value);
  });
});

describe('the SSM command run by sh', () => {
  it('exports the values the step sees, and the heredoc hands bash the script unexpanded', () => {
    // A stand-in for the scripts' first lines: prove what bash receives by running the same wrapper with a probe.
    const commands = ssmCommands('inspect', { VG: 'data.vg-1', OLD_VOLUME_ID: OLD });
    const probe = commands.map((c) =>
      c === '{' ? '{\nprintf "%s|%s|%s|%s\\n" "$VG" "$OLD_VOLUME_ID" "$LV" "$-"; exit 0' : c,
    );
    const r = spawnSync('sh', ['-c', ssmScript(probe)], { encoding: 'utf8', env: { PATH: process.env.PATH, VG: 'leaked' } });
    expect(r.status).toBe(0);
    const [vg, old, lv, flags] = r.stdout.trim().split('|');
    expect([vg, old, lv]).toEqual(['data.vg-1', OLD, '']);
    expect(flags).toMatch(/e/);
    expect(flags).toMatch(/u/);
  });
});

describe('bundled by esbuild as serverless-esbuild does it', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-lvm-bundle-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('serverless.yml configures the .sh text loader', () => {
    expect(readFileSync(path.join(repoRoot, 'serverless.yml'), 'utf8')).toMatch(/loader:\s*\n\s+\.sh: text/);
  });

  it('a bundle of command.ts carries the scripts and builds the same commands, away from the source tree', async () => {
    const outfile = path.join(outDir, 'command.mjs');
    await build({
      entryPoints: [path.join(repoRoot, 'shared/lvm/command.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      loader: { '.sh': 'text' },
      outfile,
      logLevel: 'silent',
      banner: { js: "import { createRequire as __r } from 'module'; const require = __r(import.meta.url);" },
    });
    const bundled = (await import(pathToFileURL(outfile).href)) as { ssmCommands: typeof ssmCommands };
    for (const step of LVM_STEPS) expect(bundled.ssmCommands(step, full)).toEqual(ssmCommands(step, full));
  });
});
