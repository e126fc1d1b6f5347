/**
 * esbuild bundles for the benchmarks, with the Lambda's settings (ESM, node22, minified, a `require` banner for the
 * CommonJS dependencies), so the child processes run vigil as the Lambda runs it: one file, plain `node`.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { benchDir, outDir } from './lib';

export const REQUIRE_BANNER = "import { createRequire as __vigilCreateRequire } from 'module'; const require = __vigilCreateRequire(import.meta.url);";

/** Bundles bench/child.ts to bench/out/child.mjs and returns its path. */
export async function bundleChild(): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'child.mjs');
  await esbuild.build({
    entryPoints: [path.join(benchDir, 'child.ts')],
    outfile,
    bundle: true,
    minify: true,
    keepNames: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: REQUIRE_BANNER },
    logLevel: 'error',
  });
  return outfile;
}
