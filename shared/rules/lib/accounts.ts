import { z } from 'zod';
import { AccountId } from '../../config/detection';
import type { RuleContext } from '../engine/context';

/**
 * Accounts you own or trust (your organization's). Rules that see another account in an event — a snapshot shared,
 * a role trusted, a peering requested — rate a known account lower than an unknown one. The event's own account is
 * always known.
 */
export const knownAccountsOption = () =>
  z
    .array(AccountId)
    .max(10_000)
    .default([])
    .describe('12-digit account ids of your organization; other accounts count as external');

const sets = new WeakMap<readonly string[], ReadonlySet<string>>();

function setOf(known: readonly string[]): ReadonlySet<string> {
  let set = sets.get(known);
  if (!set) {
    set = new Set(known);
    sets.set(known, set);
  }
  return set;
}

export type AccountRelation = 'own' | 'known' | 'external';

/** How `account` relates to the event's account and the known accounts. */
export function accountRelation(account: string, ctx: RuleContext<unknown>, known: readonly string[]): AccountRelation {
  if (account === ctx.account) return 'own';
  return setOf(known).has(account) ? 'known' : 'external';
}

/** The 12-digit account ids in a list of values (ids, ARNs, `arn:aws:iam::123456789012:root`). */
export function accountsIn(values: readonly unknown[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string') continue;
    if (/^\d{12}$/.test(v)) out.add(v);
    else {
      const m = /^arn:[a-z-]+:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):/.exec(v);
      if (m) out.add(m[1]!);
    }
  }
  return [...out];
}
