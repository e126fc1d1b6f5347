import type { NotifyConfig } from '../config/notify';
import type { Clock, Logger } from '../core/deps';
import { ConfigError, TransientError, ValidationError, describeError } from '../core/errors';
import type { SlackMessage } from './block-kit';
import type { DisplayOptions } from './display';
import { type GroupItem, type GroupStore, groupKey, latestAlert } from './grouping';
import { FLUSH_KIND, type FlushMessage } from './queue-message';
import { routeAlert } from './routing';
import type { Alert } from './schema';
import { type SlackClient, SlackRejectedError, type SlackTarget } from './slack-client';
import { type GroupSummary, renderSlackAlert, renderSlackRollup } from './slack-message';
import type { SlackSecretSource, SlackSecrets } from './slack-secrets';

/**
 * Delivery of alerts to Slack: routing to channels, grouping bursts, posting with Slack's retry rules. Returns what
 * happened per channel instead of throwing, so the caller (the SQS handler, the CLI) decides what a permanent
 * rejection means for its input (a DLQ message with the reason; an error line).
 */

/** Sends the "close this window" message to the notifier's own queue, delivered after `delaySeconds`. */
export type FlushScheduler = (message: FlushMessage, delaySeconds: number) => Promise<void>;

export interface NotifierDeps {
  logger: Logger;
  clock: Clock;
  slack: Pick<SlackClient, 'post' | 'update'>;
  secrets: SlackSecretSource;
  /** Grouping and exactly-once posting; without it every alert is posted (the CLI). */
  groups?: GroupStore;
  /** Closes windows at their end; without it a window is closed by the next alert of its key. */
  scheduleFlush?: FlushScheduler;
}

export interface NotifySettings {
  config: NotifyConfig;
  display: DisplayOptions;
  /** Epoch ms after which no Slack request starts (the invocation's remaining time minus a margin). */
  deadline: number;
  /** Slack Web API base URL (tests point it at a local server). */
  apiBaseUrl?: string;
}

export type ChannelStatus =
  | 'posted' // a new Slack message
  | 'updated' // the window's post now shows the new count
  | 'counted' // counted into a window whose post (or closing) shows it
  | 'duplicate' // this alert was already counted (redelivery)
  | 'closed' // a window was closed: final edit or roll-up posted
  | 'nothing-to-do';

export type ChannelOutcome =
  | { channel: string; status: ChannelStatus }
  | { channel: string; status: 'rejected'; reason: string; httpStatus?: number; message: string };

export interface NotifyResult {
  outcomes: ChannelOutcome[];
  /** Set when at least one channel failed transiently: the input should be retried (already-done channels are not
   * redone when grouping state is available). */
  retry?: Error;
}

/** Slack error codes that may mean the secret was rotated: read it again once before giving up. */
const credentialReasons = new Set(['no_service', 'invalid_token', 'invalid_auth', 'token_revoked', 'token_expired', 'not_authed', 'account_inactive']);

const sameTarget = (a: SlackTarget, b: SlackTarget) =>
  a.kind === 'webhook' && b.kind === 'webhook'
    ? a.url === b.url
    : a.kind === 'api' && b.kind === 'api' && a.token === b.token && a.channelId === b.channelId;

export function resolveTarget(channel: string, config: NotifyConfig, secrets: SlackSecrets, apiBaseUrl?: string): SlackTarget {
  const ch = config.channels[channel];
  if (!ch) throw new ConfigError(`notify: unknown channel "${channel}"`);
  if (ch.channelId && secrets.botToken) {
    return { kind: 'api', channel, token: secrets.botToken, channelId: ch.channelId, apiBaseUrl };
  }
  const key = ch.webhook ?? channel;
  let url = secrets.webhooks[key];
  const all = Object.values(secrets.webhooks);
  // A bare webhook URL in the secret is the "default" webhook; a single-channel setup needs no key names at all.
  if (url === undefined && ch.webhook === undefined && all.length === 1 && Object.keys(config.channels).length === 1) url = all[0];
  if (url === undefined) {
    throw new ConfigError(
      `notify.channels.${channel}: the Slack secret has no webhook "${key}"${ch.channelId ? ' and no botToken for its channelId' : ''}`,
    );
  }
  return { kind: 'webhook', channel, url };
}

