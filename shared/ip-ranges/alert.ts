import { createHash } from 'node:crypto';
import { type Alert, Alert as AlertSchema } from '../alerts/schema';
import type { IpSpaceConfig } from '../config/ip-space';
import type { IpRangesDiff, MovedEntry } from './diff';
import { createDateToDate } from './schema';

export const IP_SPACE_RULE_ID = 'ip-space-changed';

export interface IpSpaceAlertInput {
  /** The diff restricted to the watched services/regions. */
  watched: IpRangesDiff;
  /** Counts of the whole change, for context. */
  allCounts: IpRangesDiff['counts'];
  /** Changed CIDRs in the watched diff that flap but are reported this time (first flap in the window). */
  flapping: string[];
  /** Changed CIDRs left out because they flap and were already alerted within the window. */
  suppressed: string[];
  config: Pick<IpSpaceConfig, 'watch' | 'maxCidrsInAlert' | 'severity' | 'flappingWindowHours'>;
  account: string;
  snapshot: { bucket: string; key: string };
}

const familyName = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;

/**
 * The alert for one new version: what changed for the watched services/regions, with exact counts and the changed
 * CIDRs (truncated to `maxCidrsInAlert`, the counts stay exact). Its id is derived from the two versions, so
 * processing the same change twice yields the same alert id (publishing is idempotent on it).
 */
export function buildIpSpaceAlert(input: IpSpaceAlertInput): Alert {
  const { watched, config, suppressed, flapping } = input;
  const skip = new Set(suppressed);
  const flaps = new Set(flapping);
  const max = config.maxCidrsInAlert;
  const list = (family: 'ipv4' | 'ipv6', kind: 'added' | 'removed') => {
    const all = watched.cidrs[family][kind].filter((c) => !skip.has(c));
    return { cidrs: all.slice(0, max), total: all.length, truncated: all.length > max };
  };
  const cidrs = {
    ipv4: { added: list('ipv4', 'added'), removed: list('ipv4', 'removed') },
    ipv6: { added: list('ipv6', 'added'), removed: list('ipv6', 'removed') },
  };
  // Entries of existing CIDRs that changed (a new service on a CIDR, a move) are changes too, listed by prefix.
  const changedPrefixes = [...new Set([...watched.added, ...watched.removed].map((e) => e.prefix))].filter(
    (p) => !skip.has(p),
  );
  const c = watched.counts;
  const services = [...new Set([...watched.added, ...watched.removed].map((e) => e.service))].sort();
  const regions = [...new Set([...watched.added, ...watched.removed].map((e) => e.region))].sort();
  const idHash = createHash('sha256').update(`${watched.old.syncToken}>${watched.new.syncToken}`).digest('hex').slice(0, 16);
  const moved = watched.moved.filter((m: MovedEntry) => !skip.has(m.prefix));

  const parts: string[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const added = family === 'ipv4' ? c.v4_added : c.v6_added;
    const removed = family === 'ipv4' ? c.v4_removed : c.v6_removed;
    if (added + removed > 0) parts.push(`${familyName[family]} +${added}/−${removed} entries`);
  }
  const cidrLine = (['ipv4', 'ipv6'] as const)
    .flatMap((f) => [
      ...cidrs[f].added.cidrs.map((x) => `+${x}${flaps.has(x) ? ' (flapping)' : ''}`),
      ...cidrs[f].removed.cidrs.map((x) => `-${x}${flaps.has(x) ? ' (flapping)' : ''}`),
    ])
    .slice(0, 10);
  const summary = [
    `AWS published ip-ranges ${watched.new.createDate} (syncToken ${watched.new.syncToken}); for the watched ` +
      `services/regions: ${parts.join(', ') || 'no entry changes'}; ` +
      `CIDRs IPv4 +${c.v4_cidrs_added}/−${c.v4_cidrs_removed}, IPv6 +${c.v6_cidrs_added}/−${c.v6_cidrs_removed}.`,
    moved.length > 0 ? `${moved.length} entries moved region or border group.` : '',
    flapping.length > 0 ? `Flapping (alerted once per ${config.flappingWindowHours} h): ${flapping.slice(0, 10).join(', ')}.` : '',
    suppressed.length > 0 ? `${suppressed.length} flapping CIDRs left out (already alerted).` : '',
    cidrLine.length > 0 ? `Changed: ${cidrLine.join(' ')}${changedPrefixes.length > cidrLine.length ? ' …' : ''}` : '',
  ]
    .filter(Boolean)
    .join(' ');

  return AlertSchema.parse({
    id: `ip-space-${idHash}`,
    ruleId: IP_SPACE_RULE_ID,
    title: `AWS IP ranges changed for ${services.length <= 3 ? services.join(', ') : `${services.length} watched services`}`,
    severity: config.severity,
    categories: ['ip-space', 'network'],
    account: input.account,
    region: regions.length === 1 ? (regions[0] as string) : regions.length === 0 ? 'global' : 'multiple',
    eventTime: createDateToDate(watched.new.createDate).toISOString(),
    summary,
    context: {
      previous: watched.old,
      current: watched.new,
      watch: config.watch,
      counts: c,
      allCounts: input.allCounts,
      cidrs,
      changedPrefixes: changedPrefixes.slice(0, max),
      changedPrefixesTotal: changedPrefixes.length,
      moved: moved.slice(0, max),
      movedTotal: moved.length,
      byService: watched.byService,
      byRegion: watched.byRegion,
      flapping,
      suppressedFlapping: suppressed,
    },
    count: Math.max(1, changedPrefixes.length),
    dedupKey: `${IP_SPACE_RULE_ID}:${watched.new.syncToken}`,
    source: input.snapshot,
  });
}
