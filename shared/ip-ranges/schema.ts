import { z } from 'zod';
import { parseCidr } from './ip';

/**
 * The schema of AWS's `ip-ranges.json` (https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html).
 * Service and region names are open strings because AWS adds new ones every few months; `network_border_group`
 * is optional because files before April 2020 have none. Unknown keys are kept out (zod strips them), so a new
 * field AWS adds one day never breaks parsing.
 */

/** `YYYY-MM-DD-hh-mm-ss`, UTC — the format of `createDate` and of the SNS message's `create-time`. */
export const CreateDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD-hh-mm-ss')
  .refine((s) => !Number.isNaN(createDateToDate(s).getTime()), 'not a valid date');

/** Seconds since the epoch as a decimal string; AWS sets it to `createDate` in UTC epoch seconds. */
export const SyncToken = z.string().regex(/^\d{1,15}$/, 'expected decimal epoch seconds');

const cidrOf = (family: 'ipv4' | 'ipv6') =>
  z.string().refine((s) => parseCidr(s)?.family === family, `not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} CIDR`);

const entryFields = {
  region: z.string().min(1),
  service: z.string().min(1),
  network_border_group: z.string().min(1).optional(),
};

export const Ipv4PrefixEntry = z.object({ ip_prefix: cidrOf('ipv4'), ...entryFields });
export type Ipv4PrefixEntry = z.infer<typeof Ipv4PrefixEntry>;

export const Ipv6PrefixEntry = z.object({ ipv6_prefix: cidrOf('ipv6'), ...entryFields });
export type Ipv6PrefixEntry = z.infer<typeof Ipv6PrefixEntry>;

export const IpRanges = z.object({
  syncToken: SyncToken,
  createDate: CreateDate,
  prefixes: z.array(Ipv4PrefixEntry),
  ipv6_prefixes: z.array(Ipv6PrefixEntry),
});
export type IpRanges = z.infer<typeof IpRanges>;

/**
 * One entry of either family, in the shape every vigil API uses (queries, lookup, diff, alerts): the prefix under
 * one name, camelCase, and the family spelled out.
 */
export const IpEntry = z.object({
  family: z.enum(['ipv4', 'ipv6']),
  prefix: z.string(),
  region: z.string(),
  service: z.string(),
  networkBorderGroup: z.string().optional(),
});
export type IpEntry = z.infer<typeof IpEntry>;

export function createDateToDate(createDate: string): Date {
  const [y, mo, d, h, mi, s] = createDate.split('-').map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 2026-02-30 over to March; a real createDate never needs that.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return new Date(NaN);
  return date;
}

const toEntry = (
  family: 'ipv4' | 'ipv6',
  prefix: string,
  e: { region: string; service: string; network_border_group?: string | undefined },
): IpEntry =>
  e.network_border_group === undefined
    ? { family, prefix, region: e.region, service: e.service }
    : { family, prefix, region: e.region, service: e.service, networkBorderGroup: e.network_border_group };

export const ipv4Entries = (r: IpRanges): IpEntry[] => r.prefixes.map((e) => toEntry('ipv4', e.ip_prefix, e));
export const ipv6Entries = (r: IpRanges): IpEntry[] => r.ipv6_prefixes.map((e) => toEntry('ipv6', e.ipv6_prefix, e));

/** Both families, IPv4 first, each in file order. */
export const allEntries = (r: IpRanges): IpEntry[] => [...ipv4Entries(r), ...ipv6Entries(r)];
