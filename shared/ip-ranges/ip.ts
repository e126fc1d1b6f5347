import { ValidationError } from '../core/errors';

/**
 * Hand-written IP address parsing on char codes. It accepts exactly what Node's `net.isIP` accepts (a test checks
 * the two agree on a large corpus), but allocates nothing and never goes through a regex, because the CloudTrail
 * pipeline parses every record's `sourceIPAddress` with it. Strictness matters: `08.1.250.216` (a leading-zero octet)
 * is not an IP address — some tools read it as octal — and real CloudTrail data contains such values.
 */

export type IpFamily = 'ipv4' | 'ipv6';

/** Parses dotted-quad IPv4 in s[start, end) into an unsigned 32-bit number, or -1 when it is not one. */
export function parseIPv4Range(s: string, start: number, end: number): number {
  const n = end - start;
  if (n < 7 || n > 15) return -1;
  // Unrolled per octet: this runs for every CloudTrail record, so each character costs one load and one range test.
  let value = 0;
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (i >= end) return -1;
    let d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    let octet = d;
    i++;
    if (i < end) {
      d = s.charCodeAt(i) - 48;
      if (d >= 0 && d <= 9) {
        // "0" is an octet, "08" and "00" are not (some parsers read them as octal).
        if (octet === 0) return -1;
        octet = octet * 10 + d;
        i++;
        if (i < end) {
          d = s.charCodeAt(i) - 48;
          if (d >= 0 && d <= 9) {
            octet = octet * 10 + d;
            if (octet > 255) return -1;
            i++;
          }
        }
      }
    }
    value = (value << 8) | octet;
    if (part < 3) {
      if (i >= end || s.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
  }
  return i === end ? value >>> 0 : -1;
}

/** Parses dotted-quad IPv4 into an unsigned 32-bit number, or -1 when `s` is not an IPv4 address. */
export const parseIPv4 = (s: string): number => parseIPv4Range(s, 0, s.length);

// Hex digit values by char code (-1: not a hex digit); a table load is cheaper than three range tests.
const HEX = new Int8Array(128).fill(-1);
for (let d = 0; d < 10; d++) HEX[48 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX[97 + d] = 10 + d;
  HEX[65 + d] = 10 + d;
}

// A zone id ("fe80::1%eth0") is what Node accepts after '%': [0-9a-zA-Z-.:]+.
const isZoneChar = (c: number): boolean =>
  (c >= 48 && c <= 58) /* 0-9 and ':' */ || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;

// Scratch space for the 16-bit groups: parsing is synchronous, so one buffer per process is safe.
const groups = new Uint16Array(8);

/**
 * Parses an IPv6 address (with `::` compression, an embedded dotted IPv4 tail such as `::ffff:1.2.3.4`, and an
 * optional `%zone`) into four big-endian 32-bit words `out[offset..offset+3]`. Returns false, leaving `out` in an
 * unspecified state, when `s` (or its first `length` characters) is not an IPv6 address.
 */
export function parseIPv6Into(s: string, out: Uint32Array, offset = 0, length = s.length): boolean {
  let end = length;
  if (end < 2) return false;
  let count = 0;
  let gap = -1; // index in `groups` where "::" stands
  let i = 0;
  if (s.charCodeAt(0) === 58 /* : */) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === end) return fill(out, offset, count, gap);
    if (s.charCodeAt(i) === 37 /* % */) return validZone(s, i, end) && fill(out, offset, count, gap);
  }
  for (;;) {
    // One group of 1–4 hex digits, or the dotted IPv4 tail.
    const groupStart = i;
    let value = 0;
    let c = 0;
    while (i < end) {
      c = s.charCodeAt(i);
      const h = c < 128 ? (HEX[c] as number) : -1;
      if (h < 0) break;
      value = (value << 4) | h;
      i++;
    }
    const digits = i - groupStart;
    if (i < end && c === 46 /* . */) {
      // The rest (up to a zone) is an IPv4 address filling the last two groups.
      let v4End = groupStart;
      while (v4End < end && s.charCodeAt(v4End) !== 37 /* % */) v4End++;
      if (count > 6) return false;
      const v4 = parseIPv4Range(s, groupStart, v4End);
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      if (v4End < end && !validZone(s, v4End, end)) return false;
      end = v4End;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    groups[count++] = value;
    if (i === end) break;
    if (c === 37 /* % */) {
      if (!validZone(s, i, end)) return false;
      break;
    }
    if (c !== 58 /* : */) return false;
    i++;
    if (i === end) return false; // a single trailing ':'
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false; // a second "::"
      gap = count;
      i++;
      if (i === end) break;
      if (s.charCodeAt(i) === 37) {
        if (!validZone(s, i, end)) return false;
        break;
      }
    }
  }
  return fill(out, offset, count, gap);
}

function validZone(s: string, percent: number, end: number): boolean {
  if (percent + 1 >= end) return false;
  for (let j = percent + 1; j < end; j++) if (!isZoneChar(s.charCodeAt(j))) return false;
  return true;
}

function fill(out: Uint32Array, offset: number, count: number, gap: number): boolean {
  if (gap < 0) {
    if (count !== 8) return false;
  } else if (count > 7) {
    // "::" must stand for at least one group.
    return false;
  }
  const zeros = 8 - count;
  let g = 0;
  for (let w = 0; w < 4; w++) {
    let hi: number;
    let lo: number;
    const a = 2 * w;
    if (gap < 0 || a < gap) hi = groups[g++] as number;
    else if (a < gap + zeros) hi = 0;
    else hi = groups[g++] as number;
    if (gap < 0 || a + 1 < gap) lo = groups[g++] as number;
    else if (a + 1 < gap + zeros) lo = 0;
    else lo = groups[g++] as number;
    out[offset + w] = ((hi << 16) | lo) >>> 0;
  }
  return true;
}

