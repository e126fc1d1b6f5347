import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/core/errors';
import { formatIPv4, formatIPv6 } from '../../shared/ip-ranges/ip';
import { type IpMatch, buildCidrSet, buildIpIndex } from '../../shared/ip-ranges/lookup';
import { type IpEntry, allEntries } from '../../shared/ip-ranges/schema';
import { SNAPSHOTS, snapshot } from './helpers';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The oracle: ipaddr.js parses (independently of vigil's parser) and every entry is checked, i.e. the linear scan
// the index exists to avoid.
const toBig = (bytes: number[]): bigint => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
function oracle(entries: IpEntry[]) {
  const ranges = entries.map((e) => {
    const [addr, len] = ipaddr.parseCIDR(e.prefix);
    const bits = addr.kind() === 'ipv4' ? 32 : 128;
    const start = toBig(addr.toByteArray());
    return { e, kind: addr.kind(), start, end: start + (1n << BigInt(bits - len)) - 1n, len };
  });
  return (ip: string): IpEntry[] => {
    const addr = ipaddr.parse(ip);
    const v = toBig(addr.toByteArray());
    return ranges
      .filter((r) => r.kind === addr.kind() && r.start <= v && v <= r.end)
      .sort((a, b) => b.len - a.len)
      .map((r) => r.e);
  };
}

const key = (m: IpEntry) => `${m.prefix}|${m.region}|${m.service}|${m.networkBorderGroup ?? ''}`;

function randomIps(entries: IpEntry[], count: number, seed: number): string[] {
  const next = rng(seed);
  const word = () => Math.floor(next() * 0x100000000) >>> 0;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const v6 = i % 2 === 1;
    const inside = i % 4 < 2;
    if (!inside) {
      out.push(v6 ? formatIPv6([0x26000000 | (word() & 0xfffff), word(), word(), word()]) : formatIPv4(word()));
      continue;
    }
    const pool = entries.filter((e) => (e.family === 'ipv6') === v6);
    const e = pool[Math.floor(next() * pool.length)] as IpEntry;
    const [addr, len] = ipaddr.parseCIDR(e.prefix);
    const bytes = addr.toByteArray();
    for (let b = 0; b < bytes.length; b++) {
      const fixed = Math.max(0, Math.min(8, len - 8 * b));
      const mask = fixed === 8 ? 0xff : (0xff << (8 - fixed)) & 0xff;
      bytes[b] = ((bytes[b] as number) & mask) | (Math.floor(next() * 256) & ~mask & 0xff);
    }
    out.push(v6 ? ipaddr.fromByteArray(bytes).toString() : bytes.join('.'));
  }
  return out;
}

describe('buildIpIndex on the current real file', () => {
  const loaded = snapshot(SNAPSHOTS.aug22);
  const index = buildIpIndex(loaded.ranges);
  const entries = allEntries(loaded.ranges);
  const scan = oracle(entries);

  it('answers exactly what a linear scan answers, most specific first, for 4,000 addresses', () => {
    for (const ip of randomIps(entries, 4000, 1)) {
      const got = index.lookup(ip);
      const want = scan(ip);
      expect(got.map(key).sort(), ip).toEqual(want.map(key).sort());
      // most specific first
      const lengths = got.map((m) => Number(m.prefix.split('/')[1]));
      expect(lengths, ip).toEqual([...lengths].sort((a, b) => b - a));
    }
  });

  it('covers every entry: the first address of each prefix finds that entry', () => {
    for (const e of entries) {
      const first = e.prefix.split('/')[0] as string;
      expect(index.lookup(first).some((m) => key(m) === key(e)), e.prefix).toBe(true);
    }
  });

  it('finds the ROUTE53_HEALTHCHECKS examples with services before the AMAZON superset', () => {
    const hits = index.lookup('54.243.31.193');
    expect(hits.map((m) => `${m.prefix} ${m.service}`)).toEqual([
      '54.243.31.192/26 ROUTE53_HEALTHCHECKS',
      '54.242.0.0/15 EC2',
      '54.242.0.0/15 AMAZON',
    ]);
    expect(hits[0]).toEqual({
      family: 'ipv4',
      prefix: '54.243.31.192/26',
      region: 'us-east-1',
      service: 'ROUTE53_HEALTHCHECKS',
      networkBorderGroup: 'us-east-1',
    } satisfies IpMatch);
    expect(index.lookup('2600:1f18:3fff:f800::1')[0]?.service).toBe('ROUTE53_HEALTHCHECKS');
  });

  it('looks up IPv4-mapped IPv6 addresses as IPv4', () => {
    expect(index.lookup('::ffff:54.243.31.193')).toBe(index.lookup('54.243.31.193'));
  });

  it('answers [] for non-AWS addresses and for strings that are not IPs', () => {
    for (const s of ['127.0.0.1', '::1', '08.1.250.216', 'cloudformation.amazonaws.com', 'AWS Internal', '', '54.243.31.193 ']) {
      expect(index.lookup(s), s).toEqual([]);
    }
  });

  it('returns shared frozen answers (no allocation per lookup)', () => {
    const a = index.lookup('54.243.31.193');
    expect(Object.isFrozen(a)).toBe(true);
    expect(index.lookup('54.243.31.200')).toBe(a);
    expect(() => (a as IpMatch[]).push(a[0] as IpMatch)).toThrow(TypeError);
  });

  it('reports its size', () => {
    expect(index.syncToken).toBe('1787411825');
    expect(index.stats.entries).toBe(10668 + 6160);
  });
});

