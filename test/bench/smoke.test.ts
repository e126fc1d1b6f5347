import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchResults } from '../../bench/results-schema';
import { repoRoot } from '../support/shared-data';

// `npm run bench:smoke` end to end: tiny inputs, every benchmark, the results file. Only its shape is checked —
// performance targets live in `npm run bench` and bench/README.md, never in a timed test.
describe('bench smoke run', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs all six benchmarks and writes a results file of the documented shape', () => {
    const out = path.join(dir, 'results.json');
    const stdout = execFileSync(process.execPath, ['bin/run-ts.mjs', 'bench/run.ts', '--smoke', '--out', out], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
    const results = BenchResults.parse(JSON.parse(readFileSync(out, 'utf8')));

    expect(results.smoke).toBe(true);
    expect(results.summary.map((r) => r.id)).toEqual(['ingest', 'memory', 'jq', 'ip-lookup', 'cold-start', 'cost']);
    expect(results.machine.cpus).toBeGreaterThan(0);
    expect(results.machine.node).toMatch(/^v22\./);

    const ingest = results.ingest as { input: { records: number }; output: { ruleErrors: number }; rules: { active: number; registered: number } };
    expect(ingest.input.records).toBeGreaterThan(0);
    expect(ingest.output.ruleErrors).toBe(0);
    expect(ingest.rules.active).toBe(ingest.rules.registered);

    const memory = results.memory as { scans: { records: number; peakRssMB: number }[] };
    expect(memory.scans).toHaveLength(2);
    for (const scan of memory.scans) expect(scan.peakRssMB).toBeGreaterThan(0);

    const cold = results.coldStart as { functions: { name: string; zip: { bytes: number }; init: { cpuMs: { median: number } } }[] };
    expect(cold.functions.map((f) => f.name).sort()).toEqual(['alertNotifier', 'cloudtrailIngest', 'ipSpaceChanged', 'migrationNotify', 'migrationPlan']);

    const cost = results.cost as { vigil: { total: number }; alternatives: unknown[] };
    expect(cost.vigil.total).toBeGreaterThan(0);
    expect(cost.alternatives.length).toBeGreaterThan(0);

    // The summary table printed on stdout is the README block.
    expect(stdout).toContain('<!-- bench:results:start -->');
    expect(stdout).toContain('### 6. Cost per million CloudTrail records');
  }, 300_000);
});