const scratch = new Uint32Array(4);

/** 4 or 6 for an IPv4 or IPv6 address, 0 otherwise — the same answers as Node's `net.isIP`. */
export function ipVersion(s: string): 0 | 4 | 6 {
  // An IPv6 address always has a ':' within its first 5 characters; an IPv4 address never has one.
  const n = Math.min(s.length, 5);
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) === 58) return parseIPv6Into(s, scratch) ? 6 : 0;
  return parseIPv4(s) >= 0 ? 4 : 0;
}

export const isIp = (s: string): boolean => ipVersion(s) !== 0;

/** `::ffff:a.b.c.d` (or `::ffff:xxxx:xxxx`) as its IPv4 address, else -1. Dual-stack sockets report IPv4 peers so. */
export function mappedIPv4(words: ArrayLike<number>, offset = 0): number {
  return words[offset] === 0 && words[offset + 1] === 0 && words[offset + 2] === 0xffff
    ? (words[offset + 3] as number)
    : -1;
}

export const formatIPv4 = (v: number): string =>
  `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

/** RFC 5952 text form: lowercase, leading zeros dropped, the longest run (≥ 2) of zero groups as "::". */
export function formatIPv6(words: ArrayLike<number>, offset = 0): string {
  const g: number[] = [];
  for (let w = 0; w < 4; w++) {
    const v = words[offset + w] as number;
    g.push(v >>> 16, v & 0xffff);
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number) => g.slice(a, b).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** A parsed CIDR: the network's first address as four words (IPv4 uses only `words[3]`), and the prefix length. */
export interface Cidr {
  family: IpFamily;
  /** IPv4: [0, 0, 0, address]; IPv6: the four 32-bit words. Host bits are cleared. */
  words: [number, number, number, number];
  length: number;
  /** True when the text had bits set beyond the prefix length (e.g. 10.1.2.3/8). */
  hostBitsSet: boolean;
}

/** Flag added to the result of `parseCidrInto` for an IPv6 CIDR. */
export const CIDR_V6 = 0x100;

/**
 * The allocation-free CIDR parser behind the schema and the index: writes the address (host bits as written) to
 * `out` (IPv4 in out[3], out[0..2] = 0) and returns the prefix length, plus CIDR_V6 for IPv6, or -1 when `text` is
 * not "address/length". With `bare`, an address without "/length" is a host route.
 */
export function parseCidrInto(text: string, out: Uint32Array, bare = false): number {
  const n = text.length;
  let slash = -1;
  let colon = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */) {
      slash = i;
      break;
    }
    if (c === 58) colon = true;
    else if (c === 37 /* % */) return -1; // zone ids have no place in a CIDR
  }
  let length: number;
  const addrEnd = slash < 0 ? n : slash;
  if (slash < 0) {
    if (!bare) return -1;
    length = -1;
  } else {
    const digits = n - slash - 1;
    if (digits < 1 || digits > 3) return -1;
    length = 0;
    for (let i = slash + 1; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9 || (i > slash + 1 && length === 0)) return -1; // digits only, no leading zero
      length = length * 10 + d;
    }
  }
  if (colon) {
    if (!parseIPv6Into(text, out, 0, addrEnd)) return -1;
    if (length > 128) return -1;
    return (length < 0 ? 128 : length) | CIDR_V6;
  }
  const v4 = parseIPv4Range(text, 0, addrEnd);
  if (v4 < 0 || length > 32) return -1;
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  out[3] = v4;
  return length < 0 ? 32 : length;
}

const cidrScratch = new Uint32Array(4);

/** Parses "address/length" (or a bare address, as a host route when `allowBareAddress`), or returns undefined. */
export function parseCidr(text: string, allowBareAddress = false): Cidr | undefined {
  const r = parseCidrInto(text, cidrScratch, allowBareAddress);
  if (r < 0) return undefined;
  const words: [number, number, number, number] = [cidrScratch[0]!, cidrScratch[1]!, cidrScratch[2]!, cidrScratch[3]!];
  const family: IpFamily = r & CIDR_V6 ? 'ipv6' : 'ipv4';
  const length = r & 0xff;
  const bits = family === 'ipv4' ? length + 96 : length;
  let hostBitsSet = false;
  for (let w = 0; w < 4; w++) {
    const keep = Math.max(0, Math.min(32, bits - 32 * w));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    const masked = ((words[w] as number) & mask) >>> 0;
    if (masked !== words[w]) hostBitsSet = true;
    words[w] = masked;
  }
  return { family, words, length, hostBitsSet };
}

/** The canonical text of a CIDR (network address in its normal form + length). */
export const formatCidr = (c: Cidr): string =>
  `${c.family === 'ipv4' ? formatIPv4(c.words[3]) : formatIPv6(c.words)}/${c.length}`;

/** Parses a CIDR for an allow-list or a config value: a clear ValidationError naming it when it is not one. */
export function parseCidrStrict(text: string, what = 'CIDR'): Cidr {
  const cidr = parseCidr(text.trim(), true);
  if (!cidr) throw new ValidationError(`invalid ${what} ${JSON.stringify(text)}: expected an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/32`);
  if (cidr.hostBitsSet) {
    throw new ValidationError(
      `invalid ${what} ${JSON.stringify(text)}: host bits are set beyond /${cidr.length}; did you mean ${formatCidr(cidr)}?`,
    );
  }
  return cidr;
}
