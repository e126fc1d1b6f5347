import type { IpIndex, IpMatch } from '../ip-ranges/lookup';
import { type Source, sourceOf } from './helpers';
import type { CloudTrailRecord } from './record';

/** The AWS range an address belongs to, as alerts show it: "AWS-owned: EC2 us-west-2". */
export interface AwsOwner {
  service: string;
  region: string;
  prefix: string;
  networkBorderGroup?: string;
  /** "EC2 us-west-2" */
  label: string;
}

export interface SourceInfo extends Source {
  /** Set when enrichment is on and the address is inside a published AWS range. */
  aws?: AwsOwner;
}

export interface Enricher {
  /** False without an ip-ranges snapshot: `aws` is then never set, and outputs say enrichment is off. */
  readonly enabled: boolean;
  /** Which ip-ranges document answers, for the output header and the alert context. */
  readonly snapshot?: { syncToken: string; createDate: string };
  source(record: CloudTrailRecord): SourceInfo;
}

/**
 * The most telling owner: `lookup` lists the most specific prefix first and, within it, named services before the
 * catch-all AMAZON, so the first entry is the one to show.
 */
function ownerOf(matches: readonly IpMatch[]): AwsOwner | undefined {
  const best = matches[0];
  if (!best) return undefined;
  return {
    service: best.service,
    region: best.region,
    prefix: best.prefix,
    ...(best.networkBorderGroup !== undefined ? { networkBorderGroup: best.networkBorderGroup } : {}),
    label: `${best.service} ${best.region}`,
  };
}

// A log file has a handful of distinct source values; a bounded cache makes the per-record cost one Map lookup.
const CACHE_LIMIT = 10_000;

/** Classifies `sourceIPAddress` and, with an index, says which AWS range owns it. Results are cached by value. */
export function createEnricher(index: IpIndex | undefined): Enricher {
  const cache = new Map<string, SourceInfo>();
  const none: SourceInfo = Object.freeze({ kind: 'none', value: '' });
  return {
    enabled: index !== undefined,
    ...(index ? { snapshot: { syncToken: index.syncToken, createDate: index.createDate } } : {}),
    source(record) {
      const value = record.sourceIPAddress;
      if (value === undefined || value === '') return none;
      let info = cache.get(value);
      if (info) return info;
      const base = sourceOf(record);
      const aws = base.kind === 'ip' && index ? ownerOf(index.lookup(value)) : undefined;
      info = Object.freeze(aws ? { ...base, aws } : base);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(value, info);
      return info;
    },
  };
}
