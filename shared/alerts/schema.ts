import { z } from 'zod';

export const Severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const severityRank: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export const atLeast = (severity: Severity, min: Severity): boolean => severityRank[severity] >= severityRank[min];

/**
 * The one alert format of vigil: IP-space alerts and CloudTrail alerts share it, SNS carries it as the message body,
 * the notifier renders it for Slack and email. The CloudTrail fields are optional because IP-space alerts have no
 * actor or event.
 */
export const Alert = z.object({
  id: z.string().min(1),
  ruleId: z.string().min(1),
  title: z.string().min(1),
  severity: Severity,
  categories: z.array(z.string()),
  account: z.string(),
  region: z.string(),
  eventTime: z.iso.datetime({ offset: true }),
  summary: z.string(),
  context: z.record(z.string(), z.unknown()),
  count: z.number().int().positive(),
  dedupKey: z.string().min(1),
  // CloudTrail alerts
  eventName: z.string().optional(),
  eventSource: z.string().optional(),
  actor: z.string().optional(),
  sourceIp: z.string().optional(),
  eventIds: z.array(z.string()).optional(),
  firstSeen: z.iso.datetime({ offset: true }).optional(),
  lastSeen: z.iso.datetime({ offset: true }).optional(),
  runbook: z.string().optional(),
  /** Where the evidence is: the CloudTrail log object, or the ip-ranges snapshot. */
  source: z.object({ bucket: z.string().optional(), key: z.string() }).optional(),
});
export type Alert = z.infer<typeof Alert>;
