import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas';
import { type MessageAttributeValue, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { GroupStore } from '../../shared/alerts/grouping';
import { type NotifierDeps, type NotifyResult, closeGroupWindow, notifyAlert } from '../../shared/alerts/notifier';
import { type QueueMessage, parseQueueMessage } from '../../shared/alerts/queue-message';
import { displayOptions } from '../../shared/alerts/settings';
import { SlackClient } from '../../shared/alerts/slack-client';
import { type SlackSecretSource, ssmSlackSecretSource } from '../../shared/alerts/slack-secrets';
import { createDynamoClient, documentClient } from '../../shared/aws/dynamodb';
import { createSsmClient } from '../../shared/aws/ssm';
import type { VigilConfig } from '../../shared/config/schema';
import { ssmConfigSource } from '../../shared/config/ssm';
import { type Clock, type Fetch, type Logger, systemClock } from '../../shared/core/deps';
import { ValidationError, describeError, requiredEnv } from '../../shared/core/errors';
import { asVigilLogger, lambdaLogger } from '../../shared/core/logger';

/**
 * alert-notifier: alerts topic → SQS → this function → Slack.
 *
 * Thin adapter: parse each record (zod) → notifyAlert / closeGroupWindow → batch response. Per record:
 *  - delivered (or nothing to do)                      → acknowledged
 *  - Slack throttling/5xx/network, out of time budget → batch item failure: the message returns to the queue and is
 *                                                        retried after the visibility timeout (then the queue's DLQ)
 *  - permanent rejection (invalid_payload, no_service, channel_not_found, a config error, an unparseable message)
 *                                                      → sent to the DLQ by us, with the reason as message attributes,
 *                                                        and acknowledged
 * Why send permanent failures to the DLQ ourselves instead of failing the record until maxReceiveCount moves it: the
 * redrive would retry a request that cannot succeed 30 times over hours, and the message would arrive in the DLQ
 * without saying why. Here it arrives at once with `failureReason` = Slack's error code.
 */

/** Time kept back from the invocation's budget for the DLQ sends, state writes and the response. */
const SAFETY_MARGIN_MS = 4_000;

export interface NotifierHandlerDeps {
  logger: Logger & { addContext?: (context: Context) => void };
  clock: Clock;
  fetch: Fetch;
  loadConfig: () => Promise<VigilConfig>;
  secrets: SlackSecretSource;
  sqs: Pick<SQSClient, 'send'>;
  /** The DLQ of the notifier queue: permanent failures are sent here with their reason. */
  dlqUrl: string;
  /** The notifier queue itself, for the delayed "close the grouping window" messages. */
  queueUrl?: string;
  /** Grouping state (the shared state table); without it every alert is posted on its own. */
  state?: { doc: Pick<DynamoDBDocumentClient, 'send'>; tableName: string };
  /** Only accept SNS envelopes from this topic. */
  topicArn?: string;
  /** Slack Web API base URL (a local stand-in for tests and `serverless invoke local`). */
  slackApiBaseUrl?: string;
  /** Injected in tests to shorten backoff; the default waits for real. */
  slack?: SlackClient;
}

const str = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value.slice(0, 1024) });

async function sendToDlq(
  deps: NotifierHandlerDeps,
  record: SQSRecord,
  failure: { reason: string; detail: string; channel?: string; httpStatus?: number; alertId?: string },
): Promise<void> {
  const attributes: Record<string, MessageAttributeValue> = {
    failureReason: str(failure.reason),
    failureDetail: str(failure.detail),
    failedAt: str(deps.clock.now().toISOString()),
    sourceMessageId: str(record.messageId),
  };
  if (failure.channel) attributes.channel = str(failure.channel);
  if (failure.httpStatus !== undefined) attributes.httpStatus = { DataType: 'Number', StringValue: String(failure.httpStatus) };
  if (failure.alertId) attributes.alertId = str(failure.alertId);
  await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.dlqUrl, MessageBody: record.body, MessageAttributes: attributes }));
}

