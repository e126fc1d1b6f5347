import { parseCidr } from './ip';
import { type IpEntry, type IpRanges, allEntries } from './schema';

/**
 * The difference between two versions of ip-ranges.json. The arrays are not sorted and their order changes between
 * versions, so entries are compared as sets of (prefix, region, service, network_border_group):
 *
 * - added / removed entries (a CIDR that gains a service is an added entry, not an added CIDR);
 * - moved entries: the same (prefix, service) in both with another region or border group (also counted once as
 *   removed and once as added, as the set difference has them);
 * - distinct CIDRs added and removed, per family;
 * - breakdowns of added/removed entries by service and by region, per family.
 */

export interface DiffCounts {
  v4_added: number;
  v4_removed: number;
  v6_added: number;
  v6_removed: number;
  v4_cidrs_added: number;
  v4_cidrs_removed: number;
  v6_cidrs_added: number;
  v6_cidrs_removed: number;
}

export interface MovedEntry {
  family: IpEntry['family'];
  prefix: string;
  service: string;
  from: { region: string; networkBorderGroup?: string };
  to: { region: string; networkBorderGroup?: string };
}

type Breakdown = Record<'ipv4' | 'ipv6', { added: Record<string, number>; removed: Record<string, number> }>;

export interface IpRangesDiff {
  old: { syncToken: string; createDate: string };
  new: { syncToken: string; createDate: string };
  counts: DiffCounts;
  added: IpEntry[];
  removed: IpEntry[];
  moved: MovedEntry[];
  cidrs: Record<'ipv4' | 'ipv6', { added: string[]; removed: string[] }>;
  byService: Breakdown;
  byRegion: Breakdown;
}

export const entryKey = (e: IpEntry): string =>
  `${e.prefix}|${e.region}|${e.service}|${e.networkBorderGroup ?? ''}`;

/** Numeric address order (then length, service, region) — readable, and stable across versions. */
export function compareEntries(a: IpEntry, b: IpEntry): number {
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1;
  if (a.prefix !== b.prefix) {
    const x = parseCidr(a.prefix);
    const y = parseCidr(b.prefix);
    if (x && y) {
      for (let i = 0; i < 4; i++) if (x.words[i] !== y.words[i]) return (x.words[i] as number) - (y.words[i] as number);
      if (x.length !== y.length) return x.length - y.length;
    }
    return a.prefix < b.prefix ? -1 : 1;
  }
  return a.service.localeCompare(b.service) || a.region.localeCompare(b.region) ||
    (a.networkBorderGroup ?? '').localeCompare(b.networkBorderGroup ?? '');
}

const countBy = (entries: IpEntry[], field: 'service' | 'region'): Record<string, number> => {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e[field], (counts.get(e[field]) ?? 0) + 1);
  // Largest first, then by name, as the README's tables read.
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
};

const byFamily = (entries: IpEntry[], family: IpEntry['family']) => entries.filter((e) => e.family === family);

function sortPrefixes(prefixes: Iterable<string>, family: IpEntry['family']): string[] {
  const asEntries = [...prefixes].map((prefix) => ({ family, prefix, region: '', service: '' }));
  return asEntries.sort(compareEntries).map((e) => e.prefix);
}

/** Diffs two entry lists (both families may be mixed). */
export function diffEntries(
  oldEntries: readonly IpEntry[],
  newEntries: readonly IpEntry[],
  versions: { old: { syncToken: string; createDate: string }; new: { syncToken: string; createDate: string } },
): IpRangesDiff {
  const oldKeys = new Set(oldEntries.map(entryKey));
  const newKeys = new Set(newEntries.map(entryKey));
  const added = newEntries.filter((e) => !oldKeys.has(entryKey(e))).sort(compareEntries);
  const removed = oldEntries.filter((e) => !newKeys.has(entryKey(e))).sort(compareEntries);

  // (prefix, service) is unique within a file (checked on every real file), so it identifies an entry across versions.
  const removedByPrefixService = new Map(removed.map((e) => [`${e.family}|${e.prefix}|${e.service}`, e]));
  const moved: MovedEntry[] = [];
  for (const e of added) {
    const before = removedByPrefixService.get(`${e.family}|${e.prefix}|${e.service}`);
    if (!before) continue;
    moved.push({
      family: e.family,
      prefix: e.prefix,
      service: e.service,
      from: { region: before.region, ...(before.networkBorderGroup !== undefined ? { networkBorderGroup: before.networkBorderGroup } : {}) },
      to: { region: e.region, ...(e.networkBorderGroup !== undefined ? { networkBorderGroup: e.networkBorderGroup } : {}) },
    });
  }

  const cidrs = {} as IpRangesDiff['cidrs'];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const before = new Set(byFamily(oldEntries as IpEntry[], family).map((e) => e.prefix));
    const after = new Set(byFamily(newEntries as IpEntry[], family).map((e) => e.prefix));
    cidrs[family] = {
      added: sortPrefixes([...after].filter((p) => !before.has(p)), family),
      removed: sortPrefixes([...before].filter((p) => !after.has(p)), family),
    };
  }
  const breakdown = (field: 'service' | 'region'): Breakdown => ({
    ipv4: { added: countBy(byFamily(added, 'ipv4'), field), removed: countBy(byFamily(removed, 'ipv4'), field) },
    ipv6: { added: countBy(byFamily(added, 'ipv6'), field), removed: countBy(byFamily(removed, 'ipv6'), field) },
  });

  return {
    old: versions.old,
    new: versions.new,
    counts: {
      v4_added: byFamily(added, 'ipv4').length,
      v4_removed: byFamily(removed, 'ipv4').length,
      v6_added: byFamily(added, 'ipv6').length,
      v6_removed: byFamily(removed, 'ipv6').length,
      v4_cidrs_added: cidrs.ipv4.added.length,
      v4_cidrs_removed: cidrs.ipv4.removed.length,
      v6_cidrs_added: cidrs.ipv6.added.length,
      v6_cidrs_removed: cidrs.ipv6.removed.length,
    },
    added,
    removed,
    moved,
    cidrs,
    byService: breakdown('service'),
    byRegion: breakdown('region'),
  };
}

