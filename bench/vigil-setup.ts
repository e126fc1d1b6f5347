/**
 * The vigil side of the CloudTrail benchmarks, built exactly as `vigil scan` and the Lambda build it: the example
 * configuration (every rule that needs settings gets them: office hours, allowed CIDRs, expected regions, user-name
 * pattern), every rule of the registry as it is at run time, and source-IP enrichment from the real ip-ranges.
 */
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { type LogScan, scanLog } from '../shared/cloudtrail/scan-log';
import type { DetectionConfig } from '../shared/config/detection';
import { loadConfigFile } from '../shared/config/load';
import { type IpIndex, buildIpIndex } from '../shared/ip-ranges/lookup';
import { IpRanges } from '../shared/ip-ranges/schema';
import { type Engine, createEngine } from '../shared/rules/engine/engine';
import { rules } from '../shared/rules/registry';

export const exampleConfigFile = (root: string): string => path.join(root, 'examples/vigil.config.yaml');

export async function loadDetection(configFile: string): Promise<DetectionConfig> {
  return (await loadConfigFile(configFile)).detection;
}

export function loadIpIndex(file: string): IpIndex {
  return buildIpIndex(IpRanges.parse(JSON.parse(readFileSync(file, 'utf8'))));
}

const quiet = { warn: () => {} };

export interface VigilSetup {
  engine: Engine;
  /** Every rule id of the registry; `active` the ones that run for at least one profile. */
  registered: string[];
  active: string[];
  inactive: { ruleId: string; profile: string; reason: string }[];
}

export function buildEngine(config: DetectionConfig, ipIndex: IpIndex | undefined, only?: readonly string[]): VigilSetup {
  const engine = createEngine({ config, rules, logger: quiet, ...(ipIndex ? { ipIndex } : {}), ...(only ? { only } : {}) });
  return {
    engine,
    registered: rules.map((r) => r.id),
    active: engine.active.map((r) => r.id),
    inactive: engine.inactive.map((r) => ({ ...r })),
  };
}

/** One log file through vigil's full path: stream, gunzip, split, parse, guard, all rules, enrichment, alerts. */
export async function scanFile(engine: Engine, file: string, key: string, account: string): Promise<LogScan> {
  const scan = await scanLog(engine, createReadStream(file, { highWaterMark: 256 * 1024 }), { key, account, logger: quiet });
  if (scan.error) throw scan.error;
  return scan;
}
