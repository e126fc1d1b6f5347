import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { TransientError, describeError } from '../core/errors';
import { type AlertSink, publishAlert } from './publish';
import type { Alert } from './schema';

/**
 * Exactly-once alert publishing on top of at-least-once delivery (S3 → SQS → Lambda redelivers, a failed file is
 * retried, two containers may receive the same message).
 *
 * The alert id is a function of (rule, dedup key, time window) — see `alertId` in shared/rules/engine — so every
 * reading of the same log file produces the same ids. Before publishing, a record keyed by the id is written to the
 * shared state table (StateTable, key `pk`, TTL `expiresAt`) with Powertools idempotency on a conditional put:
 *
 * - first writer: record INPROGRESS (expiring with the Lambda's remaining time), publish, mark COMPLETED with the
 *   SNS message id; a failed publish deletes the record, so the retry publishes;
 * - a later delivery finds COMPLETED and publishes nothing;
 * - a concurrent delivery finds INPROGRESS and fails its file with a TransientError (SQS retries it later, when it
 *   then finds COMPLETED); if the first writer died, its INPROGRESS record expires and the retry takes over.
 *
 * Why Powertools rather than a hand-written conditional put: it is the same persistence layer every vigil function
 * uses (shared/aws/idempotency.ts), and its INPROGRESS/COMPLETED state machine with Lambda-timeout-aware expiry is
 * exactly the semantics above, already proven. Keys are `published#<md5 of the alert id>` (Powertools hashes the
 * idempotency key); the function's IAM policy is limited to that prefix.
 */

export const PUBLISHED_KEY_PREFIX = 'published';

/** How long a published alert is remembered: longer than any redelivery (SQS retries, DLQ redrive of a week). */
export const PUBLISHED_RECORD_TTL_SECONDS = 8 * 24 * 3600;

export type PublishOutcome = { status: 'published'; messageId: string } | { status: 'duplicate'; messageId: string };

export interface OncePublisher {
  publish(alert: Alert): Promise<PublishOutcome>;
  /** Call at the start of each invocation: INPROGRESS records then expire when this invocation would time out. */
  registerLambdaContext(context: Context): void;
}

export function createOncePublisher(options: {
  sink: AlertSink;
  persistence: BasePersistenceLayer;
  ttlSeconds?: number;
}): OncePublisher {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.ttlSeconds ?? PUBLISHED_RECORD_TTL_SECONDS,
  });
  // Which calls really published (rather than returning a stored result): keyed by the alert object of the call.
  const fresh = new WeakSet<Alert>();
  const once = makeIdempotent(
    async (alert: Alert): Promise<{ messageId: string }> => {
      const messageId = (await publishAlert(options.sink, alert)) ?? '';
      fresh.add(alert);
      return { messageId };
    },
    { persistenceStore: options.persistence, config, keyPrefix: PUBLISHED_KEY_PREFIX },
  );
  return {
    registerLambdaContext(context) {
      config.registerLambdaContext(context);
    },
    async publish(alert) {
      let result: { messageId: string };
      try {
        result = await once(alert);
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        if (name === 'IdempotencyAlreadyInProgressError') {
          throw new TransientError(`alert ${alert.id} is being published by another invocation; retry later`, { cause: err });
        }
        if (name.startsWith('Idempotency')) {
          throw new TransientError(`alert ${alert.id}: state table unavailable: ${describeError(err)}`, { cause: err });
        }
        throw new TransientError(`alert ${alert.id}: publish failed: ${describeError(err)}`, { cause: err });
      }
      return { status: fresh.has(alert) ? 'published' : 'duplicate', messageId: result?.messageId ?? '' };
    },
  };
}