const groupSummary = (item: GroupItem, open: boolean, target: SlackTarget): GroupSummary => ({
  count: item.count,
  alerts: item.alerts,
  firstSeen: new Date(item.firstSeen).toISOString(),
  lastSeen: new Date(item.lastSeen).toISOString(),
  openUntil: open ? new Date(item.windowEnd).toISOString() : undefined,
  mode: target.kind === 'api' ? 'edit' : 'rollup',
});

class Delivery {
  private secrets?: SlackSecrets;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly settings: NotifySettings,
  ) {}

  private get send() {
    return { deadline: this.settings.deadline };
  }

  async target(channel: string): Promise<SlackTarget> {
    this.secrets ??= await this.deps.secrets();
    return resolveTarget(channel, this.settings.config, this.secrets, this.settings.apiBaseUrl);
  }

  /** Runs a Slack call; if Slack says the credential is gone, re-reads the secret once (it may have been rotated). */
  private async withFreshCredentials<T>(channel: string, call: (target: SlackTarget) => Promise<T>): Promise<T> {
    const target = await this.target(channel);
    try {
      return await call(target);
    } catch (err) {
      if (!(err instanceof SlackRejectedError) || !credentialReasons.has(err.reason)) throw err;
      this.secrets = await this.deps.secrets({ refresh: true });
      const fresh = resolveTarget(channel, this.settings.config, this.secrets, this.settings.apiBaseUrl);
      if (sameTarget(fresh, target)) throw err;
      this.deps.logger.info('Slack credential was rotated; retrying with the new one', { channel });
      return call(fresh);
    }
  }

  post(channel: string, message: SlackMessage): Promise<{ ts?: string }> {
    return this.withFreshCredentials(channel, (t) => this.deps.slack.post(t, message, this.send));
  }

  update(channel: string, ts: string, message: SlackMessage): Promise<void> {
    return this.withFreshCredentials(channel, async (t) => {
      if (t.kind !== 'api') throw new ConfigError(`notify.channels.${channel}: editing a post needs a botToken and channelId`);
      await this.deps.slack.update(t, ts, message, this.send);
    });
  }

  render(alert: Alert, group?: GroupSummary): SlackMessage {
    return renderSlackAlert(alert, { ...this.settings.display, group });
  }

  /** Posts the window's message if nobody has; returns whether this call posted it. */
  private async postWindow(groups: GroupStore, target: SlackTarget, item: GroupItem): Promise<boolean> {
    const claimed = await groups.claimPost(item.pk, item.windowId, true);
    if (!claimed) return false;
    try {
      // With grouping off the "window" is just this alert: no group line in the post.
      const group = this.settings.config.grouping.windowMinutes > 0 ? groupSummary(claimed, true, target) : undefined;
      const { ts } = await this.post(target.channel, this.render(latestAlert(claimed), group));
      await groups.completePost(claimed.pk, claimed.windowId, { ts, shownCount: claimed.count, shownAlerts: claimed.alerts });
      return true;
    } catch (err) {
      if (err instanceof SlackRejectedError) await groups.failPost(claimed.pk, claimed.windowId, err.reason);
      else await groups.releasePost(claimed.pk, claimed.windowId);
      throw err;
    }
  }

  /** Edits the window's post to the new count (bot token only), rate limited; failures wait for the closing edit. */
  private async maybeUpdate(groups: GroupStore, channel: string, item: GroupItem, target: SlackTarget): Promise<boolean> {
    if (target.kind !== 'api' || !item.postTs || item.count <= (item.shownCount ?? 0)) return false;
    const previous = { shownCount: item.shownCount ?? 0, shownAlerts: item.shownAlerts ?? 0 };
    if (!(await groups.claimUpdate(item, this.settings.config.grouping.updateIntervalSeconds * 1000))) return false;
    try {
      await this.update(channel, item.postTs, this.render(latestAlert(item), groupSummary(item, true, target)));
      return true;
    } catch (err) {
      await groups.revertUpdate(item, previous);
      this.deps.logger.warn('could not update the grouped Slack post; the window closing will', {
        channel,
        error: describeError(err),
      });
      return false;
    }
  }

  /** Closes an ended window once: the final count (edit) or a roll-up (webhook), or the one post if none was made. */
  async closeWindow(groups: GroupStore, channel: string, windowId: string, pk: string): Promise<ChannelStatus> {
    const claimed = await groups.claimFinal(pk, windowId);
    if (!claimed) {
      const current = await groups.get(pk);
      if (!current || current.windowId !== windowId || current.finalState === 'final') return 'nothing-to-do';
      throw new TransientError(`grouping window of ${pk} is being posted or closed by another invocation`);
    }
    try {
      const latest = latestAlert(claimed);
      const target = await this.target(channel);
      const final = groupSummary(claimed, false, target);
      const shown = { count: claimed.shownCount ?? 0, alerts: claimed.shownAlerts ?? 0 };
      if (claimed.postState !== 'posted') {
        const { ts } = await this.post(channel, this.render(latest, final));
        await groups.completeFinal(pk, windowId, { shownCount: claimed.count, shownAlerts: claimed.alerts, ts });
        return 'posted';
      }
      if (claimed.count <= shown.count) {
        await groups.completeFinal(pk, windowId);
        return 'nothing-to-do';
      }
      if (target.kind === 'api' && claimed.postTs) {
        await this.update(channel, claimed.postTs, this.render(latest, final));
      } else {
        await this.post(
          channel,
          renderSlackRollup(
            latest,
            { more: claimed.count - shown.count, moreAlerts: claimed.alerts - shown.alerts, group: final },
            this.settings.display,
          ),
        );
      }
      await groups.completeFinal(pk, windowId, { shownCount: claimed.count, shownAlerts: claimed.alerts });
      return 'closed';
    } catch (err) {
      // A permanent rejection closes the window anyway (it is reported to the DLQ); anything else lets a retry close it.
      if (err instanceof SlackRejectedError) await groups.completeFinal(pk, windowId);
      else await groups.releaseFinal(pk, windowId);
      throw err;
    }
  }

  async deliverAlert(alert: Alert, channel: string): Promise<ChannelStatus> {
    const groups = this.deps.groups;
    if (!groups) {
      await this.post(channel, this.render(alert));
      return 'posted';
    }
    const target = await this.target(channel); // fail fast on a channel with no credentials, before any state
    const windowMinutes = this.settings.config.grouping.windowMinutes;
    // Grouping off: each alert is its own "window" keyed by its id, which still makes SQS redeliveries idempotent.
    const pk = groupKey(channel, alert.severity, windowMinutes > 0 ? alert.dedupKey : `alert:${alert.id}`);
    const windowMs = windowMinutes > 0 ? windowMinutes * 60_000 : 24 * 3600_000;
    const scheduler = windowMinutes > 0 ? this.deps.scheduleFlush : undefined;
    const beforeOpen = scheduler
      ? async (w: { windowId: string; windowEnd: number }) => {
          const delay = Math.ceil((w.windowEnd - this.deps.clock.now().getTime()) / 1000) + 1;
          await scheduler(
            {
              kind: FLUSH_KIND,
              channel,
              severity: alert.severity,
              dedupKey: alert.dedupKey,
              windowId: w.windowId,
              windowEnd: w.windowEnd,
            },
            Math.min(900, Math.max(0, delay)),
          );
        }
      : undefined;

    let result = await groups.ingest(pk, alert, windowMs, beforeOpen);
    for (let i = 0; result.kind === 'expired' && i < 3; i++) {
      await this.closeWindow(groups, channel, result.item.windowId, pk);
      result = await groups.ingest(pk, alert, windowMs, beforeOpen);
    }
    if (result.kind === 'expired') throw new TransientError(`grouping window of ${pk} could not be closed`);

    const item = result.item;
    if (item.postState === 'posted') {
      if (result.kind === 'duplicate') return 'duplicate';
      return (await this.maybeUpdate(groups, channel, item, target)) ? 'updated' : 'counted';
    }
    // Not posted yet (first alert, or the post failed / is being retried): post the window now unless another
    // invocation holds the post; it will show this alert's count, or the window's closing will.
    if (await this.postWindow(groups, target, item)) return 'posted';
    return result.kind === 'duplicate' ? 'duplicate' : 'counted';
  }
}

