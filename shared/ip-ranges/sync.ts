import type { Alert } from '../alerts/schema';
import type { S3Like } from '../aws/s3';
import type { IpSpaceConfig } from '../config/ip-space';
import type { BaseDeps } from '../core/deps';
import { IntegrityError, TransientError } from '../core/errors';
import { buildIpSpaceAlert } from './alert';
import { type DiffCounts, diffIpRanges, totalChanges } from './diff';
import { type CidrStateChange, applyFlapping } from './flapping';
import { AWS_IP_RANGES_URL, type LoadedIpRanges, fetchIpRanges } from './load';
import { type IpSpaceChangedMessage, assertAwsIpRangesUrl } from './notification';
import { watchMatcher } from './queries';
import { type IpEntry, type IpRanges, allEntries, createDateToDate } from './schema';
import { type LatestPointer, readLatestPointer, readSnapshot, storeSnapshot, writeLatestPointer } from './store';

/**
 * What the IP-space Lambda does for one trigger: an AmazonIpSpaceChanged notification, or the hourly check.
 *
 *  1. Read the latest pointer. A notification whose syncToken is not newer is ignored without a download
 *     (repeated and out-of-order deliveries).
 *  2. Download from https://ip-ranges.amazonaws.com/ only (hourly: conditional GET on the stored ETag). For a
 *     notification: same syncToken but another md5 → IntegrityError (corrupt download: fail, so it is retried);
 *     a newer live file → process that one; an older one (a stale CDN edge) → TransientError (retry).
 *  3. Store the snapshot (Content-MD5), diff it against the previous one, publish one alert when watched entries
 *     changed (idempotent on the alert id, derived from the two versions), and only then move the pointer with a
 *     compare-and-swap. Any failure before that leaves `latest` on the previous, intact version, and the retry
 *     repeats the same steps with the same outcome.
 */

export type SyncTrigger =
  | { kind: 'notification'; message: IpSpaceChangedMessage }
  | { kind: 'schedule' };

export interface SyncDeps extends Pick<BaseDeps, 'logger' | 'clock' | 'fetch'> {
  s3: S3Like;
  bucket: string;
  /** Publishes an alert at most once per alert id (the handler wraps publishAlert with Powertools idempotency). */
  publish: (alert: Alert) => Promise<void>;
  /** The ipSpace configuration, read only when a diff has to be judged. */
  config: () => Promise<IpSpaceConfig>;
  /** The account vigil runs in, for the alert. */
  account: string;
}

export type SyncResult =
  | { status: 'ignored'; reason: 'not-newer' | 'not-modified'; syncToken?: string; latest?: string }
  | {
      status: 'stored';
      syncToken: string;
      previous?: string;
      /** All entry changes against the previous version. */
      counts?: DiffCounts;
      /** Entry changes of the watched services/regions. */
      watchedChanges: number;
      alertId?: string;
      flapping: string[];
      suppressedFlapping: string[];
    };

const newer = (a: string, b: string): boolean => Number(a) > Number(b);

export async function syncIpRanges(trigger: SyncTrigger, deps: SyncDeps): Promise<SyncResult> {
  const { logger } = deps;
  const state = await readLatestPointer(deps.s3, deps.bucket);
  const latest = state?.pointer.syncToken;

  let url = AWS_IP_RANGES_URL;
  if (trigger.kind === 'notification') {
    const m = trigger.message;
    url = assertAwsIpRangesUrl(m.url);
    if (latest !== undefined && !newer(m.synctoken, latest)) {
      logger.info('ignoring notification: version not newer than the stored one', { syncToken: m.synctoken, latest });
      return { status: 'ignored', reason: 'not-newer', syncToken: m.synctoken, latest };
    }
  }

  const fetched = await fetchIpRanges(deps.fetch, url, {
    // Only the hourly check asks "changed since?": a notification announces a version we do not have.
    ifNoneMatch: trigger.kind === 'schedule' ? state?.pointer.etag : undefined,
  });
  if (fetched.notModified || !fetched.loaded) {
    logger.info('live ip-ranges unchanged since the stored version', { latest });
    return { status: 'ignored', reason: 'not-modified', ...(latest ? { latest } : {}) };
  }
  const loaded = fetched.loaded;
  const token = loaded.ranges.syncToken;
  if (trigger.kind === 'notification') verifyAgainstMessage(loaded, trigger.message, deps);

  if (latest !== undefined && !newer(token, latest)) {
    logger.info('live ip-ranges not newer than the stored version', { syncToken: token, latest });
    return { status: 'ignored', reason: 'not-newer', syncToken: token, latest };
  }

  const key = await storeSnapshot(deps.s3, deps.bucket, loaded);
  logger.info('stored ip-ranges snapshot', { key, syncToken: token, md5: loaded.md5, bytes: loaded.bytes.length });

  let result: SyncResult & { status: 'stored' } = { status: 'stored', syncToken: token, watchedChanges: 0, flapping: [], suppressedFlapping: [] };
  let history = {};
  if (state) {
    const previous = await readSnapshot(deps.s3, deps.bucket, state.pointer);
    const outcome = await judgeChange(previous.ranges, loaded.ranges, state.pointer, { bucket: deps.bucket, key }, deps);
    history = outcome.history;
    result = { ...outcome.result, previous: state.pointer.syncToken };
  } else {
    logger.info('first ip-ranges version stored; later versions are diffed against it', { syncToken: token });
  }

  const pointer: LatestPointer = {
    syncToken: token,
    createDate: loaded.ranges.createDate,
    key,
    md5: loaded.md5,
    bytes: loaded.bytes.length,
    storedAt: deps.clock.now().toISOString(),
    ...(fetched.etag ? { etag: fetched.etag } : {}),
    history,
  };
  await writeLatestPointer(deps.s3, deps.bucket, pointer, state?.objectEtag);
  logger.info('latest ip-ranges pointer moved', { syncToken: token, previous: latest });
  return result;
}

