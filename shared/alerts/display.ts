import { z } from 'zod';
import type { Alert, Severity } from './schema';

/**
 * What a person needs to act on an alert, extracted once from the Alert and shared by the Slack, SNS and CLI
 * renderers so they never disagree. Pure functions, no I/O.
 *
 * Context keys read here (the contract with the pipelines that emit alerts; documented in docs/alerts.md):
 *   accountName        string               display name of the account (else notify.accountNames)
 *   sourceIpOwner      {service, region} | [{service, region}, …]  the IP is AWS-owned (CloudTrail enrichment)
 *   sourceIpAllowed    boolean              false → "outside allowed CIDRs"
 *   ipRangesLoaded     boolean              false → enrichment was off ("AWS ownership unknown")
 *   counts             {name: number}       IP-space diff counts (v4_added, v4_cidrs_added, …)
 *   cidrsAdded / cidrsRemoved  string[]     IP-space changed CIDRs (also accepted: cidrs: {added, removed})
 *   cidrsTruncated     boolean              the pipeline already cut the lists (counts stay exact)
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

const Owner = z.object({ service: z.string(), region: z.string() });
const KnownContext = z.object({
  accountName: z.string().min(1).optional().catch(undefined),
  sourceIpOwner: z.union([Owner, z.array(Owner)]).optional().catch(undefined),
  sourceIpAllowed: z.boolean().optional().catch(undefined),
  ipRangesLoaded: z.boolean().optional().catch(undefined),
  counts: z.record(z.string(), z.number()).optional().catch(undefined),
  cidrsAdded: z.array(z.string()).optional().catch(undefined),
  cidrsRemoved: z.array(z.string()).optional().catch(undefined),
  cidrs: z
    .object({ added: z.array(z.string()).optional(), removed: z.array(z.string()).optional() })
    .optional()
    .catch(undefined),
  cidrsTruncated: z.boolean().optional().catch(undefined),
});
const knownKeys = new Set(Object.keys(KnownContext.shape));

export interface IpSpaceView {
  counts: [string, number][];
  added: string[];
  removed: string[];
  truncated: boolean;
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
  /** "alice (IAMUser)" … as the pipeline wrote it. */
  actor?: string;
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

function fromLine(alert: Alert, ctx: z.infer<typeof KnownContext>): string | undefined {
  const src = alert.sourceIp;
  if (!src) return undefined;
  if (!isIp(src)) return src === 'AWS Internal' ? 'AWS Internal' : `${src} (AWS service)`;
  const notes: string[] = [];
  const owners = ctx.sourceIpOwner === undefined ? [] : Array.isArray(ctx.sourceIpOwner) ? ctx.sourceIpOwner : [ctx.sourceIpOwner];
  if (owners.length > 0) {
    // Most specific first; the broad "AMAZON" entry adds nothing when a service entry exists.
    const specific = owners.filter((o) => o.service !== 'AMAZON');
    const shown = (specific.length > 0 ? specific : owners).slice(0, 2);
    notes.push(`AWS-owned: ${shown.map((o) => `${o.service} ${o.region}`).join(', ')}`);
  }
  if (ctx.sourceIpAllowed === false) notes.push('outside allowed CIDRs');
  if (ctx.sourceIpAllowed === true) notes.push('within allowed CIDRs');
  if (owners.length === 0 && ctx.ipRangesLoaded === false) notes.push('AWS ownership unknown (no ip-ranges snapshot)');
  return notes.length > 0 ? `${src} — ${notes.join('; ')}` : src;
}

function formatValue(value: unknown, max: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.length > 0 ? clip(value, max) : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
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

export function viewAlert(alert: Alert, options: DisplayOptions = {}): AlertView {
  const ctx = KnownContext.parse(alert.context);
  const style = severityStyle[alert.severity];
  const accountName = ctx.accountName ?? options.accountNames?.[alert.account];
  const whatParts = [alert.eventName, alert.eventSource, alert.region].filter((x): x is string => Boolean(x));

  let ipSpace: IpSpaceView | undefined;
  const added = ctx.cidrsAdded ?? ctx.cidrs?.added;
  const removed = ctx.cidrsRemoved ?? ctx.cidrs?.removed;
  if (ctx.counts || added || removed) {
    ipSpace = {
      counts: Object.entries(ctx.counts ?? {}),
      added: added ?? [],
      removed: removed ?? [],
      truncated: ctx.cidrsTruncated ?? false,
    };
  }

  const details: [string, string][] = [];
  for (const [key, value] of Object.entries(alert.context)) {
    if (knownKeys.has(key)) continue;
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
    actor: alert.actor,
    account: accountLabel(alert.account, accountName),
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
    consoleUrl: alert.eventName || alert.eventIds?.length ? cloudTrailConsoleUrl(alert.region, alert.eventIds, alert.eventName) : undefined,
    runbook: alert.runbook?.trim() || undefined,
    evidence: alert.source ? `${alert.source.bucket ? `s3://${alert.source.bucket}/` : ''}${alert.source.key}` : undefined,
    ipSpace,
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
