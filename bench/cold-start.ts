/**
 * Benchmark 5 — cold start, per Lambda function.
 *
 * - Zip size: the zips `serverless package` builds (full run: packaged offline into bench/out/cold/package); the smoke
 *   run bundles with esbuild directly and estimates the zip (deflate level 9, which is what
 *   infra/plugins/zip-best-compression.cjs rewrites serverless-esbuild's zips at: the estimate is within a few hundred
 *   bytes of the real zip). Next to it, what serverless-esbuild's own zip (deflate level 1) would have been.
 * - Module init: the bundled handler imported in a fresh Node process with the function's environment (including
 *   NODE_OPTIONS from serverless.yml), wall and CPU time of the `import()`, repeated with the functions interleaved,
 *   medians. Next to it, in the same rounds: an empty module (Node's own import overhead) and, per function, a module
 *   importing only the Node built-ins the bundle imports (the part no bundling choice removes while the AWS SDK is
 *   used).
 * - What dominates: bytes per dependency group from esbuild's metafile, built with serverless.yml's custom.esbuild
 *   options (and checked to be the same size as the shipped bundle); and, in the full run, the import cost of each
 *   group on its own (zod, the AWS SDK clients, yaml, Powertools, vigil's rules) as standalone bundles.
 * - The alternative to weigh: the same functions with `@aws-sdk/*` left to the Lambda runtime (esbuild external),
 *   zip and init measured the same way, the SDK then loading from node_modules as the runtime's copy would.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { type Log, type Summary, hasCommand, nodeBin, outDir, repoRoot, round, runChild, summarize } from './lib';

export const ZIP_TARGET_BYTES = 350_000;
export const INIT_TARGET_MS = 150;

export interface ColdStartOptions {
  log: Log;
  smoke: boolean;
  /** Imports per function (interleaved). */
  repeats: number;
}

export interface FunctionSpec {
  name: string;
  handler: string;
  entry: string;
  memoryMB: number;
  env: Record<string, string>;
}

export interface ByteGroup {
  group: string;
  bytes: number;
  share: number;
}

export interface InitStats {
  wallMs: Summary;
  cpuMs: Summary;
}

export interface FunctionColdStart {
  name: string;
  handler: string;
  memoryMB: number;
  zip: { bytes: number; measured: boolean; files: string[] };
  bundleBytes: number;
  /** The metafile build has the shipped bundle's size (same options, same inputs). */
  attributionMatchesShipped: boolean | null;
  /** What serverless-esbuild's own zip (archiver's default, deflate level 1) would be, before vigil rewrites it. */
  level1ZipBytes: number;
  init: InitStats;
  /** Importing only the Node built-ins the bundle imports. */
  builtins: InitStats & { modules: string[] };
  bytesByGroup: ByteGroup[];
  sdkFromRuntime?: { zipBytes: number; bundleBytes: number; init: InitStats };
  met: { zip: boolean; init: boolean };
}

export interface ColdStartResults {
  source: 'serverless package' | 'esbuild (smoke)';
  esbuildOptions: Record<string, unknown>;
  nodeOptions: string;
  repeats: number;
  emptyImport: InitStats;
  functions: FunctionColdStart[];
  /** Standalone import cost of each dependency group (not additive: they share Node built-ins). */
  dependencyCosts?: { name: string; bundleBytes: number; init: InitStats }[];
  targets: { zipBytes: number; initMs: number; initJudgedOn: 'cpu' };
}

const workDir = path.join(outDir, 'cold');

// ---------------------------------------------------------------------------------------------------------------
// The functions and the build options, from serverless.yml and infra/functions/*.yml.

function loadYaml(file: string): Record<string, unknown> {
  // CloudFormation tags (!Ref, !GetAtt, !Sub, !If) are not needed here: silence their "unresolved tag" warnings.
  return (parseYaml(readFileSync(file, 'utf8'), { logLevel: 'silent' }) ?? {}) as Record<string, unknown>;
}

