/**
 * Benchmark 3 — against what users do today: the same log file through `gzip -dc | jq` running an equivalent of
 * five rules (bench/jq/*.jq: tampering, root, policy change, new user, access key) in one pass, against vigil with
 * every rule on (and, for reference, vigil with only those five rules). jq runs as a fresh pipeline each round
 * (that is how people use it); its CPU time is the pipeline's (gzip + jq, from GNU time), vigil's is its process's.
 * The match counts of both sides are reported per rule, so the reader can see they look for the same things.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { GeneratedLog } from './data';
import { type Log, type Summary, benchDir, collectGarbage, hasCommand, median, repoRoot, round, runChild, summarize, timed } from './lib';
import { buildEngine, loadDetection, loadIpIndex, scanFile } from './vigil-setup';

export const JQ_TARGET_RATIO = 5;
export const JQ_RULES = ['cloudtrail-tampering', 'root-account-usage', 'iam-policy-change', 'iam-user-created', 'access-key-created'] as const;

export interface JqOptions {
  log: Log;
  rounds: number;
  configFile: string;
  ipRangesFile: string;
}

export interface JqResults {
  available: true;
  jqVersion: string;
  command: string;
  input: { file: string; bytes: number; records: number };
  rounds: number;
  jq: { wallMs: Summary; cpuMs: Summary };
  vigilAllRules: { wallMs: Summary; cpuMs: Summary; rules: number };
  vigilFiveRules: { wallMs: Summary; cpuMs: Summary };
  /** gunzip + JSON.parse of the whole file (benchmark 1's floor), in the same rounds. */
  floor: { wallMs: Summary; cpuMs: Summary };
  /**
   * jq / floor: the most any engine that JSON.parses every record can gain over jq on this machine (the floor does
   * nothing but decompress and parse).
   */
  ceiling: { wall: number; cpu: number };
  /** jq time / vigil (all rules) time, median of per-round ratios. */
  ratio: { wall: number; cpu: number };
  ratioFiveRules: { wall: number; cpu: number };
  /** Matching records per rule: jq's output lines, vigil's matches (sum of alert counts). */
  matches: Record<string, { jq: number; vigil: number }>;
  target: { ratio: number; met: boolean; judgedOn: 'cpu' };
}

export type JqOutcome = JqResults | { available: false; reason: string };

/** Runs the jq pipeline under GNU time; returns wall and CPU (user + sys of gzip and jq) and jq's output. */
async function runJq(file: string): Promise<{ wallMs: number; cpuMs: number; stdout: string }> {
  const jqDir = path.join(benchDir, 'jq');
  const script = `gzip -dc '${file}' | jq -c -L '${jqDir}' -f '${path.join(jqDir, 'five-rules.jq')}'`;
  const r = await runChild('/usr/bin/time', ['-f', 'BENCH_TIME %e %U %S', 'sh', '-c', script]);
  const m = /BENCH_TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`jq pipeline failed: ${r.stderr.slice(-800)}`);
  return { wallMs: r.wallMs, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, stdout: r.stdout };
}

export async function runJqBench(input: GeneratedLog, options: JqOptions): Promise<JqOutcome> {
  const { log } = options;
  if (!(await hasCommand('jq'))) return { available: false, reason: 'jq is not installed' };
  if (!(await hasCommand('/usr/bin/time'))) return { available: false, reason: 'GNU time (/usr/bin/time) is not installed' };
  const version = (await runChild('jq', ['--version'])).stdout.trim();

  const config = await loadDetection(options.configFile);
  const ipIndex = loadIpIndex(options.ipRangesFile);
  const all = buildEngine(config, ipIndex);
  const five = buildEngine(config, ipIndex, JQ_RULES);
  const account = input.key.split('/')[1] ?? '';

  const jqRuns: { wallMs: number; cpuMs: number }[] = [];
  const allRuns: { wallMs: number; cpuMs: number }[] = [];
  const fiveRuns: { wallMs: number; cpuMs: number }[] = [];
  const floorRuns: { wallMs: number; cpuMs: number }[] = [];
  let jqOut = '';
  let vigilFive: Awaited<ReturnType<typeof scanFile>> | undefined;
  log(`jq: ${version}, ${options.rounds} rounds over ${(input.bytes / 1e6).toFixed(0)} MB`);
  for (let r = 0; r < options.rounds; r++) {
    // Alternate who goes first.
    const steps: (() => Promise<void>)[] = [
      async () => {
        const j = await runJq(input.file);
        jqOut = j.stdout;
        jqRuns.push({ wallMs: j.wallMs, cpuMs: j.cpuMs });
        log(`  round ${r + 1} jq: ${j.wallMs.toFixed(0)} ms wall, ${j.cpuMs.toFixed(0)} ms CPU`);
      },
      async () => {
        collectGarbage();
        const { timing } = await timed(() => scanFile(all.engine, input.file, input.key, account));
        allRuns.push(timing);
        collectGarbage();
        const f = await timed(() => scanFile(five.engine, input.file, input.key, account));
        vigilFive = f.value;
        fiveRuns.push(f.timing);
        collectGarbage();
        const fl = await timed(() => (JSON.parse(gunzipSync(readFileSync(input.file)).toString('utf8')) as { Records: unknown[] }).Records.length);
        floorRuns.push(fl.timing);
        log(`  round ${r + 1} vigil: all rules ${timing.wallMs.toFixed(0)} ms wall, ${timing.cpuMs.toFixed(0)} ms CPU; five rules ${f.timing.cpuMs.toFixed(0)} ms CPU; floor ${fl.timing.cpuMs.toFixed(0)} ms CPU`);
      },
    ];
    if (r % 2) steps.reverse();
    for (const step of steps) await step();
  }

  const matches: JqResults['matches'] = Object.fromEntries(JQ_RULES.map((id) => [id, { jq: 0, vigil: 0 }]));
  for (const line of jqOut.split('\n')) {
    if (!line) continue;
    const rule = (JSON.parse(line) as { rule: string }).rule;
    if (matches[rule]) matches[rule].jq++;
  }
  for (const alert of vigilFive?.alerts ?? []) if (matches[alert.ruleId]) matches[alert.ruleId]!.vigil += alert.count;

  const ratioOf = (a: { wallMs: number; cpuMs: number }[], b: { wallMs: number; cpuMs: number }[]) => ({
    wall: round(median(a.map((x, i) => x.wallMs / b[i]!.wallMs)), 2),
    cpu: round(median(a.map((x, i) => x.cpuMs / b[i]!.cpuMs)), 2),
  });
  const ratio = ratioOf(jqRuns, allRuns);
  const sum = (xs: { wallMs: number; cpuMs: number }[]) => ({ wallMs: summarize(xs.map((x) => x.wallMs)), cpuMs: summarize(xs.map((x) => x.cpuMs)) });
  return {
    available: true,
    jqVersion: version,
    command: 'gzip -dc FILE | jq -c -L bench/jq -f bench/jq/five-rules.jq',
    input: { file: path.relative(repoRoot, input.file), bytes: input.bytes, records: input.records },
    rounds: options.rounds,
    jq: sum(jqRuns),
    vigilAllRules: { ...sum(allRuns), rules: all.active.length },
    vigilFiveRules: sum(fiveRuns),
    floor: sum(floorRuns),
    ceiling: ratioOf(jqRuns, floorRuns),
    ratio,
    ratioFiveRules: ratioOf(jqRuns, fiveRuns),
    matches,
    target: { ratio: JQ_TARGET_RATIO, met: ratio.cpu >= JQ_TARGET_RATIO, judgedOn: 'cpu' },
  };
}
