import type { Severity } from '../../alerts/schema';
import type { CloudTrailRecord } from '../../cloudtrail/record';
import type { RuleContext } from '../engine/context';
import { shiftSeverity } from '../engine/severity';

/**
 * Small readers of CloudTrail request/response shapes shared by the rule pack. Everything here tolerates missing or
 * oddly typed fields: a record is lenient by schema, so a rule must never throw on a field AWS left out.
 */

export type Obj = Record<string, unknown>;

export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** `requestParameters[key]` as a non-empty string. */
export const param = (record: CloudTrailRecord, key: string): string | undefined => str(record.requestParameters?.[key]);

/** A nested value, e.g. `at(record.responseElements, 'vpcPeeringConnection', 'requesterVpcInfo', 'ownerId')`. */
export function at(value: unknown, ...path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/**
 * The objects of an EC2-style list. EC2 writes lists in CloudTrail as `{ "items": [ … ] }` (and sometimes as a plain
 * array, or a single object for one element); all three give the list of objects.
 */
export function ec2Items(v: unknown): Obj[] {
  if (Array.isArray(v)) return v.filter(isObject);
  if (isObject(v)) {
    if (Array.isArray(v.items)) return v.items.filter(isObject);
    if (Object.keys(v).length === 0) return [];
    if (!('items' in v)) return [v];
  }
  return [];
}

/** What identifies the caller in dedup keys: the principal ARN, else the principal id, else the display name. */
export const actorKey = (ctx: RuleContext<unknown>): string => ctx.actor.arn ?? ctx.actor.principalId ?? ctx.actor.display;

/**
 * The caller as a person or role, for dedup keys that should group every session of one role (a scanner that
 * rotates session names is still one incident): the session issuer (role) ARN for assumed roles, else the actor.
 */
export const principalKey = (ctx: RuleContext<unknown>): string => ctx.actor.sessionIssuer?.arn ?? actorKey(ctx);

/** "Attempt failed: …" for failed calls, so on-call sees at once that nothing changed. */
export const attempt = (ctx: RuleContext<unknown>, title: string): string => (ctx.succeeded ? title : `Attempt failed: ${title}`);

/** The IAM user name of the caller, when the caller is an IAM user. */
export const callerUserName = (record: CloudTrailRecord, ctx: RuleContext<unknown>): string | undefined =>
  ctx.actor.kind === 'iam-user' ? (record.userIdentity?.userName ?? ctx.actor.display) : undefined;

export interface Adjustments {
  /** Levels for a failed call (default −1: nothing changed, but someone tried). */
  failed?: number;
  /** Levels when root made the call (default +1). */
  root?: number;
}

/**
 * The adjustments most rules share: a failed call one level lower, root one level higher. `extra` is added on top
 * (the rule's own, event-dependent steps). The engine clamps nothing, so the result is clamped here.
 */
export function adjust(ctx: RuleContext<unknown>, base: Severity, extra = 0, a: Adjustments = {}): Severity {
  let steps = extra;
  if (!ctx.succeeded) steps += a.failed ?? -1;
  if (ctx.actor.kind === 'root') steps += a.root ?? 1;
  return shiftSeverity(base, steps);
}

/** The highest of some severities. */
export function highest(...severities: (Severity | undefined)[]): Severity {
  const order: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
  let best = 0;
  for (const s of severities) if (s !== undefined) best = Math.max(best, order.indexOf(s));
  return order[best]!;
}

/** Severity `s` moved by `steps`, clamped. */
export const shift = shiftSeverity;

/** Compact list for titles: `a, b, c and 2 more`. */
export function listText(values: readonly string[], max = 3): string {
  if (values.length <= max) return values.join(', ');
  return `${values.slice(0, max).join(', ')} and ${values.length - max} more`;
}