function resolveVariables(value: unknown, params: Record<string, unknown>): string {
  if (typeof value !== 'string') return typeof value === 'number' || typeof value === 'boolean' ? String(value) : 'placeholder';
  return value.replace(/\$\{([^}]+)\}/g, (_, body: string) => {
    const [ref, fallback] = body.split(/,(.*)/s).map((s) => s.trim());
    if (ref === 'sls:stage') return 'dev';
    const param = /^param:(\w+)$/.exec(ref ?? '');
    if (param && params[param[1]!] !== undefined) return resolveVariables(params[param[1]!], params);
    return (fallback ?? 'placeholder').replace(/^['"]|['"]$/g, '');
  });
}

export function functionSpecs(): { specs: FunctionSpec[]; esbuildConfig: Record<string, unknown> } {
  const sls = loadYaml(path.join(repoRoot, 'serverless.yml')) as {
    provider?: { memorySize?: number; environment?: Record<string, unknown> };
    params?: { default?: Record<string, unknown> };
    custom?: { esbuild?: Record<string, unknown> };
  };
  const params = sls.params?.default ?? {};
  const providerEnv = sls.provider?.environment ?? {};
  const specs: FunctionSpec[] = [];
  const dir = path.join(repoRoot, 'infra/functions');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yml')).sort()) {
    for (const [name, fn] of Object.entries(loadYaml(path.join(dir, file)))) {
      const f = fn as { handler?: string; memorySize?: number; environment?: Record<string, unknown> };
      if (typeof f?.handler !== 'string') continue;
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...providerEnv, ...(f.environment ?? {}) })) env[k] = resolveVariables(v, params);
      specs.push({
        name,
        handler: f.handler,
        entry: `${f.handler.replace(/\.[^.]+$/, '')}.ts`,
        memoryMB: f.memorySize ?? sls.provider?.memorySize ?? 1024,
        env,
      });
    }
  }
  return { specs, esbuildConfig: sls.custom?.esbuild ?? {} };
}

/** serverless-esbuild's own keys are not esbuild options. */
const PLUGIN_ONLY_KEYS = new Set([
  'packager', 'packagerOptions', 'keepOutputDirectory', 'exclude', 'outputFileExtension', 'nativeZip', 'concurrency',
  'zipConcurrency', 'installExtraArgs', 'packagePath', 'disableIncremental', 'watch', 'skipBuild', 'skipRebuild',
  'stripEntryResolveExtensions', 'config', 'outputWorkFolder', 'outputBuildFolder', 'disposeContext', 'plugins',
]);

/** serverless.yml's custom.esbuild as esbuild options (its plugins file loaded), without a source map. */
export function esbuildOptions(config: Record<string, unknown>): esbuild.BuildOptions {
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!PLUGIN_ONLY_KEYS.has(k)) options[k] = v;
  if (typeof config.plugins === 'string') {
    options.plugins = createRequire(import.meta.url)(path.join(repoRoot, config.plugins)) as esbuild.Plugin[];
  }
  // serverless-esbuild marks `exclude`d packages external.
  const exclude = Array.isArray(config.exclude) ? (config.exclude as string[]) : [];
  const external = [...((options.external as string[] | undefined) ?? []), ...exclude];
  return { ...(options as esbuild.BuildOptions), ...(external.length ? { external } : {}), sourcemap: false, logLevel: 'error' };
}

// ---------------------------------------------------------------------------------------------------------------
// Bytes.