function verifyAgainstMessage(loaded: LoadedIpRanges, m: IpSpaceChangedMessage, deps: Pick<SyncDeps, 'logger'>): void {
  const token = loaded.ranges.syncToken;
  if (token === m.synctoken) {
    if (loaded.md5 !== m.md5) {
      throw new IntegrityError(
        `ip-ranges ${token}: md5 mismatch: the notification says ${m.md5}, the download has ${loaded.md5} (${loaded.bytes.length} bytes)`,
      );
    }
    return;
  }
  if (newer(token, m.synctoken)) {
    // AWS published again since the notification; the newer file is what matters (its own notification follows).
    deps.logger.info('live ip-ranges is newer than the notification; processing the newer file', {
      notified: m.synctoken,
      live: token,
    });
    return;
  }
  throw new TransientError(`ip-ranges: notified version ${m.synctoken} but downloaded the older ${token} (stale cache); retry later`);
}

/** The entries of each CIDR as one signature string ("" = absent), for the flapping history. */
function signatures(r: IpRanges): Map<string, string> {
  const byPrefix = new Map<string, string[]>();
  for (const e of allEntries(r)) {
    const list = byPrefix.get(e.prefix) ?? [];
    list.push(`${e.service}@${e.region}/${e.networkBorderGroup ?? ''}`);
    byPrefix.set(e.prefix, list);
  }
  return new Map([...byPrefix].map(([p, l]) => [p, l.sort().join(',')]));
}

async function judgeChange(
  previous: IpRanges,
  current: IpRanges,
  pointer: LatestPointer,
  snapshot: { bucket: string; key: string },
  deps: SyncDeps,
): Promise<{ result: SyncResult & { status: 'stored' }; history: LatestPointer['history'] }> {
  const config = await deps.config();
  const all = diffIpRanges(previous, current);
  const watched = diffIpRanges(previous, current, watchMatcher(config.watch));

  const changedPrefixes = new Set([...all.added, ...all.removed].map((e: IpEntry) => e.prefix));
  const before = signatures(previous);
  const after = signatures(current);
  const changes: CidrStateChange[] = [...changedPrefixes].map((cidr) => ({
    cidr,
    before: before.get(cidr) ?? '',
    after: after.get(cidr) ?? '',
  }));
  const { history, decisions } = applyFlapping(
    pointer.history,
    changes,
    { at: createDateToDate(current.createDate), syncToken: current.syncToken },
    config.flappingWindowHours,
  );

  const watchedPrefixes = [...new Set([...watched.added, ...watched.removed].map((e) => e.prefix))];
  const flapping = watchedPrefixes.filter((p) => decisions.get(p)?.flapping && !decisions.get(p)?.suppressed);
  const suppressed = watchedPrefixes.filter((p) => decisions.get(p)?.suppressed);
  const result: SyncResult & { status: 'stored' } = {
    status: 'stored',
    syncToken: current.syncToken,
    counts: all.counts,
    watchedChanges: totalChanges(watched),
    flapping,
    suppressedFlapping: suppressed,
  };
  deps.logger.info('ip-ranges diff', { counts: all.counts, watchedChanges: result.watchedChanges, flapping, suppressed: suppressed.length });

  if (watchedPrefixes.length > suppressed.length) {
    const alert = buildIpSpaceAlert({
      watched,
      allCounts: all.counts,
      flapping,
      suppressed,
      config,
      account: deps.account,
      snapshot,
    });
    await deps.publish(alert);
    result.alertId = alert.id;
    deps.logger.info('published ip-space alert', { alertId: alert.id, count: alert.count });
  } else if (watchedPrefixes.length > 0) {
    deps.logger.info('no alert: every watched change is a flapping CIDR already alerted', { suppressed });
  }
  return { result, history };
}
