import { ValidationError } from '../core/errors';
import { BlockList, type Intervals, buildIntervals } from './intervals';
import { CIDR_V6, formatCidr, mappedIPv4, parseCidrInto, parseCidrStrict, parseIPv4, parseIPv6Into } from './ip';
import type { IpEntry, IpRanges } from './schema';

/**
 * "Which AWS entries contain this IP?" — asked for every CloudTrail record's `sourceIPAddress`, so it is built once
 * and answered by a binary search over flattened intervals (see intervals.ts): tens of millions of lookups per
 * second, no allocation per lookup (the answer arrays are shared and frozen).
 */

/** An ip-ranges entry that contains the address looked up. */
export type IpMatch = IpEntry;

export interface IpIndex {
  /**
   * The entries whose prefix contains `ip`, most specific prefix first (within one prefix: the named services
   * alphabetically, then the catch-all AMAZON). `[]` when none contains it or when `ip` is not an IP address.
   * An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is looked up as its IPv4 address. The array is shared and
   * frozen: do not modify it.
   */
  lookup(ip: string): readonly IpMatch[];
  readonly syncToken: string;
  readonly createDate: string;
  readonly stats: { ipv4Intervals: number; ipv6Intervals: number; entries: number };
}

export interface CidrSet {
  /** True when `ip` is inside one of the CIDRs; false for anything that is not an IP address. */
  contains(ip: string): boolean;
  readonly size: number;
}

const EMPTY: readonly IpMatch[] = Object.freeze([]);

// Within one prefix, specific services first, the AMAZON superset last; then by name for a stable order.
const byServiceThenRegion = (a: IpMatch, b: IpMatch): number =>
  Number(a.service === 'AMAZON') - Number(b.service === 'AMAZON') ||
  (a.service < b.service ? -1 : a.service > b.service ? 1 : 0) ||
  (a.region < b.region ? -1 : a.region > b.region ? 1 : 0) ||
  ((a.networkBorderGroup ?? '') < (b.networkBorderGroup ?? '') ? -1 : 0);

/**
 * The lookup engine shared by the index and the CIDR set: IPv4 and IPv6 intervals with their answers. Written as a
 * class with typed-array fields so the hot path stays monomorphic.
 */
class IntervalLookup<A> {
  private readonly s4: Uint32Array;
  private readonly a4: A[];
  private readonly b4: Uint16Array | Uint32Array;
  private readonly s6: Uint32Array;
  private readonly a6: A[];
  private readonly b6: Uint16Array | Uint32Array;
  private readonly words = new Uint32Array(4);

  constructor(
    v4: Intervals<A>,
    v6: Intervals<A>,
    private readonly none: A,
  ) {
    this.s4 = v4.starts;
    this.a4 = v4.answers;
    this.b4 = v4.buckets;
    this.s6 = v6.starts;
    this.a6 = v6.answers;
    this.b6 = v6.buckets;
  }

  get(ip: string): A {
    // IPv4 first: it fails within a few characters on IPv6 text (length or the first ':'), and IPv6 parsing fails
    // as fast on anything else.
    const v = parseIPv4(ip);
    return v >= 0 ? this.at4(v) : this.get6(ip);
  }

  at4(v: number): A {
    const s = this.s4;
    const hiBucket = v >>> 16;
    let lo = this.b4[hiBucket] as number;
    let hi = this.b4[hiBucket + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((s[mid] as number) <= v) lo = mid;
      else hi = mid - 1;
    }
    return this.a4[lo] as A;
  }

  private get6(ip: string): A {
    const w = this.words;
    if (!parseIPv6Into(ip, w)) return this.none;
    const mapped = mappedIPv4(w);
    if (mapped >= 0) return this.at4(mapped);
    const w0 = w[0] as number;
    const w1 = w[1] as number;
    const w2 = w[2] as number;
    const w3 = w[3] as number;
    const s = this.s6;
    const hiBucket = w0 >>> 16;
    let lo = this.b6[hiBucket] as number;
    let hi = this.b6[hiBucket + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const k = mid << 2;
      // starts[mid] <= address, word by word.
      let le: boolean;
      const x0 = s[k] as number;
      if (x0 !== w0) le = x0 < w0;
      else {
        const x1 = s[k + 1] as number;
        if (x1 !== w1) le = x1 < w1;
        else {
          const x2 = s[k + 2] as number;
          le = x2 !== w2 ? x2 < w2 : (s[k + 3] as number) <= w3;
        }
      }
      if (le) lo = mid;
      else hi = mid - 1;
    }
    return this.a6[lo] as A;
  }
}

