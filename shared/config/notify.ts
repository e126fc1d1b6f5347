import { z } from 'zod';
import { Severity } from '../alerts/schema';

/**
 * Alert delivery settings (Slack channels, routing, grouping, display). Owned by shared/alerts.
 *
 * Secrets are not here: the Slack webhook URLs and the optional bot token live in ONE SSM SecureString whose name is
 * a deploy-time setting (stack parameter `slackSecretParameter`, env SLACK_SECRET_PARAMETER), because the notifier's
 * IAM policy is scoped to exactly that parameter. This document only names keys inside it. See docs/alerts.md.
 */

/** Channel names are configuration keys and part of DynamoDB keys (`group#<channel>#<dedupKey>`): keep them simple. */
export const ChannelName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'channel names are lower-case letters, digits, "-" and "_" (max 63)');

export const SlackChannel = z.strictObject({
  /** Key of this channel's incoming-webhook URL in the secret document's `webhooks` (default: the channel's name). */
  webhook: z.string().min(1).optional(),
  /**
   * Slack channel ID (C…/G…) for the Web API. With a bot token in the secret document, the notifier posts with
   * chat.postMessage and edits the post's count with chat.update; without one it falls back to the webhook.
   */
  channelId: z
    .string()
    .regex(/^[CGD][A-Z0-9]{6,}$/, 'a Slack channel ID such as C0123456789 (chat.update needs the ID, not the name)')
    .optional(),
});
export type SlackChannel = z.infer<typeof SlackChannel>;

/**
 * A route sends matching alerts to its channels. All given criteria must hold (AND); within one criterion any value
 * matches (OR). An alert goes to the union of the channels of every matching route, or to `defaultChannels` when none
 * matches.
 */
export const Route = z
  .strictObject({
    channels: z.array(ChannelName).min(1),
    /** Exactly these severities. */
    severities: z.array(Severity).min(1).optional(),
    /** This severity or higher. */
    minSeverity: Severity.optional(),
    /** Account IDs or account names (see accountNames). */
    accounts: z.array(z.string().min(1)).min(1).optional(),
    /** Any of these categories. */
    categories: z.array(z.string().min(1)).min(1).optional(),
    /** Rule IDs; a trailing `*` matches a prefix (`aws.defense-evasion.*`). */
    rules: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((r) => !(r.severities && r.minSeverity), { message: 'use either severities or minSeverity, not both' });
export type Route = z.infer<typeof Route>;

export const GroupingConfig = z.strictObject({
  /**
   * Alerts with the same dedup key within this many minutes become one Slack post with an updating count (bot
   * token) or one post plus one roll-up (webhook). 0 turns grouping off (every alert is posted).
   */
  windowMinutes: z.number().min(0).max(24 * 60).default(10),
  /** With a bot token: edit the post at most this often; the end of the window always writes the final count. */
  updateIntervalSeconds: z.number().int().min(1).max(3600).default(15),
});
export type GroupingConfig = z.infer<typeof GroupingConfig>;

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const NotifyConfig = z
  .strictObject({
    /** Alerts below this severity are not posted to Slack at all (SNS subscribers filter for themselves). */
    minSeverity: Severity.default('info'),
    /**
     * IANA timezone shown beside UTC ("when"). When absent, the detection office-hours timezone is used, else UTC
     * only.
     */
    officeTimezone: z.string().refine(isTimeZone, 'not an IANA timezone (e.g. Europe/Paris)').optional(),
    /** Display names of accounts ("prod", "dev"), by 12-digit account ID; shown beside the ID. */
    accountNames: z.record(z.string().regex(/^\d{12}$/, 'a 12-digit AWS account ID'), z.string().min(1)).default({}),
    channels: z.record(ChannelName, SlackChannel).default({ default: {} }),
    routes: z.array(Route).default([]),
    defaultChannels: z.array(ChannelName).default(['default']),
    grouping: GroupingConfig.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const known = new Set(Object.keys(cfg.channels));
    const check = (names: string[], path: (string | number)[]) =>
      names.forEach((name, i) => {
        if (!known.has(name))
          ctx.addIssue({
            code: 'custom',
            path: [...path, i],
            message: `unknown channel "${name}" (define it under notify.channels)`,
          });
      });
    check(cfg.defaultChannels, ['defaultChannels']);
    cfg.routes.forEach((route, i) => check(route.channels, ['routes', i, 'channels']));
  });
export type NotifyConfig = z.infer<typeof NotifyConfig>;
export type NotifyConfigInput = z.input<typeof NotifyConfig>;
