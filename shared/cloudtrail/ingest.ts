import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { PublishOutcome } from '../alerts/idempotent-publish';
import type { Alert } from '../alerts/schema';
import { type S3Like, isNotFound } from '../aws/s3';
import type { Logger } from '../core/deps';
import { TransientError, ValidationError, describeError } from '../core/errors';
import type { Engine } from '../rules/engine/engine';
import { parseLogKey } from './key';
import type { ObjectRef } from './notification';
import type { ReadLimits } from './reader';
import { scanLog } from './scan-log';

export interface IngestDeps {
  s3: S3Like;
  publisher: { publish(alert: Alert): Promise<PublishOutcome> };
  logger: Logger;
}

export interface IngestOptions {
  limits?: Partial<ReadLimits>;
  /** The CloudTrail bucket this deployment watches; notifications for any other bucket are refused. */
  expectedBucket?: string;
}

export interface IngestOutcome {
  bucket: string;
  key: string;
  status: 'scanned' | 'skipped';
  reason?: string;
  records?: number;
  skippedRecords?: number;
  alerts: number;
  published: number;
  duplicates: number;
  durationMs?: number;
}

/**
 * One S3 object of the CloudTrail bucket: skip what is not a log (digest, Insights, other keys — with a log line),
 * stream and evaluate the log, publish each alert exactly once. Throws when the object must be retried: the file
 * failed (corrupt, truncated, unreadable) or an alert could not be published. Alerts found before a failure are
 * published first; the retry finds them already published.
 */
export async function ingestObject(deps: IngestDeps, engine: Engine, ref: ObjectRef, options: IngestOptions = {}): Promise<IngestOutcome> {
  const { logger } = deps;
  const where = `s3://${ref.bucket}/${ref.key}`;
  const skipped = (reason: string): IngestOutcome => {
    logger.info('skipping object', { bucket: ref.bucket, key: ref.key, reason });
    return { bucket: ref.bucket, key: ref.key, status: 'skipped', reason, alerts: 0, published: 0, duplicates: 0 };
  };

  if (options.expectedBucket !== undefined && ref.bucket !== options.expectedBucket) {
    throw new ValidationError(`${where}: notification for bucket ${ref.bucket}, but this deployment watches ${options.expectedBucket}`);
  }
  if (!ref.eventName.startsWith('ObjectCreated:')) return skipped(`event ${ref.eventName} is not an object creation`);
  const logKey = parseLogKey(ref.key);
  if (logKey.kind !== 'log') return skipped(logKey.reason);

  let body: AsyncIterable<Uint8Array>;
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    if (!out.Body) throw new Error('no body');
    body = out.Body as unknown as AsyncIterable<Uint8Array>;
  } catch (err) {
    // Deleted between the notification and now (a lifecycle rule, a manual clean-up): nothing left to read.
    if (isNotFound(err)) {
      logger.warn('log object no longer exists; nothing to read', { bucket: ref.bucket, key: ref.key });
      return { bucket: ref.bucket, key: ref.key, status: 'skipped', reason: 'object no longer exists', alerts: 0, published: 0, duplicates: 0 };
    }
    throw new TransientError(`${where}: GetObject failed: ${describeError(err)}`, { cause: err });
  }

  const scan = await scanLog(engine, body, {
    bucket: ref.bucket,
    key: ref.key,
    account: logKey.account,
    logger,
    ...(options.limits ? { limits: options.limits } : {}),
  });

  let published = 0;
  let duplicates = 0;
  let publishError: unknown;
  for (const alert of scan.alerts) {
    try {
      const outcome = await deps.publisher.publish(alert);
      if (outcome.status === 'published') published++;
      else duplicates++;
    } catch (err) {
      // Keep publishing the others: the retry then has less to do.
      publishError ??= err;
      logger.error('alert publish failed', { alertId: alert.id, ruleId: alert.ruleId, key: ref.key, error: describeError(err) });
    }
  }

  const outcome: IngestOutcome = {
    bucket: ref.bucket,
    key: ref.key,
    status: 'scanned',
    records: scan.read.records,
    skippedRecords: scan.read.invalid + scan.read.nonObject,
    alerts: scan.alerts.length,
    published,
    duplicates,
    durationMs: scan.durationMs,
  };
  const ruleErrors = Object.keys(scan.evaluation.ruleErrors).length > 0 ? { ruleErrors: scan.evaluation.ruleErrors } : {};
  if (scan.error) {
    logger.error('log file failed; alerts found before the failure were published', {
      ...outcome,
      ...ruleErrors,
      errorName: scan.error.name,
      error: describeError(scan.error),
    });
    throw scan.error;
  }
  logger.info('log file scanned', { ...outcome, bytes: scan.read.bytesIn, ...ruleErrors });
  if (publishError !== undefined) throw publishError;
  return outcome;
}