const v6Flag = CIDR_V6;

/** Builds the lookup index of one ip-ranges document. Every prefix must parse (the schema guarantees it). */
export function buildIpIndex(ranges: IpRanges): IpIndex {
  const v4 = new BlockList<IpMatch>(1);
  const v6 = new BlockList<IpMatch>(4);
  const words = new Uint32Array(4);
  const add = (list: BlockList<IpMatch>, entry: IpMatch): void => {
    // A CIDR shared by several services is parsed once.
    if (list.addToKnown(entry.prefix, entry)) return;
    const r = parseCidrInto(entry.prefix, words);
    if (r < 0 || (r & v6Flag ? 'ipv6' : 'ipv4') !== entry.family) {
      throw new ValidationError(`ip-ranges ${ranges.syncToken}: invalid ${entry.family} prefix ${JSON.stringify(entry.prefix)}`);
    }
    list.add(entry.prefix, words, r & 0xff, entry);
  };
  for (const e of ranges.prefixes) {
    add(
      v4,
      Object.freeze(
        e.network_border_group === undefined
          ? { family: 'ipv4', prefix: e.ip_prefix, region: e.region, service: e.service }
          : { family: 'ipv4', prefix: e.ip_prefix, region: e.region, service: e.service, networkBorderGroup: e.network_border_group },
      ) as IpMatch,
    );
  }
  for (const e of ranges.ipv6_prefixes) {
    add(
      v6,
      Object.freeze(
        e.network_border_group === undefined
          ? { family: 'ipv6', prefix: e.ipv6_prefix, region: e.region, service: e.service }
          : { family: 'ipv6', prefix: e.ipv6_prefix, region: e.region, service: e.service, networkBorderGroup: e.network_border_group },
      ) as IpMatch,
    );
  }

  // The answer inside a block: its own entries, then those of the blocks around it (less specific).
  const answerIn =
    (list: BlockList<IpMatch>) =>
    (block: number, outer: readonly IpMatch[]): readonly IpMatch[] => {
      const own = list.items[block] as IpMatch[];
      if (own.length > 1) own.sort(byServiceThenRegion);
      return Object.freeze(outer.length === 0 ? own : own.concat(outer));
    };
  const i4 = buildIntervals(v4, answerIn(v4), EMPTY);
  const i6 = buildIntervals(v6, answerIn(v6), EMPTY);
  const engine = new IntervalLookup<readonly IpMatch[]>(i4, i6, EMPTY);
  return {
    lookup: (ip: string) => engine.get(ip),
    syncToken: ranges.syncToken,
    createDate: ranges.createDate,
    stats: {
      ipv4Intervals: i4.answers.length,
      ipv6Intervals: i6.answers.length,
      entries: ranges.prefixes.length + ranges.ipv6_prefixes.length,
    },
  };
}

/**
 * A set of CIDRs (an allow-list of source networks) answering "is this IP inside?". Bare addresses are accepted as
 * /32 or /128. An invalid CIDR, or one with host bits set (ambiguous in an allow-list), is a ValidationError naming
 * it. IPv4-mapped IPv6 addresses are checked as their IPv4 address.
 */
export function buildCidrSet(cidrs: readonly string[]): CidrSet {
  const v4 = new BlockList<true>(1);
  const v6 = new BlockList<true>(4);
  for (const text of cidrs) {
    const cidr = parseCidrStrict(text);
    (cidr.family === 'ipv4' ? v4 : v6).add(formatCidr(cidr), cidr.words, cidr.length, true);
  }
  const covered = (): boolean => true;
  const engine = new IntervalLookup<boolean>(buildIntervals(v4, covered, false), buildIntervals(v6, covered, false), false);
  return { contains: (ip: string) => engine.get(ip), size: cidrs.length };
}
