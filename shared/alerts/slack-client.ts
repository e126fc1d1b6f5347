import type { Clock, Fetch, Logger } from '../core/deps';
import { TransientError, ValidationError } from '../core/errors';
import type { SlackMessage } from './block-kit';

/**
 * Where a message goes. The URL and token are secrets: they are used for the request and nothing else — never
 * logged, never put in an error message (errors name the channel instead).
 */
export type SlackTarget =
  | { kind: 'webhook'; channel: string; url: string }
  | { kind: 'api'; channel: string; token: string; channelId: string; apiBaseUrl?: string };

/** Slack said no, and saying it again will not help (bad payload, revoked webhook, unknown/archived channel). */
export class SlackRejectedError extends ValidationError {
  constructor(
    readonly channel: string,
    /** Slack's error code (`invalid_payload`, `no_service`, `channel_not_found`, …) or `http_<status>`. */
    readonly reason: string,
    readonly httpStatus: number,
  ) {
    super(`Slack rejected the message for channel "${channel}": ${reason} (HTTP ${httpStatus})`);
  }
}

/** Slack is throttling or failing; the message should be retried later (the SQS record returns to the queue). */
export class SlackUnavailableError extends TransientError {
  constructor(
    readonly channel: string,
    readonly reason: string,
    readonly httpStatus?: number,
    /** When Slack asked us to come back (Retry-After), in ms since the epoch. */
    readonly retryAt?: number,
  ) {
    super(`Slack unavailable for channel "${channel}": ${reason}${httpStatus ? ` (HTTP ${httpStatus})` : ''}`);
  }
}

export interface SlackClientDeps {
  fetch: Fetch;
  clock: Clock;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface SlackClientOptions {
  /** Cap on one HTTP request. */
  requestTimeoutMs?: number;
  /** First backoff step for 5xx/network errors; doubles per attempt (full jitter), capped by maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Attempts per send, including the first, before giving the message back to the queue. */
  maxAttempts?: number;
  /** A retry is only started if at least this much time is left before the deadline. */
  minAttemptMs?: number;
}

export interface SendOptions {
  /** Epoch ms (deps.clock) after which no request is started: the invocation's remaining time minus a margin. */
  deadline: number;
}

export const SLACK_API_BASE_URL = 'https://slack.com/api';

type Attempt =
  | { ok: true; ts?: string }
  | { ok: false; permanent: true; reason: string; status: number }
  | { ok: false; permanent: false; reason: string; status?: number; retryAfterMs?: number };

/** Web API error codes that are worth retrying; everything else is permanent (auth, scopes, unknown channel …). */
const transientApiErrors = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

/** Only Slack's own short error codes go into errors and DLQ attributes: a body could echo anything. */
const reasonCode = (text: string, status: number): string => {
  const t = text.trim();
  return /^[a-z][a-z0-9_]{1,63}$/.test(t) ? t : `http_${status}`;
};

function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** A network failure described by its code only: undici's messages and causes can carry the request URL. */
function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code && /^[A-Z_0-9]{2,40}$/.test(code) ? `network_${code}` : 'network_error';
}

/**
 * Sends Slack messages with Slack's retry rules: a 429 waits for `Retry-After`, 5xx and network errors back off
 * exponentially, all within the caller's deadline; 4xx and Web API errors like `channel_not_found` are permanent.
 * A per-channel gate remembers Retry-After across messages, so a throttled channel is not hammered by the rest of the
 * batch (those records go back to the queue at once).
 */
export class SlackClient {
  private readonly blockedUntil = new Map<string, number>();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly opts: Required<SlackClientOptions>;