export function createHandler(deps: NotifierHandlerDeps) {
  const { logger, clock } = deps;
  const slack = deps.slack ?? new SlackClient({ fetch: deps.fetch, clock, logger });
  const groups = deps.state ? new GroupStore({ doc: deps.state.doc, tableName: deps.state.tableName, clock }) : undefined;
  const queueUrl = deps.queueUrl;
  const notifier: NotifierDeps = {
    logger,
    clock,
    slack,
    secrets: deps.secrets,
    groups,
    scheduleFlush: queueUrl
      ? async (message, delaySeconds) => {
          await deps.sqs.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }),
          );
        }
      : undefined,
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext?.(context);
    // Without configuration nothing can be routed: fail the whole batch so it is retried (not dead-lettered).
    const config = await deps.loadConfig();
    const settings = {
      config: config.notify,
      display: displayOptions(config),
      deadline: clock.now().getTime() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      apiBaseUrl: deps.slackApiBaseUrl,
    };

    const processRecord = async (raw: SQSRecord): Promise<void> => {
      const record = SqsRecordSchema.parse(raw) as SQSRecord;
      let message: QueueMessage;
      try {
        message = parseQueueMessage(record.body, deps.topicArn);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        logger.error('unreadable message sent to the DLQ', { messageId: record.messageId, reason: err.message });
        await sendToDlq(deps, record, { reason: 'invalid_message', detail: err.message });
        return;
      }

      let result: NotifyResult;
      let alertId: string | undefined;
      if (message.kind === 'alert') {
        alertId = message.alert.id;
        result = await notifyAlert(message.alert, notifier, settings);
      } else {
        result = await closeGroupWindow(message.flush, notifier, settings);
      }

      for (const outcome of result.outcomes) {
        if (outcome.status !== 'rejected') continue;
        logger.error('Slack rejected the message; sent to the DLQ', {
          messageId: record.messageId,
          alertId,
          channel: outcome.channel,
          reason: outcome.reason,
          httpStatus: outcome.httpStatus,
        });
        await sendToDlq(deps, record, {
          reason: outcome.reason,
          detail: outcome.message,
          channel: outcome.channel,
          httpStatus: outcome.httpStatus,
          alertId,
        });
      }
      logger.info(message.kind === 'alert' ? 'alert processed' : 'grouping window processed', {
        messageId: record.messageId,
        alertId,
        outcomes: result.outcomes.map((o) => `${o.channel}:${o.status === 'rejected' ? `rejected(${o.reason})` : o.status}`),
        retry: result.retry ? describeError(result.retry) : undefined,
      });
      if (result.retry) throw result.retry;
    };

    const processor = new BatchProcessor(EventType.SQS);
    // Sequential: Slack allows about one message per second per channel, and a throttled channel should stop the rest
    // of the batch from piling on (the client's Retry-After gate sends them back to the queue at once).
    return processPartialResponse(event, processRecord, processor, {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
  };
}

/** The deployed composition: clients from the environment, created once per container on first use. */
function fromEnvironment(env: NodeJS.ProcessEnv = process.env): NotifierHandlerDeps {
  const required = (name: string): string => requiredEnv(env, name);
  const logger = asVigilLogger(lambdaLogger('alert-notifier'));
  const ssm = createSsmClient();
  const provider = new SSMProvider({ awsSdkV3Client: ssm });
  const tableName = env.STATE_TABLE_NAME;
  return {
    logger,
    clock: systemClock,
    fetch: globalThis.fetch,
    loadConfig: ssmConfigSource(ssm, required('VIGIL_CONFIG_PARAMETER')),
    secrets: ssmSlackSecretSource(provider, required('SLACK_SECRET_PARAMETER')),
    sqs: new SQSClient({}),
    dlqUrl: required('NOTIFIER_DLQ_URL'),
    queueUrl: env.NOTIFIER_QUEUE_URL,
    state: tableName ? { doc: documentClient(createDynamoClient()), tableName } : undefined,
    topicArn: env.ALERTS_TOPIC_ARN,
    slackApiBaseUrl: env.SLACK_API_BASE_URL,
  };
}

let deployed: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  deployed ??= createHandler(fromEnvironment());
  return deployed(event, context);
};
