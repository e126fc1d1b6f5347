import type { IpSpaceWatch } from '../config/ip-space';
import { type IpEntry, type IpRanges, ipv4Entries, ipv6Entries } from './schema';

/** Which address families a query covers. The CLI's default is IPv4, as the original script's. */
export type FamilyChoice = 'ipv4' | 'ipv6' | 'all';

export interface EntryQuery {
  /** Case-insensitive exact service name (EC2, S3, AMAZON …). */
  service?: string | undefined;
  /**
   * Case-insensitive exact region. Unless `includeGlobal` is false, entries in region GLOBAL match too, as they did
   * in the original script: a global service (CloudFront, Route 53 health checks…) is reachable from every region.
   */
  region?: string | undefined;
  /** Case-insensitive exact network border group (a region, or a Local/Wavelength Zone group). */
  networkBorderGroup?: string | undefined;
  family?: FamilyChoice;
  includeGlobal?: boolean;
}

export const entriesOf = (r: IpRanges, family: FamilyChoice): IpEntry[] =>
  family === 'ipv4' ? ipv4Entries(r) : family === 'ipv6' ? ipv6Entries(r) : [...ipv4Entries(r), ...ipv6Entries(r)];

const sortedUnique = (values: Iterable<string>): string[] =>
  // Plain code-unit order, like `sort` in the shell with LC_ALL=C: "GLOBAL" sorts before "af-south-1".
  [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

export const listRegions = (r: IpRanges, family: FamilyChoice = 'ipv4'): string[] =>
  sortedUnique(entriesOf(r, family).map((e) => e.region));

export const listServices = (r: IpRanges, family: FamilyChoice = 'ipv4'): string[] =>
  sortedUnique(entriesOf(r, family).map((e) => e.service));

export const listNetworkBorderGroups = (r: IpRanges, family: FamilyChoice = 'ipv4'): string[] =>
  sortedUnique(entriesOf(r, family).flatMap((e) => (e.networkBorderGroup ? [e.networkBorderGroup] : [])));

/** A predicate for one query, shared by the CLI and the alert filters. */
export function entryMatcher(q: Omit<EntryQuery, 'family'>): (e: IpEntry) => boolean {
  const service = q.service?.toLowerCase();
  const region = q.region?.toLowerCase();
  const nbg = q.networkBorderGroup?.toLowerCase();
  const includeGlobal = q.includeGlobal ?? true;
  return (e) => {
    if (service !== undefined && e.service.toLowerCase() !== service) return false;
    if (region !== undefined) {
      const r = e.region.toLowerCase();
      if (r !== region && !(includeGlobal && r === 'global')) return false;
    }
    if (nbg !== undefined && (e.networkBorderGroup ?? '').toLowerCase() !== nbg) return false;
    return true;
  };
}

/** Entries matching the query, IPv4 before IPv6, each in file order. */
export function queryEntries(r: IpRanges, q: EntryQuery = {}): IpEntry[] {
  return entriesOf(r, q.family ?? 'ipv4').filter(entryMatcher(q));
}

/** Distinct prefixes of some entries, in first-seen order (a CIDR appears once per service that uses it). */
export const distinctPrefixes = (entries: readonly IpEntry[]): string[] => [...new Set(entries.map((e) => e.prefix))];

/**
 * A predicate for the configured watches (`ipSpace.watch`): an entry is watched when its service equals one watch's
 * service and the watch's region is "*" or equals the entry's region exactly (no GLOBAL widening: a watch names
 * what it watches). No watches means everything is watched.
 */
export function watchMatcher(watches: readonly IpSpaceWatch[]): (e: IpEntry) => boolean {
  if (watches.length === 0) return () => true;
  const rules = watches.map((w) => ({ service: w.service.toLowerCase(), region: w.region.toLowerCase() }));
  return (e) => {
    const service = e.service.toLowerCase();
    const region = e.region.toLowerCase();
    return rules.some((w) => (w.service === '*' || w.service === service) && (w.region === '*' || w.region === region));
  };
}
