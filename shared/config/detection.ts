import { z } from 'zod';

/**
 * Detection settings for the CloudTrail rules. Owned by the rule engine (shared/rules); this file grows with it.
 */
export const DetectionConfig = z.strictObject({});
export type DetectionConfig = z.infer<typeof DetectionConfig>;
