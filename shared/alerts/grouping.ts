import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../core/deps';
import { TransientError } from '../core/errors';
import { Alert, type Severity } from './schema';

/**
 * Grouping state of one (Slack channel, severity, dedup key) in the shared state table,
 * pk = `group#<channel>#<severity>#<dedupKey>`. Severity is part of the key so that a more severe alert of the same
 * key (a migration that ends in failure after its info progress notes) is never swallowed by a quieter window: it
 * opens its own window and is posted at once.
 *
 * A window opens with the first alert of a key, lasts `windowMs`, and counts every further alert of that key exactly
 * once (alert ids in a string set make SQS redeliveries harmless). All transitions are conditional writes, so any
 * number of concurrent notifier invocations agree on who opens a window, who posts, who edits, and who closes it:
 *
 *   post      `postState`: absent → posting (lease) → posted | failed      one Slack post per window
 *   update    `shownCount`/`shownAt`: claimed before chat.update, at most once per update interval
 *   finalize  `finalState`: absent → finalizing (lease) → final           the closing edit or roll-up, once
 *
 * Leases (a claim older than `leaseMs` may be taken over) cover an invocation that dies between claiming and
 * completing; they are longer than the Lambda timeout so a live holder is never overtaken.
 */

export const groupKey = (channel: string, severity: Severity, dedupKey: string): string =>
  `group#${channel}#${severity}#${dedupKey}`;

const StringSet = z.custom<Set<string>>((v) => v instanceof Set);

export const GroupItem = z.object({
  pk: z.string(),
  windowId: z.string(),
  windowStart: z.number(),
  windowEnd: z.number(),
  expiresAt: z.number(),
  count: z.number(),
  alerts: z.number(),
  ids: StringSet.optional(),
  /** The alert that opened the window, as JSON. */
  head: z.string(),
  /** The window's alert with the latest lastSeen (or eventTime), as JSON: what posts and edits show, with the count. */
  latest: z.string(),
  firstSeen: z.number(),
  lastSeen: z.number(),
  postState: z.enum(['posting', 'posted', 'failed']).optional(),
  postClaimAt: z.number().optional(),
  postTs: z.string().optional(),
  postError: z.string().optional(),
  shownCount: z.number().optional(),
  shownAlerts: z.number().optional(),
  shownAt: z.number().optional(),
  finalState: z.enum(['finalizing', 'final']).optional(),
  finalClaimAt: z.number().optional(),
});
export type GroupItem = z.infer<typeof GroupItem>;

export const headAlert = (item: GroupItem): Alert => Alert.parse(JSON.parse(item.head));
export const latestAlert = (item: GroupItem): Alert => Alert.parse(JSON.parse(item.latest));

export type IngestResult =
  /** This alert opened a new window: it is the head and should be posted. */
  | { kind: 'opened'; item: GroupItem }
  /** Counted into an open window. */
  | { kind: 'added'; item: GroupItem }
  /** Already counted (a redelivery). */
  | { kind: 'duplicate'; item: GroupItem }
  /** The key's last window has ended but is not closed yet: finalize it, then ingest again. */
  | { kind: 'expired'; item: GroupItem };

export interface GroupStoreDeps {
  doc: Pick<DynamoDBDocumentClient, 'send'>;
  tableName: string;
  clock: Clock;
}

