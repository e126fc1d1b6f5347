import { z } from 'zod';
import { Severity } from '../alerts/schema';

/**
 * A watched (service, region) pair. Service "*" means every service; region omitted or "*" means every region.
 * Both are matched case-insensitively and exactly (a watch on eu-west-1 does not include GLOBAL entries: add a
 * second watch with region GLOBAL for that).
 */
export const IpSpaceWatch = z.strictObject({
  service: z.string().min(1),
  region: z.string().min(1).default('*'),
});
export type IpSpaceWatch = z.infer<typeof IpSpaceWatch>;

export const IpSpaceConfig = z.strictObject({
  /** Changes to entries of these services/regions raise an alert; empty → every change alerts. */
  watch: z.array(IpSpaceWatch).default([]),
  /** A CIDR added and removed again within this many hours is "flapping" and alerted at most once per window. */
  flappingWindowHours: z.number().positive().max(24 * 90).default(72),
  /** How many changed CIDRs an alert lists before it truncates (the counts are always exact). */
  maxCidrsInAlert: z.number().int().positive().default(50),
  /** Severity of the IP-space alert (route it with the alerts topic's filter policies). */
  severity: Severity.default('low'),
});
export type IpSpaceConfig = z.infer<typeof IpSpaceConfig>;
