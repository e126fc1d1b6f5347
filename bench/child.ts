/**
 * The process the memory and instruction-count benchmarks start fresh for each measurement. It is bundled with
 * esbuild (bench/out/child.mjs, as the Lambda bundle is) and run by plain `node`, so what it measures is vigil and
 * Node, not a TypeScript loader.
 *
 *   node bench/out/child.mjs <mode> [--file F --key K --account A --config C --ip-ranges R]
 *
 * Modes:
 *   scan      vigil's full path over the file (what the Lambda and `vigil scan` do)
 *   floor     gunzip + JSON.parse of the whole file (what no streaming engine can beat, and what memory it needs)
 *   baseline  everything `scan` loads and builds (modules, configuration, engine, ip-ranges index), no file read
 *   noop      nothing beyond loading this bundle (the start-up that `floor` pays too)
 *
 * Prints one JSON line: records, alerts, wall/CPU ms of the work, and the process's peak RSS (KB).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { buildEngine, loadDetection, loadIpIndex, scanFile } from './vigil-setup';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const mode = process.argv[2];
const file = arg('file');
const c0 = process.cpuUsage();
const t0 = performance.now();
let records = 0;
let alerts = 0;

if (mode === 'noop') {
  // Start-up only.
} else if (mode === 'floor') {
  if (!file) throw new Error('--file is required');
  const parsed = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { Records: unknown[] };
  records = parsed.Records.length;
} else if (mode === 'scan' || mode === 'baseline') {
  const config = await loadDetection(arg('config') ?? 'examples/vigil.config.yaml');
  const ipRanges = arg('ip-ranges');
  const { engine } = buildEngine(config, ipRanges ? loadIpIndex(ipRanges) : undefined);
  if (mode === 'scan') {
    if (!file) throw new Error('--file is required');
    const scan = await scanFile(engine, file, arg('key') ?? file, arg('account') ?? '');
    records = scan.read.records;
    alerts = scan.alerts.length;
  }
} else {
  process.stderr.write('usage: child.mjs scan|floor|baseline|noop [--file F --key K --account A --config C --ip-ranges R]\n');
  process.exit(2);
}

const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stdout.write(
  `${JSON.stringify({ mode, records, alerts, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
);
