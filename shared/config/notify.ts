import { z } from 'zod';

/** Alert delivery settings (Slack routing, grouping). Owned by shared/alerts; this file grows with it. */
export const NotifyConfig = z.strictObject({});
export type NotifyConfig = z.infer<typeof NotifyConfig>;
