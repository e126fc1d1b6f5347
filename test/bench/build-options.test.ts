import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionSpecs } from '../../bench/cold-start';
import { rules } from '../../shared/rules/registry';
import { repoRoot } from '../support/shared-data';

const requireCjs = createRequire(import.meta.url);

// The Lambda bundles are minified (serverless.yml custom.esbuild). These run a bundle built with exactly those
// options and check what minification must not change.
async function runBundled(source: string): Promise<string> {
  const options = esbuildOptions(functionSpecs().esbuildConfig);
  const result = await esbuild.build({
    ...options,
    stdin: { contents: source, resolveDir: repoRoot, loader: 'ts' },
    write: false,
    outfile: 'bundle.mjs',
  });
  // The program on stdin: a bundle with zod is larger than an argument may be.
  return execFileSync(process.execPath, ['--input-type=module'], { input: result.outputFiles[0]!.text, encoding: 'utf8' }).trim();
}

describe('Lambda build options', () => {
  it("keep vigil's error names (Retry/Catch and batch handlers match on them)", async () => {
    const out = await runBundled(
      "import { ValidationError, IntegrityError, ConfigError, TransientError, PreconditionError } from './shared/core/errors';" +
        'console.log([ValidationError, IntegrityError, ConfigError, TransientError, PreconditionError].map((E) => new E("x").name).join(","));',
    );
    expect(out).toBe('ValidationError,IntegrityError,ConfigError,TransientError,PreconditionError');
  });

  it('reduce zod to its English messages, which still work', async () => {
    const out = await runBundled(
      "import { z } from 'zod'; const r = z.object({ a: z.string() }).safeParse({ a: 1 });" +
        'console.log(JSON.stringify({ locales: Object.keys(z.locales), core: Object.keys(z.core.locales), message: r.success ? "" : r.error.issues[0].message }));',
    );
    const parsed = JSON.parse(out) as { locales: string[]; core: string[]; message: string };
    expect(parsed.locales).toEqual(['en']);
    expect(parsed.core).toEqual(['en']);
    expect(parsed.message).toMatch(/expected string, received number/i);
  });

  it('bundle no source map', () => {
    expect(functionSpecs().esbuildConfig.sourcemap).toBe(false);
  });

  it('leave the rules\' inline examples out, and the rules still detect', async () => {
    const out = await runBundled(
      "import { rules } from './shared/rules/registry'; import { createEngine } from './shared/rules/engine/engine';" +
        "const engine = createEngine({ config: { profiles: {}, alertWindowMinutes: 60 }, rules, logger: { warn() {} } });" +
        "const run = engine.beginFile({ key: 'k', account: '111122223333' });" +
        "run.evaluate({ eventTime: '2025-03-12T10:00:00Z', eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', awsRegion: 'eu-central-1', sourceIPAddress: '192.0.2.1', recipientAccountId: '111122223333', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userName: 'alice' }, requestParameters: { name: 'main' } });" +
        'console.log(JSON.stringify({ examples: rules.reduce((n, r) => n + r.examples.match.length + r.examples.noMatch.length, 0), ids: rules.map((r) => r.id), titled: rules.every((r) => r.title && r.runbook), alerts: run.finish().alerts.map((a) => a.ruleId) }));',
    );
    const parsed = JSON.parse(out) as { examples: number; ids: string[]; titled: boolean; alerts: string[] };
    expect(parsed.examples).toBe(0);
    expect(parsed.ids).toEqual(rules.map((r) => r.id));
    expect(parsed.titled).toBe(true);
    expect(parsed.alerts).toContain('cloudtrail-tampering');
    // The unbundled registry keeps them (the tests and `vigil rules show` use them).
    expect(rules.every((r) => r.examples.match.length >= 2 && r.examples.noMatch.length >= 2)).toBe(true);
  });

  it('find the examples of every rule file, however formatted, and touch nothing else', () => {
    const { withoutExamples } = requireCjs(path.join(repoRoot, 'infra/esbuild-plugins.cjs')) as { withoutExamples: (ts: unknown, source: string, file: string) => string };
    const ts = requireCjs('typescript') as { transpileModule: (s: string, o: object) => { diagnostics?: unknown[] } };
    const dir = path.join(repoRoot, 'shared/rules');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(path.join(dir, file), 'utf8');
      const out = withoutExamples(ts, source, file);
      if (file === 'registry.ts') {
        expect(out).toBe(source);
        continue;
      }
      expect(out, file).toContain('examples: { match: [], noMatch: [] }');
      expect(out.length, file).toBeLessThan(source.length);
      // Everything before the examples is untouched.
      expect(source.startsWith(out.slice(0, out.indexOf('examples: { match: [], noMatch: [] }'))), file).toBe(true);
    }
  });

  it('load Node built-ins through require, named, default and namespace imports alike (no ESM facade: node:http\'s loads undici)', async () => {
    const out = await runBundled(
      "import { Agent } from 'node:http'; import * as zlib from 'zlib'; import fs from 'node:fs'; import { createHash } from 'node:crypto';" +
        "console.log([typeof Agent, typeof zlib.gunzipSync, typeof fs.readFileSync, createHash('sha256').update('x').digest('hex').slice(0, 8)].join(','));",
    );
    expect(out).toBe('function,function,function,2d711642');
  });

  it('leave yaml out of the bundles (the functions read JSON, and parse YAML only when a local run asks for it), and import no built-in as ESM', async () => {
    expect(functionSpecs().esbuildConfig.exclude).toContain('yaml');
    const options = esbuildOptions(functionSpecs().esbuildConfig);
    for (const spec of functionSpecs().specs) {
      const result = await esbuild.build({ ...options, entryPoints: [path.join(repoRoot, spec.entry)], write: false, outfile: 'handler.mjs', absWorkingDir: repoRoot });
      const code = result.outputFiles[0]!.text;
      // No static import (it would fail at init: yaml is not in the zip), at most the lazy one of shared/config/load.ts.
      expect(/(?:from|import)\s*["']yaml["']/.test(code), `${spec.name}: static import of yaml`).toBe(false);
      expect(/from\s*["']node:/.test(code), `${spec.name}: ESM import of a Node built-in`).toBe(false);
      // yaml's own classes (names kept by keepNames) are not in the bundle either.
      expect(/["'](?:Composer|YAMLParseError)["']/.test(code), `${spec.name}: yaml bundled`).toBe(false);
    }
  });
});

describe('zip packaging (infra/plugins/zip-best-compression.cjs)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-zip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const plugin = requireCjs(path.join(repoRoot, 'infra/plugins/zip-best-compression.cjs')) as {
    recompress: (file: string) => Promise<{ before: number; after: number }>;
    readEntries: (file: string) => Promise<{ entries: { name: string; mode: number; data: Buffer }[] }>;
  };
  const archiver = requireCjs('archiver') as (format: string, options: object) => {
    pipe: (s: NodeJS.WritableStream) => void;
    append: (data: Buffer, o: object) => void;
    finalize: () => void;
  };

  /** A zip as serverless-esbuild writes it: archiver's default deflate level 1, date 0. */
  async function level1Zip(file: string, entries: { name: string; mode: number; data: Buffer }[]): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file);
      out.on('close', () => resolve());
      out.on('error', reject);
      const zip = archiver('zip', {});
      zip.pipe(out);
      for (const e of entries) zip.append(e.data, { name: e.name, mode: e.mode, date: new Date(0) });
      zip.finalize();
    });
  }

  it('rewrites a zip smaller, with the same entries, modes and contents, byte for byte the same every time', async () => {
    const bundle = readFileSync(path.join(repoRoot, 'shared/rules/engine/engine.ts'));
    const entries = [
      { name: 'functions/x/handler.mjs', mode: 0o644, data: Buffer.concat([bundle, bundle, bundle]) },
      { name: 'bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
    ];
    const [a, b] = [path.join(dir, 'a.zip'), path.join(dir, 'b.zip')];
    await level1Zip(a, entries);
    await level1Zip(b, entries);
    const before = statSync(a).size;
    const sizes = await plugin.recompress(a);
    await plugin.recompress(b);
    expect(sizes.before).toBe(before);
    expect(sizes.after).toBeLessThan(before);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const back = (await plugin.readEntries(a)).entries;
    expect(back.map((e) => [e.name, e.mode & 0o777, e.data.equals(entries.find((x) => x.name === e.name)!.data)])).toEqual([
      ['functions/x/handler.mjs', 0o644, true],
      ['bin/tool', 0o755, true],
    ]);
  });
});
