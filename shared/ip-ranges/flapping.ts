import { z } from 'zod';
import { SyncToken } from './schema';

/**
 * Flapping CIDRs. AWS sometimes adds and removes the same CIDR for days (1.178.86.0/24 came and went about three
 * times a day in August 2026); alerting on every flip trains people to ignore the alerts. So every CIDR change is
 * remembered for a window (`ipSpace.flappingWindowHours`): a change that returns a CIDR to a state it had within the
 * window (added after a removal, removed after an addition, moved back) marks it flapping. The first flap is alerted,
 * marked as flapping; further changes of that CIDR are suppressed until a window has passed since that alert.
 *
 * Time is the versions' `createDate`, not the wall clock, so re-processing a version decides exactly as before.
 */

const CidrChange = z.object({
  at: z.iso.datetime({ offset: true }),
  syncToken: SyncToken,
  /** The CIDR's entries before and after, as a signature ("" = absent). */
  before: z.string(),
  after: z.string(),
});

export const CidrHistory = z.object({
  changes: z.array(CidrChange),
  flappingAlertedAt: z.iso.datetime({ offset: true }).optional(),
});
export type CidrHistory = z.infer<typeof CidrHistory>;

/** CIDR → its recent changes. Carried in the latest pointer (store.ts), so it moves with the version atomically. */
export const FlapHistory = z.record(z.string(), CidrHistory);
export type FlapHistory = z.infer<typeof FlapHistory>;

export interface CidrStateChange {
  cidr: string;
  before: string;
  after: string;
}

export interface FlapDecision {
  flapping: boolean;
  /** Flapping and already alerted as such within the window: leave it out of the alert. */
  suppressed: boolean;
}

/**
 * Records this version's CIDR changes and decides, per CIDR, whether it flaps and whether to suppress it. Returns a
 * new history (the input is not modified) pruned to the window.
 */
export function applyFlapping(
  history: FlapHistory,
  changes: readonly CidrStateChange[],
  version: { at: Date; syncToken: string },
  windowHours: number,
): { history: FlapHistory; decisions: Map<string, FlapDecision> } {
  const windowMs = windowHours * 3_600_000;
  const now = version.at.getTime();
  const recent = (iso: string | undefined): boolean => iso !== undefined && now - Date.parse(iso) < windowMs;
  const next: FlapHistory = {};
  for (const [cidr, h] of Object.entries(history)) {
    const kept = { changes: h.changes.filter((c) => recent(c.at)), ...(recent(h.flappingAlertedAt) ? { flappingAlertedAt: h.flappingAlertedAt } : {}) };
    if (kept.changes.length > 0 || kept.flappingAlertedAt) next[cidr] = kept;
  }
  const decisions = new Map<string, FlapDecision>();
  const at = version.at.toISOString();
  for (const change of changes) {
    const h: CidrHistory = next[change.cidr] ?? { changes: [] };
    const reverts = h.changes.some((c) => c.before === change.after && c.syncToken !== version.syncToken);
    const flapping = reverts || h.flappingAlertedAt !== undefined;
    const suppressed = flapping && h.flappingAlertedAt !== undefined;
    decisions.set(change.cidr, { flapping, suppressed });
    next[change.cidr] = {
      changes: [
        ...h.changes.filter((c) => c.syncToken !== version.syncToken),
        { at, syncToken: version.syncToken, before: change.before, after: change.after },
      ],
      ...(flapping ? { flappingAlertedAt: suppressed ? h.flappingAlertedAt : at } : {}),
    };
  }
  return { history: next, decisions };
}