  constructor(
    private readonly deps: SlackClientDeps,
    options: SlackClientOptions = {},
  ) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = deps.random ?? Math.random;
    this.opts = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      baseBackoffMs: options.baseBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 20_000,
      maxAttempts: options.maxAttempts ?? 6,
      minAttemptMs: options.minAttemptMs ?? 1_000,
    };
  }

  /** Posts a new message; returns the message `ts` when the Web API is used (webhooks return none). */
  async post(target: SlackTarget, message: SlackMessage, send: SendOptions): Promise<{ ts?: string }> {
    return this.withRetries(target, send, () =>
      target.kind === 'webhook'
        ? this.webhookOnce(target, message, send)
        : this.apiOnce(target, 'chat.postMessage', { channel: target.channelId, ...message }, send),
    );
  }

  /** Replaces a message posted earlier with the Web API (chat.update). */
  async update(
    target: Extract<SlackTarget, { kind: 'api' }>,
    ts: string,
    message: SlackMessage,
    send: SendOptions,
  ): Promise<void> {
    await this.withRetries(target, send, () =>
      this.apiOnce(target, 'chat.update', { channel: target.channelId, ts, ...message }, send),
    );
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** (attempt - 1));
    return Math.max(100, Math.round(this.random() * ceiling));
  }

  private async withRetries(target: SlackTarget, send: SendOptions, once: () => Promise<Attempt>): Promise<{ ts?: string }> {
    const { clock, logger } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const now = clock.now().getTime();
      const blocked = this.blockedUntil.get(target.channel) ?? 0;
      if (blocked > now) {
        if (blocked + this.opts.minAttemptMs > send.deadline) {
          throw new SlackUnavailableError(target.channel, 'rate_limited', 429, blocked);
        }
        await this.sleep(blocked - now);
        continue;
      }
      if (send.deadline - now < this.opts.minAttemptMs) {
        throw new SlackUnavailableError(target.channel, 'no_time_left');
      }
      const result = await once();
      if (result.ok) return { ts: result.ts };
      if (result.permanent) throw new SlackRejectedError(target.channel, result.reason, result.status);

      const after = clock.now().getTime();
      const wait = result.retryAfterMs ?? this.backoff(attempt);
      if (result.retryAfterMs !== undefined) this.blockedUntil.set(target.channel, after + wait);
      const giveUp = attempt >= this.opts.maxAttempts || after + wait + this.opts.minAttemptMs > send.deadline;
      logger.warn('Slack send failed', {
        channel: target.channel,
        reason: result.reason,
        status: result.status,
        attempt,
        retryInMs: giveUp ? undefined : wait,
        willRetry: !giveUp,
      });
      if (giveUp) {
        throw new SlackUnavailableError(
          target.channel,
          result.reason,
          result.status,
          result.retryAfterMs !== undefined ? after + wait : undefined,
        );
      }
      await this.sleep(wait);
    }
  }

  private timeoutSignal(send: SendOptions): AbortSignal {
    const left = send.deadline - this.deps.clock.now().getTime();
    return AbortSignal.timeout(Math.max(1, Math.min(this.opts.requestTimeoutMs, left)));
  }

  private async request(url: string, init: RequestInit): Promise<Response | { networkError: string }> {
    try {
      // redirect: 'manual' — a webhook that redirects is broken, and following it would send the alert elsewhere.
      return await this.deps.fetch(url, { ...init, redirect: 'manual' });
    } catch (err) {
      return { networkError: networkReason(err) };
    }
  }

  private async webhookOnce(
    target: Extract<SlackTarget, { kind: 'webhook' }>,
    message: SlackMessage,
    send: SendOptions,
  ): Promise<Attempt> {
    const res = await this.request(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(message),
      signal: this.timeoutSignal(send),
    });
    if ('networkError' in res) return { ok: false, permanent: false, reason: res.networkError };
    const body = await res.text().catch(() => '');
    return this.classifyHttp(res, body) ?? { ok: true };
  }

  private classifyHttp(res: Response, body: string): Attempt | undefined {
    const now = this.deps.clock.now().getTime();
    if (res.status === 429) {
      return {
        ok: false,
        permanent: false,
        reason: 'rate_limited',
        status: 429,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now) ?? 1_000,
      };
    }
    if (res.status >= 500 || res.status === 408) {
      return {
        ok: false,
        permanent: false,
        reason: reasonCode(body, res.status),
        status: res.status,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now),
      };
    }
    if (res.status >= 300) return { ok: false, permanent: true, reason: reasonCode(body, res.status), status: res.status };
    return undefined;
  }

  private async apiOnce(
    target: Extract<SlackTarget, { kind: 'api' }>,
    method: 'chat.postMessage' | 'chat.update',
    payload: Record<string, unknown>,
    send: SendOptions,
  ): Promise<Attempt> {
    const base = (target.apiBaseUrl ?? SLACK_API_BASE_URL).replace(/\/+$/, '');
    const res = await this.request(`${base}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${target.token}` },
      body: JSON.stringify(payload),
      signal: this.timeoutSignal(send),
    });
    if ('networkError' in res) return { ok: false, permanent: false, reason: res.networkError };
    const text = await res.text().catch(() => '');
    const failed = this.classifyHttp(res, text);
    if (failed) return failed;
    let json: { ok?: unknown; error?: unknown; ts?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      return { ok: false, permanent: false, reason: 'invalid_response', status: res.status };
    }
    if (json.ok === true) return { ok: true, ts: typeof json.ts === 'string' ? json.ts : undefined };
    const reason = typeof json.error === 'string' ? reasonCode(json.error, res.status) : 'unknown_error';
    return transientApiErrors.has(reason)
      ? { ok: false, permanent: false, reason, status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.deps.clock.now().getTime()) }
      : { ok: false, permanent: true, reason, status: res.status };
  }
}
