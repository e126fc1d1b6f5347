import { z } from 'zod';
import type { Alert, Severity } from './schema';

/**
 * What a person needs to act on an alert, extracted once from the Alert and shared by the Slack, SNS and CLI
 * renderers so they never disagree. Pure functions, no I/O.
 *
 * Context keys read here — the contract with the pipelines that emit alerts (documented in docs/alerts.md). Every key
 * is optional and read leniently: a missing or differently-shaped value just is not shown.
 *   CloudTrail (shared/rules/engine defaultContext):
 *     actorName, actorType   "alice", "iam-user"              → Who
 *     profile                detection profile of the account → the account's name ("default" is not shown)
 *     accountName            explicit display name (wins over profile)
 *     sourceKind             ip | aws-service | aws-internal …
 *     awsOwner, awsPrefix    "EC2 us-west-2", "52.94.0.0/22"  → "AWS-owned: EC2 us-west-2"
 *     sourceAllowed          boolean; false                   → "outside allowed CIDRs"
 *     ipRanges               "off" when no snapshot           → "AWS ownership unknown"
 *   IP space (shared/ip-ranges/alert.ts):
 *     counts                 {v4_added, …}                    → Changes
 *     cidrs                  {ipv4|ipv6: {added|removed: {cidrs[], total, truncated}}} → changed CIDRs
 *     previous, current      {syncToken, createDate}          → Version
 *     byService              {ipv4|ipv6: {added|removed: {service: n}}} → By service
 *     flapping, suppressedFlapping, movedTotal
 * Every other context entry is shown as a generic "key: value" detail, clipped.
 */

export interface DisplayOptions {
  /** IANA timezone shown beside UTC. */
  officeTimezone?: string;
  /** Account ID → display name. */
  accountNames?: Record<string, string>;
}

export const severityStyle: Record<Severity, { label: string; emoji: string; color: string }> = {
  critical: { label: 'CRITICAL', emoji: ':red_circle:', color: '#B00020' },
  high: { label: 'HIGH', emoji: ':large_orange_circle:', color: '#E8590C' },
  medium: { label: 'MEDIUM', emoji: ':large_yellow_circle:', color: '#F2C744' },
  low: { label: 'LOW', emoji: ':large_blue_circle:', color: '#3B82F6' },
  info: { label: 'INFO', emoji: ':white_circle:', color: '#9CA3AF' },
};

export const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;

const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const Version = z.object({ syncToken: z.string(), createDate: z.string() });
const CidrList = z.object({ cidrs: z.array(z.string()), total: z.number().optional(), truncated: z.boolean().optional() });
const FamilyLists = z.object({ added: CidrList.optional(), removed: CidrList.optional() });
const Breakdown = z.record(
  z.string(),
  z.object({ added: z.record(z.string(), z.number()).optional(), removed: z.record(z.string(), z.number()).optional() }),
);

const KnownContext = z.object({
  accountName: lenient(z.string().min(1)),
  profile: lenient(z.string().min(1)),
  actorName: lenient(z.string().min(1)),
  actorType: lenient(z.string().min(1)),
  sourceKind: lenient(z.string()),
  awsOwner: lenient(z.string().min(1)),
  awsPrefix: lenient(z.string().min(1)),
  sourceAllowed: lenient(z.boolean()),
  ipRanges: lenient(z.string()),
  counts: lenient(z.record(z.string(), z.number())),
  cidrs: lenient(z.object({ ipv4: FamilyLists.optional(), ipv6: FamilyLists.optional() })),
  previous: lenient(Version),
  current: lenient(Version),
  byService: lenient(Breakdown),
  flapping: lenient(z.array(z.string())),
  suppressedFlapping: lenient(z.array(z.string())),
  movedTotal: lenient(z.number()),
});
type KnownContext = z.infer<typeof KnownContext>;

/** Shown elsewhere in the message, or internal bookkeeping that means nothing to on-call. */
const hiddenKeys = new Set([
  ...Object.keys(KnownContext.shape),
  'alertWindowStart',
  'allCounts',
  'watch',
  'byRegion',
  'changedPrefixes',
  'changedPrefixesTotal',
  'moved',
]);

export interface IpSpaceView {
  counts: [string, number][];
  /** Changed CIDRs as the alert carries them (possibly already cut by the pipeline). */
  added: string[];
  removed: string[];
  /** Exact totals (≥ the list lengths). */
  addedTotal: number;
  removedTotal: number;
  /** "1723420811 (2024-08-12-01-20-11) → 1723470000 (2024-08-12-13-40-12)" */
  version?: string;
  /** "EC2 +12/−3, CLOUDFRONT +2/−0" */
  byService?: string;
  flapping: string[];
  suppressed: number;
  moved: number;
}

