import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GroupStore, groupKey } from '../../shared/alerts/grouping';
import { type NotifierDeps, type NotifySettings, closeGroupWindow, notifyAlert } from '../../shared/alerts/notifier';
import type { FlushMessage } from '../../shared/alerts/queue-message';
import type { Alert } from '../../shared/alerts/schema';
import { SlackClient } from '../../shared/alerts/slack-client';
import { staticSlackSecrets } from '../../shared/alerts/slack-secrets';
import { configFromYaml } from '../support/config';
import { silentLogger } from '../../shared/core/deps';
import { type LocalDynamo, startDynamo } from '../support/dynalite';
import { type LocalHttp, startHttp } from '../support/http-server';
import { alertFixture } from './fixtures';

const TABLE = 'vigil-test-state';
const START = Date.parse('2026-08-12T14:00:00Z');

type Reply = { status: number; body?: string; headers?: Record<string, string> };

describe('grouping bursts into one Slack post (dynalite + local Slack)', () => {
  let ddb: LocalDynamo;
  let http: LocalHttp;
  let replies: Reply[];
  let now: number;
  let flushes: { message: FlushMessage; delaySeconds: number }[];
  let tsCounter: number;

  beforeAll(async () => {
    [ddb, http] = await Promise.all([
      startDynamo(),
      startHttp((req, res) => {
        const reply = replies.shift();
        if (reply) {
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body ?? '');
          return;
        }
        // Default: success in the shape of the endpoint.
        if (req.url.startsWith('/api/')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, ts: req.url.endsWith('postMessage') ? `1723471402.${++tsCounter}` : 'x' }));
        } else res.end('ok');
      }),
    ]);
    await ddb.createTable({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
  afterAll(async () => Promise.all([ddb?.stop(), http?.stop()]));

  let keySeq = 0;
  let dedupKey: string;
  beforeEach(() => {
    replies = [];
    http.requests.length = 0;
    now = START + keySeq * 86_400_000;
    flushes = [];
    tsCounter = 0;
    dedupKey = `aws.defense-evasion.cloudtrail-stop-logging|111122223333|alice|${++keySeq}`;
  });

  const clock = { now: () => new Date(now) };
  const sleep = async (ms: number) => {
    now += ms;
  };

  function setup(yaml: string, secrets: { webhooks: Record<string, string>; botToken?: string }) {
    const config = configFromYaml(yaml, 'test').notify;
    const groups = new GroupStore({ doc: ddb.doc, tableName: TABLE, clock });
    const deps: NotifierDeps = {
      logger: silentLogger,
      clock,
      slack: new SlackClient({ fetch, clock, logger: silentLogger, sleep, random: () => 1 }),
      secrets: staticSlackSecrets(secrets),
      groups,
      scheduleFlush: async (message, delaySeconds) => void flushes.push({ message, delaySeconds }),
    };
    const settings = (): NotifySettings => ({
      config,
      display: { officeTimezone: 'Europe/Paris' },
      deadline: now + 30_000,
      apiBaseUrl: `${http.url}/api`,
    });
    return { deps, settings, groups };
  }

  const webhookSetup = () =>
    setup('notify: { grouping: { windowMinutes: 10 } }', { webhooks: { default: `${http.url}/services/T/B/hook` } });
  const botSetup = () =>
    setup('notify: { channels: { default: { channelId: C0123456789 } }, grouping: { windowMinutes: 10, updateIntervalSeconds: 30 } }', {
      webhooks: {},
      botToken: 'xoxb-1-2-test',
    });

  const burstAlert = (i: number, patch: Partial<Alert> = {}): Alert =>
    alertFixture('cloudtrail-stop-logging', {
      id: `alert-${keySeq}-${i}`,
      dedupKey,
      eventTime: new Date(START + i * 1000).toISOString(),
      firstSeen: new Date(START + i * 1000).toISOString(),
      lastSeen: new Date(START + i * 1000).toISOString(),
      ...patch,
    });

  const bodies = () => http.requests.map((r) => JSON.parse(r.body.toString()) as { text: string; ts?: string });

  it('webhook: a burst of 50 alerts is one post, and the end of the window adds one roll-up', async () => {
    const { deps, settings, groups } = webhookSetup();
    const statuses: string[] = [];
    for (let i = 0; i < 50; i++) {
      const result = await notifyAlert(burstAlert(i), deps, settings());
      expect(result.retry).toBeUndefined();
      statuses.push(...result.outcomes.map((o) => o.status));
      now += 2_000;
    }
    expect(statuses[0]).toBe('posted');
    expect(statuses.slice(1).every((s) => s === 'counted')).toBe(true);
    expect(http.requests).toHaveLength(1);
    expect(bodies()[0]?.text).toContain('CloudTrail logging stopped');

    // The window's closing was scheduled once, when it opened.
    expect(flushes).toHaveLength(1);
    const flush = flushes[0]!;
    expect(flush.message).toMatchObject({ kind: 'vigil.notify.group-close', channel: 'default', severity: 'critical', dedupKey });
    expect(flush.delaySeconds).toBe(601);

    const item = await groups.get(groupKey('default', 'critical', dedupKey));
    expect(item).toMatchObject({ count: 50, alerts: 50, postState: 'posted', shownCount: 1 });

    // Too early (an SQS delay is capped at 15 minutes): re-scheduled, nothing posted.
    await closeGroupWindow(flush.message, deps, settings());
    expect(flushes).toHaveLength(2);
    expect(http.requests).toHaveLength(1);

    now = flush.message.windowEnd + 1_000;
    const closed = await closeGroupWindow(flush.message, deps, settings());
    expect(closed.outcomes).toEqual([{ channel: 'default', status: 'closed' }]);
    expect(http.requests).toHaveLength(2);
    expect(bodies()[1]?.text).toBe(':red_circle: +49 more of CRITICAL: CloudTrail logging stopped');
    expect(JSON.stringify(bodies()[1])).toContain('Total *50* in 50 alerts, first 2026-08-12 14:00:00 UTC, last 2026-08-12 14:00:49 UTC');

    // Closing twice (SQS redelivers) does nothing.
    expect((await closeGroupWindow(flush.message, deps, settings())).outcomes[0]?.status).toBe('nothing-to-do');
    expect(http.requests).toHaveLength(2);
  });

  it('bot token: one post whose count is edited (rate limited), and a final edit at the end of the window', async () => {
    const { deps, settings, groups } = botSetup();
    const statuses: string[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push(...(await notifyAlert(burstAlert(i), deps, settings())).outcomes.map((o) => o.status));
      now += 10_000; // edits are allowed every 30 s
    }
    expect(statuses).toEqual(['posted', 'counted', 'counted', 'updated', 'counted', 'counted', 'updated', 'counted', 'counted', 'updated']);
    const urls = http.requests.map((r) => r.url);
    expect(urls).toEqual(['/api/chat.postMessage', '/api/chat.update', '/api/chat.update', '/api/chat.update']);
    expect(bodies()[1]).toMatchObject({ channel: 'C0123456789', ts: '1723471402.1' });
    expect(JSON.stringify(bodies()[3])).toContain('*10* in 10 alerts');
    // Too soon after the last edit: counted only; the window's closing shows it.
    expect((await notifyAlert(burstAlert(99), deps, settings())).outcomes[0]?.status).toBe('counted');

    now += 600_000;
    await notifyAlert(burstAlert(10, { lastSeen: undefined, firstSeen: undefined }), deps, settings()).catch(() => undefined);
    // The alert after the window closed the old window first (a final edit) and opened a new one (a new post).
    expect(http.requests.map((r) => r.url).slice(4)).toEqual(['/api/chat.update', '/api/chat.postMessage']);
    expect(JSON.stringify(bodies()[4])).toContain('*11* in 11 alerts');
    expect(JSON.stringify(bodies()[4])).not.toContain('update this count'); // the final edit has no "open" footer
    const item = await groups.get(groupKey('default', 'critical', dedupKey));
    expect(item).toMatchObject({ count: 1, alerts: 1, postTs: '1723471402.2' });
  });

  it('a redelivered alert is counted once and posted once', async () => {
    const { deps, settings, groups } = webhookSetup();
    const alert = burstAlert(0, { count: 4 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await notifyAlert(alert, deps, settings())).outcomes[0]?.status);
    expect(statuses).toEqual(['posted', 'duplicate', 'duplicate']);
    expect(http.requests).toHaveLength(1);
    expect(await groups.get(groupKey('default', 'critical', dedupKey))).toMatchObject({ count: 4, alerts: 1 });
  });

  it('concurrent invocations agree: 20 alerts at once give one post and an exact count', async () => {
    const { deps, settings, groups } = webhookSetup();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => notifyAlert(burstAlert(i), deps, settings())));
    const statuses = results.flatMap((r) => r.outcomes.map((o) => o.status));
    expect(results.every((r) => r.retry === undefined)).toBe(true);
    expect(statuses.filter((s) => s === 'posted')).toHaveLength(1);
    expect(http.requests).toHaveLength(1);
    const item = await groups.get(groupKey('default', 'critical', dedupKey));
    expect(item).toMatchObject({ count: 20, alerts: 20 });
    // Racing openers each scheduled a closing before their conditional put; only the winner's window exists, and the
    // others' closing messages are no-ops.
    expect(flushes.filter((f) => f.message.windowId === item?.windowId)).toHaveLength(1);
    now = (item?.windowEnd ?? 0) + 1_000;
    const closings = [];
    for (const f of flushes) closings.push((await closeGroupWindow(f.message, deps, settings())).outcomes[0]?.status);
    expect(closings.filter((s) => s === 'closed')).toHaveLength(1);
    expect(closings.filter((s) => s !== 'closed').every((s) => s === 'nothing-to-do')).toBe(true);
    expect(http.requests).toHaveLength(2);
  });

  it('Slack down: the first alert is retried, the next one posts the whole window when Slack is back', async () => {
    const { deps, settings, groups } = webhookSetup();
    replies = Array.from({ length: 30 }, () => ({ status: 503 }));
    const first = await notifyAlert(burstAlert(0), deps, settings());
    expect(first.retry?.name).toBe('SlackUnavailableError');
    expect(first.outcomes).toEqual([]);
    // Counted, and the post claim given back for whoever comes next.
    const afterFailure = await groups.get(groupKey('default', 'critical', dedupKey));
    expect(afterFailure?.count).toBe(1);
    expect(afterFailure?.postState).toBeUndefined();

    replies = [];
    http.requests.length = 0;
    const second = await notifyAlert(burstAlert(1), deps, settings());
    expect(second.outcomes[0]?.status).toBe('posted');
    expect(bodies()[0]?.text).toContain('(×2)');
    // The first alert's redelivery finds it counted and posted.
    expect((await notifyAlert(burstAlert(0), deps, settings())).outcomes[0]?.status).toBe('duplicate');
    expect(http.requests).toHaveLength(1);
  });

  it('a permanent rejection is reported, and the next alert of the window tries again', async () => {
    const { deps, settings, groups } = webhookSetup();
    replies = [{ status: 404, body: 'channel_not_found' }];
    const first = await notifyAlert(burstAlert(0), deps, settings());
    expect(first.outcomes).toEqual([
      {
        channel: 'default',
        status: 'rejected',
        reason: 'channel_not_found',
        httpStatus: 404,
        message: 'Slack rejected the message for channel "default": channel_not_found (HTTP 404)',
      },
    ]);
    expect(await groups.get(groupKey('default', 'critical', dedupKey))).toMatchObject({ postState: 'failed', postError: 'channel_not_found' });
    expect((await notifyAlert(burstAlert(1), deps, settings())).outcomes[0]?.status).toBe('posted');
  });

  it('a window that ended without its closing message is closed by the next alert of the key', async () => {
    const { deps, settings } = webhookSetup();
    for (let i = 0; i < 3; i++) await notifyAlert(burstAlert(i), deps, settings());
    now += 11 * 60_000;
    const next = await notifyAlert(burstAlert(3), deps, settings());
    expect(next.outcomes[0]?.status).toBe('posted');
    expect(bodies().map((b) => b.text)).toEqual([
      expect.stringContaining('CloudTrail logging stopped'),
      ':red_circle: +2 more of CRITICAL: CloudTrail logging stopped',
      expect.stringContaining('CloudTrail logging stopped'),
    ]);
    expect(flushes).toHaveLength(2);
  });

  it('a more severe alert of the same key is not swallowed by a quieter window: it is posted at once', async () => {
    const { deps, settings } = webhookSetup();
    const progress = (i: number, patch: Partial<Alert> = {}) =>
      alertFixture('migration-progress', { id: `m-${keySeq}-${i}`, dedupKey, title: `Migration: ${i * 25}% moved`, ...patch });
    const statuses = [];
    for (const i of [1, 2]) statuses.push((await notifyAlert(progress(i), deps, settings())).outcomes[0]?.status);
    statuses.push((await notifyAlert(progress(4, { severity: 'high', title: 'Migration failed, rolled back' }), deps, settings())).outcomes[0]?.status);
    expect(statuses).toEqual(['posted', 'counted', 'posted']);
    expect(bodies().map((b) => b.text)).toEqual([
      ':white_circle: INFO: Migration: 25% moved in 111122223333',
      ':large_orange_circle: HIGH: Migration failed, rolled back in 111122223333',
    ]);
  });

  it('bot token: the edited post shows the latest alert of the window (progress notes)', async () => {
    const { deps, settings } = botSetup();
    for (const percent of [25, 50, 75]) {
      const alert = alertFixture('migration-progress', {
        id: `p-${keySeq}-${percent}`,
        dedupKey,
        title: `Migration: ${percent}% moved`,
        eventTime: new Date(now).toISOString(),
      });
      await notifyAlert(alert, deps, settings());
      now += 40_000;
    }
    expect(http.requests.map((r) => r.url)).toEqual(['/api/chat.postMessage', '/api/chat.update', '/api/chat.update']);
    expect(bodies()[2]?.text).toBe(':white_circle: INFO: Migration: 75% moved in 111122223333 (×3)');
  });

  it('past the tracked-id limit a window keeps counting (without recognising redeliveries)', async () => {
    const { deps, settings } = webhookSetup();
    const small = new GroupStore({ doc: ddb.doc, tableName: TABLE, clock }, { maxTrackedAlerts: 3 });
    const limited = { ...deps, groups: small };
    for (let i = 0; i < 6; i++) await notifyAlert(burstAlert(i), limited, settings());
    await notifyAlert(burstAlert(5), limited, settings()); // a redelivery past the limit counts again
    const item = await small.get(groupKey('default', 'critical', dedupKey));
    expect(item).toMatchObject({ count: 7, alerts: 7 });
    expect(item?.ids?.size).toBe(3);
    expect(http.requests).toHaveLength(1);
  });

  it('grouping off: every alert is posted, redeliveries still are not', async () => {
    const { deps, settings } = setup('notify: { grouping: { windowMinutes: 0 } }', { webhooks: { default: `${http.url}/hook` } });
    const statuses = [];
    for (const i of [0, 1, 1, 2]) statuses.push((await notifyAlert(burstAlert(i), deps, settings())).outcomes[0]?.status);
    expect(statuses).toEqual(['posted', 'posted', 'duplicate', 'posted']);
    expect(http.requests).toHaveLength(3);
    expect(flushes).toHaveLength(0);
    expect(JSON.stringify(bodies()[0])).not.toContain('update this count');
  });
});
