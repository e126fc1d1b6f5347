import { z } from 'zod';
import { formatZodIssues } from '../config/parse';
import { ValidationError } from '../core/errors';
import { decodeS3EventKey } from './key';

/**
 * What arrives in the CloudTrail queue: S3 event notifications for new objects, and the one `s3:TestEvent` S3
 * sends when the notification is configured. Lenient beyond the fields used (S3 adds fields over time).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */

export const S3TestEvent = z.looseObject({
  Service: z.literal('Amazon S3'),
  Event: z.literal('s3:TestEvent'),
  Bucket: z.string().optional(),
  Time: z.string().optional(),
});

export const S3EventRecord = z.looseObject({
  eventSource: z.literal('aws:s3'),
  eventName: z.string(),
  awsRegion: z.string().optional(),
  eventTime: z.string().optional(),
  s3: z.looseObject({
    bucket: z.looseObject({ name: z.string().min(1), arn: z.string().optional() }),
    object: z.looseObject({
      key: z.string().min(1),
      size: z.number().nonnegative().optional(),
      sequencer: z.string().optional(),
      versionId: z.string().optional(),
    }),
  }),
});

export const S3EventNotification = z.looseObject({ Records: z.array(S3EventRecord).min(1) });

export const QueueMessage = z.union([S3TestEvent, S3EventNotification]);
export type QueueMessage = z.infer<typeof QueueMessage>;

/** An object to read: bucket, decoded key, and the notification's event name. */
export interface ObjectRef {
  bucket: string;
  key: string;
  eventName: string;
  size?: number;
}

export type ParsedMessage = { kind: 'test'; bucket?: string } | { kind: 'objects'; objects: ObjectRef[] };

/** Parses an SQS message body; a body that is neither is a ValidationError (retrying cannot help: DLQ). */
export function parseQueueMessage(body: string): ParsedMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new ValidationError(`queue message is not JSON: ${(cause as Error).message}`, { cause });
  }
  const parsed = QueueMessage.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(`queue message is not an S3 event notification: ${formatZodIssues(parsed.error)}`);
  }
  const message = parsed.data;
  if ('Event' in message) return { kind: 'test', ...(typeof message.Bucket === 'string' ? { bucket: message.Bucket } : {}) };
  return {
    kind: 'objects',
    objects: message.Records.map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeS3EventKey(r.s3.object.key),
      eventName: r.eventName,
      ...(r.s3.object.size !== undefined ? { size: r.s3.object.size } : {}),
    })),
  };
}