function groupOf(input: string): string {
  if (input.startsWith('zod-locales-en:')) return 'zod';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (!m) {
    if (/^shared\/(rules|policy)\//.test(input)) return 'vigil rules + policy analysis';
    if (/^(shared|functions)\//.test(input)) return 'vigil (other)';
    return 'other';
  }
  const pkg = m[1]!;
  if (pkg === 'zod') return 'zod';
  if (/^@(aws-sdk|smithy|aws-crypto|aws)\//.test(pkg) || ['fast-xml-parser', 'strnum', 'tslib', 'bowser', 'uuid'].includes(pkg)) return 'AWS SDK v3';
  if (pkg.startsWith('@aws-lambda-powertools/')) return 'Powertools';
  if (pkg.startsWith('@middy/')) return 'middy';
  return pkg;
}

function byteGroups(metafile: esbuild.Metafile): { bundleBytes: number; groups: ByteGroup[]; builtins: string[] } {
  const output = Object.values(metafile.outputs)[0]!;
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const g = groupOf(input);
    totals.set(g, (totals.get(g) ?? 0) + bytesInOutput);
  }
  const groups = [...totals]
    .map(([group, bytes]) => ({ group, bytes, share: round(bytes / output.bytes, 3) }))
    .sort((a, b) => b.bytes - a.bytes);
  const builtins = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    // Externals that are not Node's own (yaml, left to node_modules for local runs) are not built-ins.
    for (const imp of input.imports) if (imp.external && isBuiltin(imp.path)) builtins.add(imp.path.startsWith('node:') ? imp.path : `node:${imp.path}`);
  }
  return { bundleBytes: output.bytes, groups, builtins: [...builtins].sort() };
}

/** A zip of one file at a deflate level (9: what vigil's packaging writes) plus the zip headers. */
export function estimateZip(bytes: Uint8Array, fileName: string, level = 9): number {
  return deflateRawSync(bytes, { level }).length + 30 + 46 + 22 + 2 * Buffer.byteLength(fileName);
}

async function build(entry: string, outfile: string, options: esbuild.BuildOptions): Promise<esbuild.Metafile> {
  const r = await esbuild.build({ ...options, entryPoints: [path.join(repoRoot, entry)], outfile, metafile: true, write: true, absWorkingDir: repoRoot });
  return r.metafile;
}

// ---------------------------------------------------------------------------------------------------------------
// Init time.

const IMPORT_SCRIPT = (url: string) =>
  `const c0 = process.cpuUsage(); const t0 = performance.now(); const m = await import(${JSON.stringify(url)}); ` +
  `const wallMs = performance.now() - t0; const c = process.cpuUsage(c0); ` +
  `console.log(JSON.stringify({ wallMs, cpuMs: (c.user + c.system) / 1000, exports: Object.keys(m) }));`;

function lambdaEnv(spec: FunctionSpec | undefined): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: `vigil-dev-${spec?.name ?? 'bench'}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec?.memoryMB ?? 128),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    ...(spec?.env ?? {}),
  };
}

async function importOnce(file: string, env: NodeJS.ProcessEnv): Promise<{ wallMs: number; cpuMs: number; exports: string[] }> {
  const r = await runChild(nodeBin, ['--input-type=module', '-e', IMPORT_SCRIPT(pathToFileURL(file).href)], { env, cwd: path.dirname(file) });
  if (r.code !== 0) throw new Error(`importing ${path.relative(repoRoot, file)} failed: ${r.stderr.slice(-1500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { wallMs: number; cpuMs: number; exports: string[] };
}

/** Imports every target `repeats` times, round-robin (rotated each round), and summarizes each. */
async function measureImports(targets: { id: string; file: string; env: NodeJS.ProcessEnv }[], repeats: number, log: Log): Promise<Map<string, InitStats>> {
  const runs = new Map(targets.map((t) => [t.id, [] as { wallMs: number; cpuMs: number }[]]));
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + r) % targets.length]!;
      const out = await importOnce(t.file, t.env);
      runs.get(t.id)!.push(out);
    }
    log(`  cold start: round ${r + 1}/${repeats}`);
  }
  return new Map(
    [...runs].map(([id, xs]) => [id, { wallMs: summarize(xs.map((x) => x.wallMs)), cpuMs: summarize(xs.map((x) => x.cpuMs)) }]),
  );
}

// ---------------------------------------------------------------------------------------------------------------

async function packageWithServerless(dir: string, log: Log): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  log('cold start: npx serverless package (offline) …');
  const bin = path.join(repoRoot, 'node_modules/osls/bin/serverless.js');
  const r = await runChild(nodeBin, [bin, 'package', '--package', dir], {
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
  });
  if (r.code !== 0) throw new Error(`serverless package failed: ${(r.stdout + r.stderr).slice(-2000)}`);
}

/** Standalone bundles of each dependency group, to show what each costs on its own. */
const DEPENDENCY_PROBES: Record<string, string> = {
  'zod (classic API, one schema)': "import { z } from 'zod'; export const s = z.object({ a: z.string() });",
  'AWS SDK v3 (S3, SNS, DynamoDB, SSM clients)':
    "export { S3Client, GetObjectCommand } from '@aws-sdk/client-s3'; export { SNSClient, PublishCommand } from '@aws-sdk/client-sns';" +
    " export { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export { SSMClient, GetParameterCommand } from '@aws-sdk/client-ssm';",
  'yaml (left out of the function bundles)': "export { parse } from 'yaml';",
  'Powertools logger + batch, middy (no SDK)':
    "export { Logger } from '@aws-lambda-powertools/logger'; export { BatchProcessor } from '@aws-lambda-powertools/batch';" +
    " export { default as middy } from '@middy/core';",
  'vigil rule registry + engine (with zod)':
    "export { rules } from './shared/rules/registry'; export { createEngine } from './shared/rules/engine/engine';",
};