function permanentOutcome(channel: string, err: unknown): ChannelOutcome | undefined {
  if (err instanceof SlackRejectedError) {
    return { channel, status: 'rejected', reason: err.reason, httpStatus: err.httpStatus, message: err.message };
  }
  if (err instanceof ConfigError) return { channel, status: 'rejected', reason: 'config_error', message: err.message };
  if (err instanceof ValidationError) return { channel, status: 'rejected', reason: 'render_error', message: err.message };
  return undefined;
}

async function forEachChannel(
  channels: string[],
  deps: NotifierDeps,
  run: (channel: string) => Promise<ChannelStatus>,
): Promise<NotifyResult> {
  const outcomes: ChannelOutcome[] = [];
  let retry: Error | undefined;
  for (const channel of channels) {
    try {
      outcomes.push({ channel, status: await run(channel) });
    } catch (err) {
      const permanent = permanentOutcome(channel, err);
      if (permanent) {
        outcomes.push(permanent);
        continue;
      }
      deps.logger.warn('Slack delivery will be retried', { channel, error: describeError(err) });
      retry ??= err instanceof Error ? err : new TransientError(String(err));
    }
  }
  return { outcomes, retry };
}

/** Delivers one alert to every channel its routes select. */
export async function notifyAlert(alert: Alert, deps: NotifierDeps, settings: NotifySettings): Promise<NotifyResult> {
  const accountName = typeof alert.context.accountName === 'string' ? alert.context.accountName : settings.display.accountNames?.[alert.account];
  const channels = routeAlert(alert, settings.config, accountName);
  if (channels.length === 0) {
    deps.logger.info('alert below notify.minSeverity; not posted', { alertId: alert.id, severity: alert.severity });
    return { outcomes: [] };
  }
  const delivery = new Delivery(deps, settings);
  return forEachChannel(channels, deps, (channel) => delivery.deliverAlert(alert, channel));
}