export interface AlertView {
  severity: Severity;
  label: string;
  emoji: string;
  color: string;
  title: string;
  summary: string;
  ruleId: string;
  categories: string[];
  /** The principal as the pipeline wrote it (usually the ARN). */
  actor?: string;
  /** What a person calls it: "alice", "deploy-bot/i-0abc…". */
  actorName?: string;
  /** "iam-user", "assumed-role", "root" … */
  actorType?: string;
  /** "123456789012 (prod)" */
  account?: string;
  /** "203.0.113.7 — outside allowed CIDRs" */
  from?: string;
  /** "StopLogging · cloudtrail.amazonaws.com · us-east-1" */
  what?: string;
  region?: string;
  whenUtc: string;
  whenOffice?: string;
  count: number;
  firstSeenUtc?: string;
  lastSeenUtc?: string;
  consoleUrl?: string;
  runbook?: string;
  evidence?: string;
  ipSpace?: IpSpaceView;
  details: [string, string][];
  id: string;
  dedupKey: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-08-12 14:03:22 UTC": unambiguous, sortable, the same in every viewer's locale. */
export function formatUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} UTC`;
}

/** "2026-08-12 16:03:22 CEST (Europe/Paris)"; undefined for an invalid timezone or date. */
export function formatInZone(iso: string, timeZone: string): string | undefined {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).formatToParts(d);
  } catch {
    return undefined;
  }
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName} (${timeZone})`;
}

/** The console host of the region's partition (China and GovCloud have their own). */
function consoleHost(region: string): string {
  if (region.startsWith('cn-')) return `${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return 'console.amazonaws-us-gov.com';
  return `${region}.console.aws.amazon.com`;
}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * CloudTrail console event-history deep link. Event history is per region, so the link needs the record's region;
 * one event opens the event itself, several open the history filtered by event name.
 */
export function cloudTrailConsoleUrl(region: string, eventIds: string[] = [], eventName?: string): string | undefined {
  if (!regionPattern.test(region)) return undefined;
  const base = `https://${consoleHost(region)}/cloudtrail/home?region=${region}`;
  const first = eventIds[0];
  if (first && /^[A-Za-z0-9-]+$/.test(first)) return `${base}#/events/${first}`;
  if (eventName && /^[A-Za-z0-9]+$/.test(eventName)) return `${base}#/events?EventName=${eventName}`;
  return undefined;
}

/** "arn:aws:sts::1234:assumed-role/Admin/alice" → "Admin/alice": the part a person recognises. */
export function shortActor(actor: string): string {
  const arn = /^arn:[^:]+:(?:iam|sts)::\d*:(?:user|assumed-role|role|federated-user)\/(.+)$/.exec(actor);
  return arn?.[1] ?? actor;
}

export function accountLabel(accountId: string, name?: string): string | undefined {
  if (!accountId && !name) return undefined;
  if (!accountId) return name;
  return name && name !== accountId ? `${accountId} (${name})` : accountId;
}

const isIp = (s: string) => /^[0-9.]+$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));

function fromLine(alert: Alert, ctx: KnownContext): string | undefined {
  const src = alert.sourceIp;
  if (!src) return undefined;
  if (ctx.sourceKind === 'aws-internal' || src === 'AWS Internal') return 'AWS Internal (a call made by AWS itself)';
  if (ctx.sourceKind === 'aws-service' || (ctx.sourceKind === undefined && !isIp(src))) return `${src} (AWS service)`;
  if (ctx.sourceKind === 'invalid') return `${src} (not a valid IP address)`;
  const notes: string[] = [];
  if (ctx.awsOwner) notes.push(`AWS-owned: ${ctx.awsOwner}${ctx.awsPrefix ? ` (${ctx.awsPrefix})` : ''}`);
  if (ctx.sourceAllowed === false) notes.push('outside allowed CIDRs');
  if (ctx.sourceAllowed === true) notes.push('within allowed CIDRs');
  if (!ctx.awsOwner && ctx.ipRanges === 'off') notes.push('AWS ownership unknown (no ip-ranges snapshot)');
  return notes.length > 0 ? `${src} — ${notes.join('; ')}` : src;
}

