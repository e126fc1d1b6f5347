import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/core/errors';
import {
  formatCidr,
  formatIPv4,
  formatIPv6,
  ipVersion,
  mappedIPv4,
  parseCidr,
  parseCidrStrict,
  parseIPv4,
  parseIPv6Into,
} from '../../shared/ip-ranges/ip';

// A deterministic PRNG so a failure reproduces.
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

const handPicked = [
  '1.2.3.4', '0.0.0.0', '255.255.255.255', '08.1.250.216', '8.01.250.216', '00.1.2.3', '1.2.3', '1.2.3.4.5',
  '256.1.1.1', '1.2.3.-1', ' 1.2.3.4', '1.2.3.4 ', '1..2.3', '1.2.3.', '.1.2.3', '١.2.3.4', '1.2.3.4/32', '',
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
  '1:2:3:4:5::6:7:8', '1::2::3', ':::1', '1:::2', ':1::', '1::2:', '12345::', 'g::', '::ffff:1.2.3.4',
  '::FFFF:1.2.3.4', '::ffff:01.2.3.4', '::1.2.3.4', '1::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
  '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%e/0', 'fe80::1%a.b-c:d',
  '::ffff:1.2.3.4%1', '2600:1f18:3fff:f800::', '2600:1F18:3FFF:F800:0:0:0:0', '0:0:0:0:0:0:0:0', '::0:0:0',
  ':', ':::', '1:', '1', '1.2.3.4:80', '[::1]', '::ffff:1.2.3', '::ffff:1.2.3.4.5', 'a:b:c:d:e:f:a:b',
  '0000:0000:0000:0000:0000:0000:0000:0000', '00000::', '1:2:3:4:5:6:7:8%x',
];

describe('IP parsing agrees with net.isIP', () => {
  it('on hand-picked edge cases (leading zeros, compression, IPv4 tails, zones)', () => {
    for (const s of handPicked) expect([s, ipVersion(s)]).toEqual([s, isIP(s)]);
  });

  it('on 200,000 random strings built from IP-ish characters', () => {
    const next = rng(42);
    const alphabet = '0123456789abcdefABCDEF:.%x0:.:';
    const pick = () => alphabet[Math.floor(next() * alphabet.length)] as string;
    for (let i = 0; i < 200_000; i++) {
      const len = 1 + Math.floor(next() * 24);
      let s = '';
      for (let j = 0; j < len; j++) s += pick();
      if (ipVersion(s) !== isIP(s)) expect([s, ipVersion(s)]).toEqual([s, isIP(s)]);
    }
  });

  it('on 200,000 random strings of digits and dots (the IPv4 fast path)', () => {
    const next = rng(4);
    const alphabet = '0123456789.0123456789.2525';
    for (let i = 0; i < 200_000; i++) {
      const len = 5 + Math.floor(next() * 13);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(next() * alphabet.length)] as string;
      if (ipVersion(s) !== isIP(s)) expect([s, ipVersion(s)]).toEqual([s, isIP(s)]);
    }
    // and every octet value in every position
    for (let v = 0; v < 1000; v++) {
      for (const s of [`${v}.1.2.3`, `1.${v}.2.3`, `1.2.${v}.3`, `1.2.3.${v}`, `0${v}.1.2.3`, `1.2.3.0${v}`]) {
        expect([s, ipVersion(s)]).toEqual([s, isIP(s)]);
      }
    }
  });

  it('on mutations of valid addresses', () => {
    const next = rng(7);
    const bases = ['10.20.30.40', '2600:1f18:3fff:f800::1', '::ffff:192.0.2.1', '2001:db8:0:0:1:0:0:1', 'fe80::1%eth0'];
    const chars = '0123456789abcdef:.%';
    for (let i = 0; i < 50_000; i++) {
      const base = bases[i % bases.length] as string;
      const at = Math.floor(next() * base.length);
      const c = chars[Math.floor(next() * chars.length)] as string;
      const op = Math.floor(next() * 3);
      const s = op === 0 ? base.slice(0, at) + c + base.slice(at + 1) : op === 1 ? base.slice(0, at) + c + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
      if (ipVersion(s) !== isIP(s)) expect([s, ipVersion(s)]).toEqual([s, isIP(s)]);
    }
  });
});

describe('IP values', () => {
  it('parses IPv4 to an unsigned 32-bit number', () => {
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('54.243.31.192')).toBe(((54 << 24) | (243 << 16) | (31 << 8) | 192) >>> 0);
    expect(parseIPv4('08.1.250.216')).toBe(-1);
    expect(formatIPv4(parseIPv4('10.0.0.255'))).toBe('10.0.0.255');
  });

  it('parses IPv6 into four words, with compression and IPv4 tails', () => {
    const w = new Uint32Array(4);
    expect(parseIPv6Into('2600:1f18:3fff:f800::', w)).toBe(true);
    expect([...w]).toEqual([0x26001f18, 0x3ffff800, 0, 0]);
    expect(parseIPv6Into('::ffff:1.2.3.4', w)).toBe(true);
    expect([...w]).toEqual([0, 0, 0xffff, 0x01020304]);
    expect(mappedIPv4(w)).toBe(0x01020304);
    expect(parseIPv6Into('1::', w)).toBe(true);
    expect([...w]).toEqual([0x00010000, 0, 0, 0]);
    expect(parseIPv6Into('::2:3:4:5:6:7:8', w)).toBe(true);
    expect([...w]).toEqual([0x00000002, 0x00030004, 0x00050006, 0x00070008]);
    expect(parseIPv6Into('1::8', w)).toBe(true);
    expect([...w]).toEqual([0x00010000, 0, 0, 8]);
  });

  it('formats IPv6 in RFC 5952 form', () => {
    const w = new Uint32Array(4);
    for (const [input, text] of [
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::', '::'],
    ] as const) {
      parseIPv6Into(input, w);
      expect(formatIPv6(w)).toBe(text);
    }
  });
});

describe('CIDR parsing', () => {
  it('parses both families and clears host bits', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ family: 'ipv4', words: [0, 0, 0, 0x0a000000], length: 8, hostBitsSet: true });
    expect(parseCidr('2600:f0f0:5504::/46')).toMatchObject({ family: 'ipv6', length: 46, hostBitsSet: false });
    expect(formatCidr(parseCidr('2600:F0F0:5504:0::/46')!)).toBe('2600:f0f0:5504::/46');
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ length: 0, hostBitsSet: false });
    expect(parseCidr('::/0')).toMatchObject({ family: 'ipv6', length: 0 });
  });

  it('rejects what is not a CIDR', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', '::/129', 'fe80::%eth0/64', '08.0.0.0/8', '10.0.0.0', 'x/8']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
    expect(parseCidr('10.0.0.1', true)).toMatchObject({ family: 'ipv4', length: 32 });
    expect(parseCidr('2001:db8::1', true)).toMatchObject({ family: 'ipv6', length: 128 });
  });

  it('strict parsing names the bad CIDR and suggests the network for host bits', () => {
    expect(() => parseCidrStrict('10.1.2.3/8')).toThrow(ValidationError);
    expect(() => parseCidrStrict('10.1.2.3/8')).toThrow(/"10\.1\.2\.3\/8".*did you mean 10\.0\.0\.0\/8/);
    expect(() => parseCidrStrict('banana')).toThrow(/invalid CIDR "banana"/);
  });
});