export async function runColdStartBench(options: ColdStartOptions): Promise<ColdStartResults> {
  const { log, smoke } = options;
  const { specs, esbuildConfig } = functionSpecs();
  const buildOptions = esbuildOptions(esbuildConfig);
  mkdirSync(workDir, { recursive: true });
  const packageDir = path.join(workDir, 'package');
  const useServerless = !smoke;
  if (useServerless) await packageWithServerless(packageDir, log);
  const unzip = useServerless && (await hasCommand('unzip'));

  const prepared: {
    spec: FunctionSpec;
    shippedFile: string;
    zip: FunctionColdStart['zip'];
    bundleBytes: number;
    shippedBytes: number;
    groups: ByteGroup[];
    builtins: string[];
    builtinsFile: string;
    level1ZipBytes: number;
    external?: { file: string; bundleBytes: number; zipBytes: number };
  }[] = [];

  for (const spec of specs) {
    const fnDir = path.join(workDir, spec.name);
    rmSync(fnDir, { recursive: true, force: true });
    mkdirSync(fnDir, { recursive: true });
    const bundleName = spec.entry.replace(/\.ts$/, '.mjs');
    // The attribution build: same options as serverless-esbuild, with a metafile.
    const attributionFile = path.join(fnDir, 'attribution', bundleName);
    const meta = await build(spec.entry, attributionFile, buildOptions);
    const { bundleBytes, groups, builtins } = byteGroups(meta);

    let shippedFile = attributionFile;
    let zip: FunctionColdStart['zip'];
    if (useServerless) {
      const zipFile = path.join(packageDir, `${spec.name}.zip`);
      const shippedDir = path.join(fnDir, 'shipped');
      if (!unzip) throw new Error('unzip is needed to read the packaged zips');
      const listing = await runChild('unzip', ['-Z1', zipFile]);
      await runChild('unzip', ['-o', '-q', zipFile, '-d', shippedDir]);
      shippedFile = path.join(shippedDir, bundleName);
      zip = { bytes: statSync(zipFile).size, measured: true, files: listing.stdout.trim().split('\n').filter(Boolean) };
    } else {
      zip = { bytes: estimateZip(readFileSync(attributionFile), bundleName), measured: false, files: [bundleName] };
    }
    const shippedBytes = statSync(shippedFile).size;

    const builtinsFile = path.join(fnDir, 'builtins.mjs');
    // Through require, as the bundles load them (infra/esbuild-plugins.cjs: an ESM import of node:http costs ~30 ms).
    writeFileSync(
      builtinsFile,
      ["import { createRequire } from 'node:module';", 'const require = createRequire(import.meta.url);', ...builtins.map((b) => `require('${b}');`)].join('\n') + '\n',
    );

    let external: (typeof prepared)[number]['external'];
    if (!smoke) {
      // In the repository tree, so `@aws-sdk/*` resolves from node_modules as it would from the runtime's.
      const extFile = path.join(fnDir, 'sdk-from-runtime', bundleName);
      await build(spec.entry, extFile, { ...buildOptions, external: [...(buildOptions.external ?? []), '@aws-sdk/*'] });
      const code = readFileSync(extFile);
      external = { file: extFile, bundleBytes: code.length, zipBytes: estimateZip(code, bundleName) };
    }
    prepared.push({
      spec,
      shippedFile,
      zip,
      bundleBytes,
      shippedBytes,
      groups,
      builtins,
      builtinsFile,
      level1ZipBytes: estimateZip(readFileSync(shippedFile), bundleName, 1),
      ...(external ? { external } : {}),
    });
    log(`cold start: ${spec.name}: zip ${(zip.bytes / 1000).toFixed(0)} KB${zip.measured ? '' : ' (estimated)'}, bundle ${(shippedBytes / 1000).toFixed(0)} KB`);
  }

  // The dependency probes (full run only).
  const probes: { name: string; file: string; bytes: number }[] = [];
  if (!smoke) {
    const probeDir = path.join(workDir, 'probes');
    mkdirSync(probeDir, { recursive: true });
    let i = 0;
    for (const [name, source] of Object.entries(DEPENDENCY_PROBES)) {
      const file = path.join(probeDir, `probe-${i++}.mjs`);
      await esbuild.build({
        ...buildOptions,
        // Bundled, even what the functions leave out (yaml): the probe shows what it would cost.
        external: (buildOptions.external ?? []).filter((e) => e !== 'yaml'),
        stdin: { contents: source, resolveDir: repoRoot, loader: 'ts', sourcefile: `probe-${i}.ts` },
        outfile: file,
        write: true,
        absWorkingDir: repoRoot,
      });
      probes.push({ name, file, bytes: statSync(file).size });
    }
  }

  const emptyFile = path.join(workDir, 'empty.mjs');
  writeFileSync(emptyFile, 'export const empty = true;\n');
  const targets: { id: string; file: string; env: NodeJS.ProcessEnv }[] = [{ id: 'empty', file: emptyFile, env: lambdaEnv(undefined) }];
  for (const p of prepared) {
    targets.push({ id: `fn:${p.spec.name}`, file: p.shippedFile, env: lambdaEnv(p.spec) });
    targets.push({ id: `builtins:${p.spec.name}`, file: p.builtinsFile, env: lambdaEnv(p.spec) });
    if (p.external) targets.push({ id: `ext:${p.spec.name}`, file: p.external.file, env: lambdaEnv(p.spec) });
  }
  for (const p of probes) targets.push({ id: `probe:${p.name}`, file: p.file, env: lambdaEnv(undefined) });

  // Every bundle must load and export its handler before anything is timed.
  for (const p of prepared) {
    const out = await importOnce(p.shippedFile, lambdaEnv(p.spec));
    if (!out.exports.includes('handler')) throw new Error(`${p.spec.name}: the bundle does not export "handler"`);
  }
  log(`cold start: ${targets.length} modules × ${options.repeats} fresh-process imports …`);
  const init = await measureImports(targets, options.repeats, log);

  const functions: FunctionColdStart[] = prepared.map((p) => {
    const fnInit = init.get(`fn:${p.spec.name}`)!;
    const ext = p.external ? init.get(`ext:${p.spec.name}`) : undefined;
    return {
      name: p.spec.name,
      handler: p.spec.handler,
      memoryMB: p.spec.memoryMB,
      zip: p.zip,
      bundleBytes: p.shippedBytes,
      attributionMatchesShipped: useServerless ? p.bundleBytes === p.shippedBytes : null,
      level1ZipBytes: p.level1ZipBytes,
      init: fnInit,
      builtins: { ...init.get(`builtins:${p.spec.name}`)!, modules: p.builtins },
      bytesByGroup: p.groups,
      ...(p.external && ext ? { sdkFromRuntime: { zipBytes: p.external.zipBytes, bundleBytes: p.external.bundleBytes, init: ext } } : {}),
      // Judged on the fastest import: the work is the same every time, and on this shared machine interference only
      // ever adds time (bench/README.md, "Noise"); the median is shown beside it.
      met: { zip: p.zip.bytes <= ZIP_TARGET_BYTES, init: fnInit.cpuMs.min <= INIT_TARGET_MS },
    };
  });

  const shownOptions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(esbuildConfig)) if (k !== 'banner') shownOptions[k] = v;
  return {
    source: useServerless ? 'serverless package' : 'esbuild (smoke)',
    esbuildOptions: shownOptions,
    nodeOptions: specs[0]?.env.NODE_OPTIONS ?? '',
    repeats: options.repeats,
    emptyImport: init.get('empty')!,
    functions,
    ...(probes.length
      ? { dependencyCosts: probes.map((p) => ({ name: p.name, bundleBytes: p.bytes, init: init.get(`probe:${p.name}`)! })) }
      : {}),
    targets: { zipBytes: ZIP_TARGET_BYTES, initMs: INIT_TARGET_MS, initJudgedOn: 'cpu' },
  };
}
