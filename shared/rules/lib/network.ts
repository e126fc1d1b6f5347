import { type CidrSet, buildCidrSet } from '../../ip-ranges/lookup';
import type { RuleContext } from '../engine/context';

/**
 * The prefix length of a CIDR as CloudTrail carries it (`0.0.0.0/0`, `::/0`, and anonymised values such as
 * `208.236.235.254/0`): only the part after the slash matters for "open to the world", so the address is not
 * parsed. Undefined when there is no valid `/n`.
 */
export function prefixLength(cidr: unknown): number | undefined {
  if (typeof cidr !== 'string') return undefined;
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return undefined;
  const text = cidr.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 128 ? n : undefined;
}

/** A CIDR that covers the whole Internet (or, with `maxPrefix` above 0, a huge part of it). */
export function isWorldOpen(cidr: unknown, maxPrefix = 0): boolean {
  const n = prefixLength(cidr);
  return n !== undefined && n <= maxPrefix;
}

// The profile's allowed source networks as a set, built once per settings object.
const allowedSets = new WeakMap<readonly string[], CidrSet>();

/**
 * Whether an address (not the record's source: e.g. a customer gateway's public IP) is inside the profile's
 * `allowedSourceCidrs`; undefined when that list is not configured.
 */
export function inAllowedNetworks(ctx: RuleContext<unknown>, ip: string): boolean | undefined {
  const cidrs = ctx.settings.allowedSourceCidrs;
  if (!cidrs || cidrs.length === 0) return undefined;
  let set = allowedSets.get(cidrs);
  if (!set) {
    set = buildCidrSet(cidrs);
    allowedSets.set(cidrs, set);
  }
  return set.contains(ip);
}