function ipSpaceView(ctx: KnownContext): IpSpaceView | undefined {
  if (!ctx.counts && !ctx.cidrs) return undefined;
  const families = [ctx.cidrs?.ipv4, ctx.cidrs?.ipv6];
  const list = (kind: 'added' | 'removed') => families.flatMap((f) => f?.[kind]?.cidrs ?? []);
  const total = (kind: 'added' | 'removed') =>
    families.reduce((n, f) => n + (f?.[kind]?.total ?? f?.[kind]?.cidrs.length ?? 0), 0);
  let byService: string | undefined;
  if (ctx.byService) {
    const sums = new Map<string, { added: number; removed: number }>();
    for (const family of Object.values(ctx.byService)) {
      for (const kind of ['added', 'removed'] as const) {
        for (const [service, n] of Object.entries(family[kind] ?? {})) {
          const entry = sums.get(service) ?? { added: 0, removed: 0 };
          entry[kind] += n;
          sums.set(service, entry);
        }
      }
    }
    const sorted = [...sums].sort((a, b) => b[1].added + b[1].removed - (a[1].added + a[1].removed));
    const shown = sorted.slice(0, 8).map(([s, n]) => `${s} +${n.added}/−${n.removed}`);
    if (sorted.length > 8) shown.push(`… ${sorted.length - 8} more`);
    byService = shown.join(', ') || undefined;
  }
  const v = (x?: { syncToken: string; createDate: string }) => (x ? `${x.syncToken} (${x.createDate})` : '?');
  return {
    counts: Object.entries(ctx.counts ?? {}),
    added: list('added'),
    removed: list('removed'),
    addedTotal: total('added'),
    removedTotal: total('removed'),
    version: ctx.previous || ctx.current ? `${v(ctx.previous)} → ${v(ctx.current)}` : undefined,
    byService,
    flapping: ctx.flapping ?? [],
    suppressed: ctx.suppressedFlapping?.length ?? 0,
    moved: ctx.movedTotal ?? 0,
  };
}

function formatValue(value: unknown, max: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.length > 0 ? clip(value, max) : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length === 0) return undefined;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    const shown = value.slice(0, 10).join(', ');
    return clip(value.length > 10 ? `${shown} … (+${value.length - 10})` : shown, max);
  }
  try {
    return clip(JSON.stringify(value), max);
  } catch {
    return undefined;
  }
}

/** The account's display name: explicit names first, then the detection profile the pipeline resolved. */
function accountNameOf(alert: Alert, ctx: KnownContext, options: DisplayOptions): string | undefined {
  return (
    ctx.accountName ??
    options.accountNames?.[alert.account] ??
    (ctx.profile && ctx.profile !== 'default' ? ctx.profile : undefined)
  );
}

export function viewAlert(alert: Alert, options: DisplayOptions = {}): AlertView {
  const ctx = KnownContext.parse(alert.context);
  const style = severityStyle[alert.severity];
  const whatParts = [alert.eventName, alert.eventSource, alert.region].filter((x): x is string => Boolean(x));

  const details: [string, string][] = [];
  for (const [key, value] of Object.entries(alert.context)) {
    if (hiddenKeys.has(key)) continue;
    const text = formatValue(value, 300);
    if (text !== undefined) details.push([key, text]);
  }

  const differentSeen = alert.firstSeen && alert.lastSeen && alert.firstSeen !== alert.lastSeen;
  return {
    severity: alert.severity,
    label: style.label,
    emoji: style.emoji,
    color: style.color,
    title: alert.title,
    summary: alert.summary,
    ruleId: alert.ruleId,
    categories: alert.categories,
    actor: alert.actor ?? ctx.actorName,
    actorName: ctx.actorName ?? (alert.actor ? shortActor(alert.actor) : undefined),
    actorType: ctx.actorType,
    account: accountLabel(alert.account, accountNameOf(alert, ctx, options)),
    from: fromLine(alert, ctx),
    what: alert.eventName ? whatParts.join(' · ') : undefined,
    region: alert.region || undefined,
    whenUtc: formatUtc(alert.eventTime),
    whenOffice:
      options.officeTimezone && options.officeTimezone !== 'UTC'
        ? formatInZone(alert.eventTime, options.officeTimezone)
        : undefined,
    count: alert.count,
    firstSeenUtc: differentSeen && alert.firstSeen ? formatUtc(alert.firstSeen) : undefined,
    lastSeenUtc: differentSeen && alert.lastSeen ? formatUtc(alert.lastSeen) : undefined,
    consoleUrl:
      alert.eventName || alert.eventIds?.length ? cloudTrailConsoleUrl(alert.region, alert.eventIds, alert.eventName) : undefined,
    runbook: alert.runbook?.trim() || undefined,
    evidence: alert.source ? `${alert.source.bucket ? `s3://${alert.source.bucket}/` : ''}${alert.source.key}` : undefined,
    ipSpace: ipSpaceView(ctx),
    details,
    id: alert.id,
    dedupKey: alert.dedupKey,
  };
}

/**
 * The first `max` items plus how many were left out. Lists are cut, never the counts: a person sees "… and 132 more"
 * and the exact totals beside it.
 */
export function truncateList(items: string[], max: number): { shown: string[]; more: number } {
  return items.length <= max ? { shown: items, more: 0 } : { shown: items.slice(0, max), more: items.length - max };
}