export interface GroupStoreOptions {
  /** Ids tracked per window for exactly-once counting; beyond this, alerts still count but redeliveries may too. */
  maxTrackedAlerts?: number;
  leaseMs?: number;
  /** How long a closed window's item stays (TTL) after its end. */
  retentionMs?: number;
}

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException ||
  (err as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

const seen = (alert: Alert) => ({
  first: Date.parse(alert.firstSeen ?? alert.eventTime),
  last: Date.parse(alert.lastSeen ?? alert.eventTime),
});

export class GroupStore {
  private readonly maxTracked: number;
  readonly leaseMs: number;
  private readonly retentionMs: number;

  constructor(
    private readonly deps: GroupStoreDeps,
    options: GroupStoreOptions = {},
  ) {
    // Every write of the item is billed by its size: 500 ids (~20 KB) keep a storm's writes cheap; past that the
    // window still counts, it just no longer recognises redeliveries.
    this.maxTracked = options.maxTrackedAlerts ?? 500;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.retentionMs = options.retentionMs ?? 2 * 24 * 3600_000;
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  async get(pk: string): Promise<GroupItem | undefined> {
    const out = await this.deps.doc.send(new GetCommand({ TableName: this.deps.tableName, Key: { pk }, ConsistentRead: true }));
    return out.Item ? GroupItem.parse(out.Item) : undefined;
  }

  /** A conditional update; undefined when the condition does not hold. */
  private async update(
    pk: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
    names?: Record<string, string>,
  ): Promise<GroupItem | undefined> {
    try {
      const out = await this.deps.doc.send(
        new UpdateCommand({
          TableName: this.deps.tableName,
          Key: { pk },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ExpressionAttributeNames: names,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return GroupItem.parse(out.Attributes);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  /**
   * Counts `alert` into the window of its key. `beforeOpen` runs before a new window is written (the notifier
   * schedules the window's closing there, so a window can never exist without its closing being scheduled).
   */
  async ingest(
    pk: string,
    alert: Alert,
    windowMs: number,
    beforeOpen?: (window: { windowId: string; windowEnd: number }) => Promise<void>,
  ): Promise<IngestResult> {
    const s = seen(alert);
    for (let attempt = 0; attempt < 8; attempt++) {
      const now = this.now();
      const added = await this.update(
        pk,
        'ADD #count :c, #alerts :one, #ids :id',
        'attribute_exists(pk) AND windowEnd > :now AND NOT contains(#ids, :idStr) AND #alerts < :max',
        { ':c': alert.count, ':one': 1, ':id': new Set([alert.id]), ':idStr': alert.id, ':now': now, ':max': this.maxTracked },
        { '#count': 'count', '#alerts': 'alerts', '#ids': 'ids' },
      );
      if (added) return { kind: 'added', item: await this.widenSeen(added, s, alert) };

      const current = await this.get(pk);
      if (current?.ids?.has(alert.id)) return { kind: 'duplicate', item: current };
      if (current && current.windowEnd > now && current.alerts >= this.maxTracked) {
        const untracked = await this.update(
          pk,
          'ADD #count :c, #alerts :one',
          'windowId = :w AND windowEnd > :now',
          { ':c': alert.count, ':one': 1, ':w': current.windowId, ':now': now },
          { '#count': 'count', '#alerts': 'alerts' },
        );
        if (untracked) return { kind: 'added', item: await this.widenSeen(untracked, s, alert) };
        continue;
      }
      if (current && current.windowEnd > now) continue; // the window changed under us: try again
      if (current && current.finalState !== 'final') return { kind: 'expired', item: current };

      const windowId = `${now}-${randomUUID().slice(0, 8)}`;
      const windowEnd = now + windowMs;
      await beforeOpen?.({ windowId, windowEnd });
      const item: GroupItem = {
        pk,
        windowId,
        windowStart: now,
        windowEnd,
        expiresAt: Math.ceil((windowEnd + this.retentionMs) / 1000),
        count: alert.count,
        alerts: 1,
        ids: new Set([alert.id]),
        head: JSON.stringify(alert),
        latest: JSON.stringify(alert),
        firstSeen: s.first,
        lastSeen: s.last,
      };
      try {
        await this.deps.doc.send(
          new PutCommand({
            TableName: this.deps.tableName,
            Item: item,
            ConditionExpression: current ? 'windowId = :old' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: current ? { ':old': current.windowId } : undefined,
          }),
        );
        return { kind: 'opened', item };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    throw new TransientError(`grouping: too much contention on ${pk}`);
  }

  /** Widens first/last seen to this alert's; the alert seen last becomes the one the post shows. */
  private async widenSeen(item: GroupItem, s: { first: number; last: number }, alert: Alert): Promise<GroupItem> {
    let current = item;
    if (s.last > current.lastSeen) {
      current =
        (await this.update(item.pk, 'SET lastSeen = :v, latest = :alert', 'windowId = :w AND lastSeen < :v', {
          ':v': s.last,
          ':w': item.windowId,
          ':alert': JSON.stringify(alert),
        })) ?? current;
    }
    if (s.first < current.firstSeen) {
      current =
        (await this.update(item.pk, 'SET firstSeen = :v', 'windowId = :w AND firstSeen > :v', { ':v': s.first, ':w': item.windowId })) ??
        current;
    }
    return current;
  }

  /**
   * Claims the window's one post (again after a permanent failure: a fixed channel gets the next alert).
   * `whileOpen` restricts it to an open window; after the end, the window's closing posts it.
   */
  async claimPost(pk: string, windowId: string, whileOpen: boolean): Promise<GroupItem | undefined> {
    const now = this.now();
    return this.update(
      pk,
      'SET postState = :posting, postClaimAt = :now',
      `windowId = :w AND (attribute_not_exists(postState) OR postState = :failed OR (postState = :posting AND postClaimAt < :stale))${
        whileOpen ? ' AND windowEnd > :now' : ''
      }`,
      { ':posting': 'posting', ':failed': 'failed', ':now': now, ':stale': now - this.leaseMs, ':w': windowId },
    );
  }

  async completePost(pk: string, windowId: string, post: { ts?: string; shownCount: number; shownAlerts: number }): Promise<void> {
    const values: Record<string, unknown> = {
      ':posted': 'posted',
      ':posting': 'posting',
      ':w': windowId,
      ':n': post.shownCount,
      ':a': post.shownAlerts,
      ':now': this.now(),
    };
    if (post.ts) values[':ts'] = post.ts;
    await this.update(
      pk,
      `SET postState = :posted, shownCount = :n, shownAlerts = :a, shownAt = :now${post.ts ? ', postTs = :ts' : ''} REMOVE postClaimAt`,
      'windowId = :w AND postState = :posting',
      values,
    );
  }

  /** Gives the post back after a transient failure, so the retry (or another alert of the window) can post. */
  async releasePost(pk: string, windowId: string): Promise<void> {
    await this.update(pk, 'REMOVE postState, postClaimAt', 'windowId = :w AND postState = :posting', {
      ':w': windowId,
      ':posting': 'posting',
    });
  }

  /** Slack rejected the post for good (reported to the DLQ); the window must not try again with every alert. */
  async failPost(pk: string, windowId: string, reason: string): Promise<void> {
    await this.update(pk, 'SET postState = :failed, postError = :r REMOVE postClaimAt', 'windowId = :w AND postState = :posting', {
      ':w': windowId,
      ':posting': 'posting',
      ':failed': 'failed',
      ':r': reason,
    });
  }

  /**
   * Claims an edit of the post to show `count`: only when the post exists, shows less, and was last edited at least
   * `intervalMs` ago (chat.update is rate limited; the window's closing always writes the final count).
   */
  async claimUpdate(item: GroupItem, intervalMs: number): Promise<boolean> {
    const now = this.now();
    const claimed = await this.update(
      item.pk,
      'SET shownCount = :n, shownAlerts = :a, shownAt = :now',
      'windowId = :w AND postState = :posted AND shownCount < :n AND shownAt <= :due AND attribute_not_exists(finalState)',
      { ':n': item.count, ':a': item.alerts, ':now': now, ':due': now - intervalMs, ':w': item.windowId, ':posted': 'posted' },
    );
    return claimed !== undefined;
  }

  /** Undoes a claimed edit that failed, so the closing edit knows the post still shows less. */
  async revertUpdate(item: GroupItem, previous: { shownCount: number; shownAlerts: number }): Promise<void> {
    await this.update(
      item.pk,
      'SET shownCount = :prev, shownAlerts = :prevA, shownAt = :zero',
      'windowId = :w AND shownCount = :n',
      { ':prev': previous.shownCount, ':prevA': previous.shownAlerts, ':zero': 0, ':w': item.windowId, ':n': item.count },
    );
  }

  /** Claims the closing of an ended window. */
  async claimFinal(pk: string, windowId: string): Promise<GroupItem | undefined> {
    const now = this.now();
    return this.update(
      pk,
      'SET finalState = :finalizing, finalClaimAt = :now',
      'windowId = :w AND windowEnd <= :now AND (attribute_not_exists(finalState) OR (finalState = :finalizing AND finalClaimAt < :stale))' +
        ' AND (attribute_not_exists(postState) OR postState <> :posting OR postClaimAt < :stale)',
      { ':w': windowId, ':now': now, ':stale': now - this.leaseMs, ':finalizing': 'finalizing', ':posting': 'posting' },
    );
  }

  async completeFinal(pk: string, windowId: string, shown?: { shownCount: number; shownAlerts: number; ts?: string }): Promise<void> {
    const values: Record<string, unknown> = { ':w': windowId, ':final': 'final', ':finalizing': 'finalizing' };
    let expression = 'SET finalState = :final';
    if (shown) {
      expression += ', shownCount = :n, shownAlerts = :a, postState = :posted';
      Object.assign(values, { ':n': shown.shownCount, ':a': shown.shownAlerts, ':posted': 'posted' });
      if (shown.ts) {
        expression += ', postTs = :ts';
        values[':ts'] = shown.ts;
      }
    }
    await this.update(pk, `${expression} REMOVE finalClaimAt, postClaimAt`, 'windowId = :w AND finalState = :finalizing', values);
  }

  async releaseFinal(pk: string, windowId: string): Promise<void> {
    await this.update(pk, 'REMOVE finalState, finalClaimAt', 'windowId = :w AND finalState = :finalizing', {
      ':w': windowId,
      ':finalizing': 'finalizing',
    });
  }
}
