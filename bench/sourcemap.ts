/**
 * Rebuilds a Lambda function's bundle with its source map, for reading a minified stack trace from the logs. The
 * zips carry no map (serverless.yml custom.esbuild: `sourcemap: false`); esbuild is deterministic, so the same
 * commit and options give the same bundle, and the map rebuilt here is the map of the deployed code.
 *
 *   node bin/run-ts.mjs bench/sourcemap.ts cloudtrailIngest [deployed-handler.mjs]
 *
 * Writes bench/out/sourcemaps/<function>/handler.mjs and handler.mjs.map; with a deployed handler.mjs (from the
 * function's zip: `aws lambda get-function` gives its URL), says whether it is byte-identical to the rebuild.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { esbuildOptions, functionSpecs } from './cold-start';
import { outDir, repoRoot } from './lib';

const [name, deployed] = process.argv.slice(2);
const { specs, esbuildConfig } = functionSpecs();
const spec = specs.find((s) => s.name === name);
if (!spec) {
  process.stderr.write(`usage: sourcemap.ts FUNCTION [deployed-handler.mjs]\nfunctions: ${specs.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const dir = path.join(outDir, 'sourcemaps', spec.name);
mkdirSync(dir, { recursive: true });
const outfile = path.join(dir, 'handler.mjs');
// `external`: the map is written beside the bundle and the bundle's bytes are those of the deployed build.
await esbuild.build({ ...esbuildOptions(esbuildConfig), entryPoints: [path.join(repoRoot, spec.entry)], outfile, sourcemap: 'external', absWorkingDir: repoRoot });
process.stdout.write(`${path.relative(process.cwd(), outfile)}\n${path.relative(process.cwd(), `${outfile}.map`)}\n`);
if (deployed) {
  const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const same = digest(deployed) === digest(outfile);
  process.stdout.write(same ? 'identical to the deployed bundle: the map applies\n' : 'differs from the deployed bundle: build the commit that was deployed\n');
  process.exitCode = same ? 0 : 1;
}