/** Handles the delayed "close this window" message (re-sent if it arrives early: SQS delays cap at 15 minutes). */
export async function closeGroupWindow(flush: FlushMessage, deps: NotifierDeps, settings: NotifySettings): Promise<NotifyResult> {
  const groups = deps.groups;
  if (!groups) return { outcomes: [{ channel: flush.channel, status: 'nothing-to-do' }] };
  const now = deps.clock.now().getTime();
  if (flush.windowEnd > now + 1000) {
    if (!deps.scheduleFlush) return { outcomes: [{ channel: flush.channel, status: 'nothing-to-do' }] };
    await deps.scheduleFlush(flush, Math.min(900, Math.ceil((flush.windowEnd - now) / 1000) + 1));
    return { outcomes: [{ channel: flush.channel, status: 'nothing-to-do' }] };
  }
  if (!settings.config.channels[flush.channel]) {
    // The channel was removed from the configuration after the window opened: nothing can be posted any more.
    deps.logger.warn('closing a window of a channel that is no longer configured; dropped', { channel: flush.channel });
    return { outcomes: [{ channel: flush.channel, status: 'nothing-to-do' }] };
  }
  const delivery = new Delivery(deps, settings);
  return forEachChannel([flush.channel], deps, (channel) =>
    delivery.closeWindow(groups, channel, flush.windowId, groupKey(channel, flush.severity, flush.dedupKey)),
  );
}
