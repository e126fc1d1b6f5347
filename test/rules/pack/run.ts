import path from 'node:path';
import { tmpdir } from 'node:os';
import { Readable, Writable } from 'node:stream';
import { Alert } from '../../../shared/alerts/schema';
import type { CliIo } from '../../../shared/cli/io';
import { main } from '../../../shared/cli/main';
import { DetectionConfig } from '../../../shared/config/detection';
import { silentLogger, systemClock } from '../../../shared/core/deps';
import { createEngine } from '../../../shared/rules/engine/engine';
import type { AnyRuleModule, RuleExample } from '../../../shared/rules/engine/types';
import { repoRoot } from '../../support/shared-data';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const sink = (chunks: string[], tty: boolean) =>
  Object.assign(
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    { isTTY: tty, columns: 160 },
  );

/** Runs the CLI in-process, as a user would from the repository root (no network, no cached ip-ranges). */
export async function vigil(argv: string[], options: { tty?: boolean } = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: sink(out, options.tty ?? false),
    stderr: sink(err, false),
    stdin: Readable.from([]),
    env: { XDG_CACHE_HOME: path.join(tmpdir(), 'vigil-rule-pack-no-cache'), NO_COLOR: '1' },
    cwd: repoRoot,
    clock: systemClock,
    fetch: () => Promise.reject(new Error('no network in tests')),
  };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

export const ndjson = (stdout: string): Alert[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => Alert.parse(JSON.parse(line)));

/** The file an alert came from, without directory and extension (a Stratus technique id, a fixture name). */
export const fileOf = (alert: Alert): string =>
  path.basename(alert.source?.key ?? '').replace(/\.json(\.gz)?$/, '');

export const EXAMPLE_CONFIG = 'examples/vigil.config.yaml';

/** One record through the real engine with only `rule`, as the registry test runs inline examples. */
export function alertsOf(rule: AnyRuleModule, example: Pick<RuleExample, 'record' | 'config'>): Alert[] {
  const engine = createEngine({ config: DetectionConfig.parse(example.config ?? {}), rules: [rule], logger: silentLogger });
  const file = engine.beginFile({ key: `examples/${rule.id}.json` });
  file.evaluate(example.record);
  const { alerts, stats } = file.finish();
  if (Object.keys(stats.ruleErrors).length > 0) throw new Error(`rule ${rule.id} threw`);
  return alerts;
}