describe('buildIpIndex on the legacy 2017 schema (no network_border_group)', () => {
  const index = buildIpIndex(snapshot(SNAPSHOTS.v2017).ranges);
  it('matches without a border group', () => {
    const hits = index.lookup('54.243.31.193');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((m) => m.networkBorderGroup === undefined)).toBe(true);
  });
});

describe('buildCidrSet', () => {
  const set = buildCidrSet(['203.0.113.0/24', '198.51.100.7', '10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32', '0.0.0.0/32']);

  it('contains addresses of both families, nested and bare entries', () => {
    expect(set.contains('203.0.113.255')).toBe(true);
    expect(set.contains('203.0.114.0')).toBe(false);
    expect(set.contains('198.51.100.7')).toBe(true);
    expect(set.contains('198.51.100.8')).toBe(false);
    expect(set.contains('10.255.255.255')).toBe(true);
    expect(set.contains('11.0.0.0')).toBe(false);
    expect(set.contains('2001:db8:ffff::1')).toBe(true);
    expect(set.contains('2001:db9::')).toBe(false);
    expect(set.contains('::ffff:10.2.3.4')).toBe(true);
    expect(set.contains('0.0.0.0')).toBe(true);
    expect(set.contains('0.0.0.1')).toBe(false);
    expect(set.contains('not an ip')).toBe(false);
    expect(set.contains('010.1.1.1')).toBe(false);
  });

  it('handles the whole address space and the last address', () => {
    const all = buildCidrSet(['0.0.0.0/0', '::/0']);
    expect(all.contains('255.255.255.255')).toBe(true);
    expect(all.contains('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    const last = buildCidrSet(['255.255.255.255/32', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128']);
    expect(last.contains('255.255.255.255')).toBe(true);
    expect(last.contains('255.255.255.254')).toBe(false);
    expect(last.contains('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe')).toBe(false);
    expect(buildCidrSet([]).contains('1.2.3.4')).toBe(false);
  });

  it('stays exact past 65,536 intervals (32-bit first-level table)', () => {
    // 40,000 disjoint /32s, every other address of 10.0.0.0/15: 80,001 intervals.
    const cidrs = Array.from({ length: 40_000 }, (_, i) => formatIPv4((0x0a000000 + 2 * i) >>> 0));
    const big = buildCidrSet(cidrs);
    for (const i of [0, 1, 2, 39_999, 12_345]) {
      expect(big.contains(formatIPv4((0x0a000000 + 2 * i) >>> 0))).toBe(true);
      expect(big.contains(formatIPv4((0x0a000000 + 2 * i + 1) >>> 0))).toBe(false);
    }
    expect(big.contains('10.1.56.128')).toBe(false);
  });

  it('rejects an invalid CIDR with a ValidationError naming it', () => {
    expect(() => buildCidrSet(['10.0.0.0/8', '10.0.0.0/33'])).toThrow(ValidationError);
    expect(() => buildCidrSet(['10.0.0.0/33'])).toThrow(/"10\.0\.0\.0\/33"/);
    expect(() => buildCidrSet(['192.168.1.1/16'])).toThrow(/did you mean 192\.168\.0\.0\/16/);
  });
});
