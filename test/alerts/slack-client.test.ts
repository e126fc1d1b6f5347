import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackClient, SlackRejectedError, SlackUnavailableError, type SlackTarget } from '../../shared/alerts/slack-client';
import { renderSlackAlert } from '../../shared/alerts/slack-message';
import type { Clock, Logger } from '../../shared/core/deps';
import { type LocalHttp, type RecordedRequest, startHttp } from '../support/http-server';
import { alertFixture } from './fixtures';

const SECRET_PATH = '/services/T0SECRET/B0SECRET/s3cr3tW3bh00kT0k3n';
const TOKEN = 'xoxb-1111-2222-s3cr3tB0tT0k3n';

/** A clock that only moves when the client sleeps: retries and Retry-After are checked without waiting. */
function fakeTime(start = Date.parse('2026-08-12T14:00:00Z')) {
  let now = start;
  const sleeps: number[] = [];
  const clock: Clock = { now: () => new Date(now) };
  return {
    clock,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    now: () => now,
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (message: string, extra?: unknown) =>
    void lines.push(`${level} ${message} ${extra instanceof Error ? `${extra.message} ${extra.stack}` : JSON.stringify(extra ?? {})}`);
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

type Reply = { status: number; body?: string; headers?: Record<string, string> };

describe('Slack client against a local HTTP server', () => {
  let http: LocalHttp;
  let replies: Reply[];
  let webhook: SlackTarget;
  let api: Extract<SlackTarget, { kind: 'api' }>;
  const message = renderSlackAlert(alertFixture('cloudtrail-stop-logging'));

  beforeAll(async () => {
    http = await startHttp((_req, res) => {
      const reply = replies.shift() ?? { status: 200, body: 'ok' };
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? '');
    });
    webhook = { kind: 'webhook', channel: 'security', url: `${http.url}${SECRET_PATH}` };
    api = { kind: 'api', channel: 'ops', token: TOKEN, channelId: 'C0123456789', apiBaseUrl: `${http.url}/api` };
  });
  afterAll(async () => http?.stop());
  beforeEach(() => {
    replies = [];
    http.requests.length = 0;
  });

  function client(time = fakeTime(), logger = recordingLogger()) {
    return { slack: new SlackClient({ fetch, clock: time.clock, logger, sleep: time.sleep, random: () => 1 }), time, logger };
  }
  const deadlineIn = (time: ReturnType<typeof fakeTime>, ms: number) => ({ deadline: time.now() + ms });

  it('posts the message as JSON to the webhook', async () => {
    const { slack, time } = client();
    await expect(slack.post(webhook, message, deadlineIn(time, 30_000))).resolves.toEqual({ ts: undefined });
    expect(http.requests).toHaveLength(1);
    const req = http.requests[0] as RecordedRequest;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(SECRET_PATH);
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req.body.toString())).toEqual(message);
  });

  it('429 with Retry-After: waits exactly that long, then succeeds', async () => {
    replies = [{ status: 429, body: 'rate_limited', headers: { 'retry-after': '7' } }, { status: 200, body: 'ok' }];
    const { slack, time } = client();
    await slack.post(webhook, message, deadlineIn(time, 30_000));
    expect(http.requests).toHaveLength(2);
    expect(time.sleeps).toEqual([7000]);
  });

  it('500 then success: retried with backoff', async () => {
    replies = [{ status: 500, body: 'internal_error' }, { status: 503 }, { status: 200, body: 'ok' }];
    const { slack, time } = client();
    await slack.post(webhook, message, deadlineIn(time, 30_000));
    expect(http.requests).toHaveLength(3);
    expect(time.sleeps).toEqual([500, 1000]); // exponential (random()=1 → the cap of each step)
  });

  it.each([
    [404, 'no_service'],
    [404, 'channel_not_found'],
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [410, 'channel_is_archived'],
  ])('%i %s is permanent: no retry, the reason is Slack\'s code', async (status, code) => {
    replies = [{ status, body: code }];
    const { slack, time } = client();
    const err = await slack.post(webhook, message, deadlineIn(time, 30_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackRejectedError);
    expect(err).toMatchObject({ reason: code, httpStatus: status, channel: 'security', name: 'SlackRejectedError' });
    expect(http.requests).toHaveLength(1);
  });

  it('a body that is not a Slack error code is not echoed', async () => {
    replies = [{ status: 400, body: '<html>proxy said no, url was https://hooks.slack.com/services/x</html>' }];
    const { slack, time } = client();
    const err = (await slack.post(webhook, message, deadlineIn(time, 30_000)).catch((e: unknown) => e)) as SlackRejectedError;
    expect(err.reason).toBe('http_400');
    expect(err.message).toBe('Slack rejected the message for channel "security": http_400 (HTTP 400)');
  });

  it('a Retry-After beyond the time budget gives the message back at once, and the channel stays gated', async () => {
    replies = [{ status: 429, body: 'rate_limited', headers: { 'retry-after': '120' } }];
    const { slack, time } = client();
    const err = await slack.post(webhook, message, deadlineIn(time, 30_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackUnavailableError);
    expect(err).toMatchObject({ reason: 'rate_limited', httpStatus: 429, retryAt: time.now() + 120_000 });
    expect(time.sleeps).toEqual([]);
    // The next message for the same channel does not even try.
    await expect(slack.post(webhook, message, deadlineIn(time, 30_000))).rejects.toBeInstanceOf(SlackUnavailableError);
    expect(http.requests).toHaveLength(1);
  });

  it('repeated 5xx give up within the deadline (transient, for the queue to retry)', async () => {
    replies = Array.from({ length: 20 }, () => ({ status: 502 }));
    const { slack, time } = client();
    const start = time.now();
    const err = await slack.post(webhook, message, deadlineIn(time, 10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackUnavailableError);
    expect(err).toMatchObject({ reason: 'http_502', httpStatus: 502 });
    expect(time.now() - start).toBeLessThanOrEqual(10_000);
    expect(http.requests.length).toBeGreaterThan(1);
  });

  it('no time left: nothing is sent', async () => {
    const { slack, time } = client();
    await expect(slack.post(webhook, message, deadlineIn(time, 500))).rejects.toMatchObject({ reason: 'no_time_left' });
    expect(http.requests).toHaveLength(0);
  });

  it('does not follow redirects (a redirecting webhook would send the alert elsewhere)', async () => {
    replies = [{ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }];
    const { slack, time } = client();
    await expect(slack.post(webhook, message, deadlineIn(time, 30_000))).rejects.toMatchObject({ reason: 'http_302' });
    expect(http.requests).toHaveLength(1);
  });

  it('Web API: posts with the bot token and returns the message ts; chat.update edits it', async () => {
    replies = [
      { status: 200, body: JSON.stringify({ ok: true, channel: 'C0123456789', ts: '1723471402.000100' }) },
      { status: 200, body: JSON.stringify({ ok: true, ts: '1723471402.000100' }) },
    ];
    const { slack, time } = client();
    await expect(slack.post(api, message, deadlineIn(time, 30_000))).resolves.toEqual({ ts: '1723471402.000100' });
    await slack.update(api, '1723471402.000100', message, deadlineIn(time, 30_000));
    const [post, update] = http.requests as [RecordedRequest, RecordedRequest];
    expect(post.url).toBe('/api/chat.postMessage');
    expect(post.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(post.body.toString())).toMatchObject({ channel: 'C0123456789', text: message.text });
    expect(update.url).toBe('/api/chat.update');
    expect(JSON.parse(update.body.toString())).toMatchObject({ channel: 'C0123456789', ts: '1723471402.000100' });
  });

  it('Web API: ok:false channel_not_found is permanent; ratelimited (429) waits', async () => {
    replies = [{ status: 200, body: JSON.stringify({ ok: false, error: 'channel_not_found' }) }];
    const { slack, time } = client();
    await expect(slack.post(api, message, deadlineIn(time, 30_000))).rejects.toMatchObject({
      reason: 'channel_not_found',
      httpStatus: 200,
    });
    replies = [
      { status: 429, body: JSON.stringify({ ok: false, error: 'ratelimited' }), headers: { 'retry-after': '3' } },
      { status: 200, body: JSON.stringify({ ok: false, error: 'internal_error' }) },
      { status: 200, body: JSON.stringify({ ok: true, ts: '1.2' }) },
    ];
    await expect(slack.post(api, message, deadlineIn(time, 30_000))).resolves.toEqual({ ts: '1.2' });
    expect(time.sleeps).toEqual([3000, 1000]);
  });

  it('a network failure is transient and its error names the channel, not the URL', async () => {
    const dead = await startHttp(() => undefined);
    const url = `${dead.url}${SECRET_PATH}`;
    await dead.stop();
    const { slack, time, logger } = client();
    const err = (await slack
      .post({ kind: 'webhook', channel: 'security', url }, message, deadlineIn(time, 3_000))
      .catch((e: unknown) => e)) as SlackUnavailableError;
    expect(err).toBeInstanceOf(SlackUnavailableError);
    expect(err.reason).toBe('network_ECONNREFUSED');
    expect(err.cause).toBeUndefined();
    for (const text of [err.message, String(err.stack), ...logger.lines]) {
      expect(text).not.toContain('s3cr3t');
      expect(text).not.toContain(dead.url);
    }
  });

  it('nothing it logs or throws contains the webhook path or the token', async () => {
    replies = [
      { status: 500 },
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 404, body: 'no_service' },
      { status: 200, body: JSON.stringify({ ok: false, error: 'invalid_auth' }) },
    ];
    const { slack, time, logger } = client();
    const errors = [
      await slack.post(webhook, message, deadlineIn(time, 30_000)).catch((e: unknown) => e),
      await slack.post(api, message, deadlineIn(time, 30_000)).catch((e: unknown) => e),
    ] as Error[];
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const text of [...logger.lines, ...errors.map((e) => `${e.message} ${e.stack}`)]) {
      expect(text).not.toContain('s3cr3t');
      expect(text).not.toContain(SECRET_PATH);
    }
  });
});