/** Diffs two versions; `filter` restricts both sides first (e.g. to the watched services/regions). */
export function diffIpRanges(oldRanges: IpRanges, newRanges: IpRanges, filter?: (e: IpEntry) => boolean): IpRangesDiff {
  const pick = (r: IpRanges) => (filter ? allEntries(r).filter(filter) : allEntries(r));
  return diffEntries(pick(oldRanges), pick(newRanges), {
    old: { syncToken: oldRanges.syncToken, createDate: oldRanges.createDate },
    new: { syncToken: newRanges.syncToken, createDate: newRanges.createDate },
  });
}

export const totalChanges = (d: IpRangesDiff): number => d.added.length + d.removed.length;

/** "+3 −2 IPv4, +3 −0 IPv6 entries (1/1 and 1/0 CIDRs)" style lines for people. */
export function formatDiffText(d: IpRangesDiff): string {
  const c = d.counts;
  const lines = [
    `ip-ranges ${d.old.createDate} (syncToken ${d.old.syncToken}) → ${d.new.createDate} (syncToken ${d.new.syncToken})`,
    `IPv4: +${c.v4_added} −${c.v4_removed} entries, +${c.v4_cidrs_added} −${c.v4_cidrs_removed} CIDRs`,
    `IPv6: +${c.v6_added} −${c.v6_removed} entries, +${c.v6_cidrs_added} −${c.v6_cidrs_removed} CIDRs`,
  ];
  const breakdown = (title: string, b: Breakdown) => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      for (const kind of ['added', 'removed'] as const) {
        const items = Object.entries(b[family][kind]);
        if (items.length > 0) {
          lines.push(`  ${family === 'ipv4' ? 'IPv4' : 'IPv6'} ${kind}: ${items.map(([k, n]) => `${k} ${n}`).join(', ')}`);
        }
      }
    }
  };
  if (totalChanges(d) > 0) {
    lines.push('', 'By service:');
    breakdown('service', d.byService);
    lines.push('', 'By region:');
    breakdown('region', d.byRegion);
  }
  // The border group is shown where it says more than the region (Local and Wavelength Zones).
  const nbg = (x: { region: string; networkBorderGroup?: string }) =>
    x.networkBorderGroup && x.networkBorderGroup !== x.region ? ` (${x.networkBorderGroup})` : '';
  if (d.moved.length > 0) {
    lines.push('', `Moved (${d.moved.length}):`);
    for (const m of d.moved) {
      lines.push(`  ${m.prefix} ${m.service}: ${m.from.region}/${m.from.networkBorderGroup ?? '-'} → ${m.to.region}/${m.to.networkBorderGroup ?? '-'}`);
    }
  }
  const entryLine = (sign: string, e: IpEntry) => `  ${sign} ${e.prefix} ${e.service} ${e.region}${nbg(e)}`;
  if (d.added.length > 0) lines.push('', `Added (${d.added.length}):`, ...d.added.map((e) => entryLine('+', e)));
  if (d.removed.length > 0) lines.push('', `Removed (${d.removed.length}):`, ...d.removed.map((e) => entryLine('-', e)));
  if (totalChanges(d) === 0) lines.push('', 'No entry changed.');
  return lines.join('\n');
}
