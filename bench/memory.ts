/**
 * Benchmark 2 — peak memory. Each measurement is a fresh `node` process running the bundled child (bench/child.ts):
 * its peak RSS (`process.resourceUsage().maxRSS`) is the whole process — Node, the bundle, the engine, the ip-ranges
 * index and the file being read — as in a Lambda. Measured: vigil scanning the 100 MB and the 1 GB file, the
 * whole-file floor (gunzip + JSON.parse) on the 100 MB file (on 1 GB it cannot run at all: the text exceeds V8's
 * maximum string length), and the baseline (everything loaded and built, nothing read), so the reader can see what
 * the file itself costs. Peak RSS hardly depends on load, so each is run `repeats` times and the highest kept.
 */
import path from 'node:path';
import type { GeneratedLog } from './data';
import { type Log, nodeBin, repoRoot, round, runChild } from './lib';

export const MEMORY_TARGET_MB = 200;

export interface MemoryOptions {
  log: Log;
  childBundle: string;
  configFile: string;
  ipRangesFile: string;
  repeats: number;
}

export interface MemoryRun {
  mode: 'scan' | 'floor' | 'baseline';
  file?: string;
  bytes?: number;
  records: number;
  /** Highest peak RSS over the repeats, MB (10^6 bytes). */
  peakRssMB: number;
  runsMB: number[];
  wallMs: number;
}

export interface MemoryResults {
  baseline: MemoryRun;
  floor: MemoryRun;
  scans: MemoryRun[];
  /** Peak RSS of the largest scan minus that of the smallest: what a 10× larger file adds. */
  growthMB: number;
  target: { peakRssMB: number; met: boolean };
}

interface ChildOut {
  records: number;
  maxRssKiB: number;
  wallMs: number;
}

async function measure(options: MemoryOptions, mode: MemoryRun['mode'], input?: GeneratedLog): Promise<MemoryRun> {
  const args = [options.childBundle, mode, '--config', options.configFile, '--ip-ranges', options.ipRangesFile];
  if (input) args.push('--file', input.file, '--key', input.key, '--account', input.key.split('/')[1] ?? '');
  const runs: ChildOut[] = [];
  for (let i = 0; i < options.repeats; i++) {
    const r = await runChild(nodeBin, args);
    if (r.code !== 0) throw new Error(`memory child ${mode} failed: ${r.stderr.slice(-1000)}`);
    runs.push(JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildOut);
  }
  const mb = runs.map((r) => round((r.maxRssKiB * 1024) / 1e6));
  const run: MemoryRun = {
    mode,
    records: runs[0]!.records,
    peakRssMB: Math.max(...mb),
    runsMB: mb,
    wallMs: round(Math.min(...runs.map((r) => r.wallMs))),
  };
  if (input) {
    run.file = path.relative(repoRoot, input.file);
    run.bytes = input.bytes;
  }
  options.log(`memory: ${mode}${input ? ` ${(input.bytes / 1e6).toFixed(0)} MB` : ''}: peak RSS ${run.peakRssMB} MB`);
  return run;
}

export async function runMemoryBench(small: GeneratedLog, large: GeneratedLog, options: MemoryOptions): Promise<MemoryResults> {
  const baseline = await measure(options, 'baseline');
  const floor = await measure(options, 'floor', small);
  const scans = [await measure(options, 'scan', small), await measure(options, 'scan', large)];
  const worst = Math.max(...scans.map((s) => s.peakRssMB));
  return {
    baseline,
    floor,
    scans,
    growthMB: round(scans[1]!.peakRssMB - scans[0]!.peakRssMB),
    target: { peakRssMB: MEMORY_TARGET_MB, met: worst <= MEMORY_TARGET_MB },
  };
}
