/**
 * `npm run bench`: the six benchmarks of issue 9, side by side in one run, on this machine.
 *
 *   npm run bench                      full run (several minutes): writes bench/results.json and the results block of
 *                                      bench/README.md
 *   npm run bench:smoke                seconds: tiny inputs, few repetitions, no callgrind; writes
 *                                      bench/out/results.smoke.json (CI checks its shape, never its timings)
 *   … -- --out FILE                    write the results elsewhere (and leave the README alone)
 *   … -- --no-callgrind                skip the instruction counts under valgrind (full run)
 *   node bin/run-ts.mjs bench/run.ts --render    re-render the summary and the README block from bench/results.json
 *
 * Progress goes to stderr; the summary table to stdout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatIpLookupResults, runIpLookupBench } from './ip-lookup';
import { bundleChild } from './bundle';
import { functionSpecs, runColdStartBench } from './cold-start';
import { computeCost } from './cost';
import { generateLog, ipRangesFile } from './data';
import { runIngestBench } from './ingest';
import { runJqBench } from './jq';
import { benchDir, describeMachine, outDir, repoRoot, round } from './lib';
import { runMemoryBench } from './memory';
import { type Sections, renderReadmeBlock, replaceReadmeBlock, summarize } from './readme';
import { BenchResults } from './results-schema';
import { exampleConfigFile } from './vigil-setup';

const args = process.argv.slice(2);

// `--render`: only re-render the README block from bench/results.json (after a change to the README's layout).
if (args.includes('--render')) {
  const file = path.join(benchDir, 'results.json');
  const saved = BenchResults.parse(JSON.parse(readFileSync(file, 'utf8')));
  saved.summary = summarize(saved as unknown as Sections);
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
  const readme = path.join(benchDir, 'README.md');
  writeFileSync(readme, replaceReadmeBlock(readFileSync(readme, 'utf8'), renderReadmeBlock(saved, saved as unknown as Sections)));
  process.exit(0);
}
const smoke = args.includes('--smoke');
const outArg = args.indexOf('--out');
const outFile = outArg >= 0 ? path.resolve(args[outArg + 1] ?? '') : smoke ? path.join(outDir, 'results.smoke.json') : path.join(benchDir, 'results.json');
const updateReadme = !smoke && outArg < 0;
const callgrind = !smoke && !args.includes('--no-callgrind');
const log = (line: string) => process.stderr.write(`${line}\n`);

const started = new Date();
const t0 = performance.now();
const machine = describeMachine();
log(`vigil benchmarks${smoke ? ' (smoke)' : ''}: ${machine.cpus}× ${machine.cpuModel}, ${machine.platform}, Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`);

const configFile = exampleConfigFile(repoRoot);
mkdirSync(outDir, { recursive: true });

// Inputs: 100 MB and 1 GB (uncompressed) in the full run; a few hundred KB in the smoke run.
const small = await generateLog({ name: smoke ? 'smoke-small' : 'cloudtrail-100MB', targetBytes: smoke ? 400_000 : 100_000_000, log });
const large = await generateLog({ name: smoke ? 'smoke-large' : 'cloudtrail-1GB', targetBytes: smoke ? 1_200_000 : 1_000_000_000, log });
const tiny = callgrind ? await generateLog({ name: 'cloudtrail-10MB', targetBytes: 10_000_000, log }) : undefined;
const childBundle = await bundleChild();

const ingest = await runIngestBench(small, {
  log,
  rounds: smoke ? 2 : 7,
  ruleCosts: !smoke,
  configFile,
  ipRangesFile,
  ...(tiny ? { callgrind: { input: tiny, childBundle } } : {}),
});
const memory = await runMemoryBench(small, large, { log, childBundle, configFile, ipRangesFile, repeats: smoke ? 1 : 2 });
const jq = await runJqBench(small, { log, rounds: smoke ? 1 : 3, configFile, ipRangesFile });
log('ip lookup …');
// bench/ip-lookup.ts (the ip-ranges area's) checks its time bound every 256 lookups, and ip-cidr needs ~0.2 s per
// lookup over the full ranges: with its default 20,000 smoke addresses its smoke run takes minutes. A handful of
// addresses keeps the smoke run in seconds; the full run uses its defaults.
const ipLookup = await runIpLookupBench({ smoke, log, ...(smoke ? { ipsPerFamily: 8 } : {}) });
const coldStart = await runColdStartBench({ log, smoke, repeats: smoke ? 1 : 9 });
const ingestMemory = functionSpecs().specs.find((s) => s.name === 'cloudtrailIngest')?.memoryMB ?? 512;
const cost = computeCost(ingest, ingestMemory);

const sections = { ingest, memory, jq, ipLookup, coldStart, cost };
// Paths in the results are relative to the repository.
const rel = (o: { file: string }) => ({ ...o, file: path.relative(repoRoot, o.file) });
const results: BenchResults = BenchResults.parse({
  version: 1,
  smoke,
  startedAt: started.toISOString(),
  durationSeconds: round((performance.now() - t0) / 1000),
  machine,
  loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
  inputs: { small: rel(small), large: rel(large), ...(tiny ? { callgrind: rel(tiny) } : {}) },
  summary: summarize(sections),
  ...sections,
});
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
log(`results written to ${path.relative(process.cwd(), outFile)}`);

const block = renderReadmeBlock(results, sections);
if (updateReadme) {
  const readme = path.join(benchDir, 'README.md');
  writeFileSync(readme, replaceReadmeBlock(readFileSync(readme, 'utf8'), block));
  log('bench/README.md results block updated');
}
process.stdout.write(`${block}\n`);
if (!smoke) process.stdout.write(`\n${formatIpLookupResults(ipLookup)}\n`);
