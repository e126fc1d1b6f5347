/**
 * Helpers shared by the benchmarks: where things live, the machine description, statistics over repetitions, and
 * child processes. Every figure the benchmarks report is measured side by side in one run (contenders interleaved,
 * repeated, medians), because the machine they run on is shared and noisy.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(benchDir, '..');
/** Generated inputs, bundles and scratch files: git-ignored, never committed. */
export const outDir = path.join(benchDir, 'out');
export const sharedDataDir = process.env.VIGIL_SHARED_DATA ?? path.resolve(repoRoot, '../shared/data');

export type Log = (line: string) => void;

export interface Machine {
  cpuModel: string;
  cpus: number;
  /** MHz reported by the first CPU (0 when the kernel does not say). */
  cpuMHz: number;
  platform: string;
  kernel: string;
  memoryGiB: number;
  node: string;
  v8: string;
  /** 1/5/15-minute load averages when the run started: above the core count, wall-clock figures are stretched. */
  loadAverageAtStart: [number, number, number];
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  let model = cpus[0]?.model?.trim() ?? 'unknown';
  // Some hypervisors report a bare family name; /proc/cpuinfo sometimes says more.
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info);
    if (m?.[1] && m[1].trim().length > model.length) model = m[1].trim();
  } catch {
    // not Linux
  }
  const [l1, l5, l15] = os.loadavg();
  return {
    cpuModel: model,
    cpus: cpus.length,
    cpuMHz: cpus[0]?.speed ?? 0,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    loadAverageAtStart: [round(l1 ?? 0, 2), round(l5 ?? 0, 2), round(l15 ?? 0, 2)],
  };
}

export const round = (n: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median with its spread, so a reader can see how noisy the run was. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(xs: readonly number[], digits = 1): Summary {
  return { median: round(median(xs), digits), min: round(Math.min(...xs), digits), max: round(Math.max(...xs), digits), n: xs.length };
}

/** One timed run: wall-clock and this process's CPU time (all threads: zlib's thread pool counts too). */
export interface Timing {
  wallMs: number;
  cpuMs: number;
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ timing: Timing; value: T }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { timing: { wallMs, cpuMs: (c.user + c.system) / 1000 }, value };
}

let gcFn: (() => void) | undefined;
/** A full GC between contenders, so one does not pay for the garbage of the other. */
export function collectGarbage(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

/**
 * Runs the contenders in rounds, each round in a rotated order (so none is always first after a GC or always last),
 * and returns every contender's timings. `between` runs before every contender (a GC).
 */
export async function interleave<K extends string>(
  contenders: Record<K, () => Promise<unknown>>,
  rounds: number,
  options: { between?: () => void; log?: Log } = {},
): Promise<Record<K, Timing[]>> {
  const names = Object.keys(contenders) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as Timing[]])) as Record<K, Timing[]>;
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    for (const name of order) {
      options.between?.();
      const { timing } = await timed(contenders[name]);
      out[name].push(timing);
      options.log?.(`  round ${r + 1}/${rounds} ${name}: ${timing.wallMs.toFixed(0)} ms wall, ${timing.cpuMs.toFixed(0)} ms CPU`);
    }
  }
  return out;
}

/** Per-round ratios a/b (the same round ran both under the same load), then their median. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(a[i]! / b[i]!);
  return median(ratios);
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Runs a process to completion, collecting its output. */
export function runChild(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: 'ignore' } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), wallMs: performance.now() - t0 }),
    );
  });
}

/** Whether a command exists on PATH (jq, valgrind, /usr/bin/time): missing tools skip a part, never fail the run. */
export function hasCommand(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', `command -v ${command}`], (err) => resolve(!err));
  });
}

/** The Node that runs the benchmarks (Node 22 through npm scripts: the Lambda runtime's major version). */
export const nodeBin = process.execPath;

export const MB = 1_000_000;
export const fmtMs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
export const fmtRate = (perSecond: number): string =>
  perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : perSecond >= 1e3 ? `${(perSecond / 1e3).toFixed(1)} k/s` : `${perSecond.toFixed(0)}/s`;
