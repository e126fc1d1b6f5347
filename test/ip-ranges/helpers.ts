import { readFileSync } from 'node:fs';
import { type LoadedIpRanges, parseIpRangesBytes } from '../../shared/ip-ranges/load';
import { ipRangesFile } from '../support/shared-data';

/** The five real snapshots of ../shared/data/ip-ranges (see its README). */
export const SNAPSHOTS = {
  v2017: '2017-11-30-18-42-12',
  v2022: '2022-04-27-19-03-26',
  jan19: '2026-01-29-19-18-05',
  jan21: '2026-01-29-21-08-05',
  aug22: '2026-08-22-15-17-05',
} as const;

const cache = new Map<string, LoadedIpRanges>();

/** A real snapshot, parsed once per test file. */
export function snapshot(createDate: string): LoadedIpRanges {
  let loaded = cache.get(createDate);
  if (!loaded) {
    const path = ipRangesFile(createDate);
    loaded = parseIpRangesBytes(readFileSync(path), path);
    cache.set(createDate, loaded);
  }
  return loaded;
}

export const snapshotPath = (createDate: string): string => ipRangesFile(createDate);
export const snapshotBytes = (createDate: string): Buffer => readFileSync(ipRangesFile(createDate));
