import { z } from 'zod';

/** A watched (service, region) pair; region omitted or "*" means every region. Case-insensitive. */
export const IpSpaceWatch = z.strictObject({
  service: z.string().min(1),
  region: z.string().min(1).default('*'),
});

export const IpSpaceConfig = z.strictObject({
  /** Changes to entries of these services/regions raise an alert; empty → every change alerts. */
  watch: z.array(IpSpaceWatch).default([]),
  /** A CIDR added and removed again within this many hours is "flapping" and alerted at most once per window. */
  flappingWindowHours: z.number().positive().max(24 * 90).default(72),
  /** How many changed CIDRs an alert lists before it truncates (the counts are always exact). */
  maxCidrsInAlert: z.number().int().positive().default(50),
});
export type IpSpaceConfig = z.infer<typeof IpSpaceConfig>;
