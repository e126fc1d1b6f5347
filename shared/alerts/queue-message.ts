import { SnsSqsNotificationSchema } from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';
import { ChannelName } from '../config/notify';
import { ValidationError } from '../core/errors';
import { formatZodIssues } from '../config/parse';
import { Alert, Severity } from './schema';

/**
 * What arrives on the notifier's queue:
 *  - an SNS notification envelope (the subscription does not use raw delivery) whose `Message` is the Alert JSON —
 *    the `sqs` body of publishAlert's MessageStructure=json;
 *  - the notifier's own "close this grouping window" message, sent to the same queue with a delay.
 * A bare Alert JSON (raw delivery switched on, or a hand-sent message) is accepted as well.
 */

export const FLUSH_KIND = 'vigil.notify.group-close';

export const FlushMessage = z.strictObject({
  kind: z.literal(FLUSH_KIND),
  channel: ChannelName,
  severity: Severity,
  dedupKey: z.string().min(1),
  windowId: z.string().min(1),
  /** Epoch ms at which the window ends. */
  windowEnd: z.number().int().positive(),
});
export type FlushMessage = z.infer<typeof FlushMessage>;

export type QueueMessage =
  | { kind: 'alert'; alert: Alert; snsMessageId?: string; topicArn?: string }
  | { kind: 'flush'; flush: FlushMessage };

/** Parses a record body; a ValidationError (→ DLQ with reason `invalid_message`) says exactly what is wrong. */
export function parseQueueMessage(body: string, expectedTopicArn?: string): QueueMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new ValidationError('message body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError('message body is not a JSON object');
  const obj = raw as Record<string, unknown>;

  if (obj.kind === FLUSH_KIND) {
    const flush = FlushMessage.safeParse(raw);
    if (!flush.success) throw new ValidationError(`invalid grouping message: ${formatZodIssues(flush.error)}`);
    return { kind: 'flush', flush: flush.data };
  }

  if (obj.Type !== undefined) {
    const envelope = SnsSqsNotificationSchema.safeParse(raw);
    if (!envelope.success) throw new ValidationError(`invalid SNS envelope: ${formatZodIssues(envelope.error)}`);
    const { TopicArn, MessageId, Message } = envelope.data;
    if (expectedTopicArn && TopicArn !== expectedTopicArn) {
      throw new ValidationError(`SNS message from an unexpected topic ${TopicArn}`);
    }
    let inner: unknown;
    try {
      inner = JSON.parse(Message);
    } catch {
      throw new ValidationError(`SNS message ${MessageId} does not carry an Alert JSON (raw text body)`);
    }
    const alert = Alert.safeParse(inner);
    if (!alert.success) throw new ValidationError(`SNS message ${MessageId}: invalid alert: ${formatZodIssues(alert.error)}`);
    return { kind: 'alert', alert: alert.data, snsMessageId: MessageId, topicArn: TopicArn };
  }

  const alert = Alert.safeParse(raw);
  if (!alert.success) throw new ValidationError(`invalid alert: ${formatZodIssues(alert.error)}`);
  return { kind: 'alert', alert: alert.data };
}
