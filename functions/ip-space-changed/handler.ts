import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { publishAlert } from '../../shared/alerts/publish';
import type { Alert } from '../../shared/alerts/schema';
import { createDynamoClient } from '../../shared/aws/dynamodb';
import { stateTablePersistence } from '../../shared/aws/idempotency';
import { type S3Like, createS3Client } from '../../shared/aws/s3';
import { createSnsClient } from '../../shared/aws/sns';
// Static imports, not `await import()`: in the single-file Lambda bundle a dynamically imported module keeps all of
// its re-exports, which pulled every SSM command and schema into the zip (~110 KB minified; bench/README.md).
import { createSsmClient } from '../../shared/aws/ssm';
import type { IpSpaceConfig } from '../../shared/config/ip-space';
import { loadConfigFile } from '../../shared/config/load';
import { formatZodIssues } from '../../shared/config/parse';
import { ssmConfigSource } from '../../shared/config/ssm';
import { type Clock, type Fetch, type Logger, systemClock } from '../../shared/core/deps';
import { ConfigError, ValidationError, describeError, requiredEnv } from '../../shared/core/errors';
import { asVigilLogger, lambdaLogger } from '../../shared/core/logger';
import { AWS_IP_SPACE_TOPIC_ARN, parseIpSpaceChangedMessage } from '../../shared/ip-ranges/notification';
import { type SyncResult, type SyncTrigger, syncIpRanges } from '../../shared/ip-ranges/sync';

/**
 * Lambda `ipSpaceChanged`: AWS's AmazonIpSpaceChanged notification (SNS, us-east-1) or the hourly schedule →
 * syncIpRanges (shared/ip-ranges/sync.ts). Thin: parse the event, run the domain function, map errors.
 */

const SnsRecord = z.object({
  EventSource: z.literal('aws:sns'),
  Sns: z.object({
    TopicArn: z.string(),
    MessageId: z.string(),
    Message: z.string(),
    Timestamp: z.string().optional(),
  }),
});
const SnsEvent = z.object({ Records: z.array(SnsRecord).min(1) });
/** EventBridge Scheduler / rule "Scheduled Event"; the backstop when an SNS delivery is lost. */
const ScheduleEvent = z.object({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });
export const IpSpaceEvent = z.union([SnsEvent, ScheduleEvent]);
export type IpSpaceEvent = z.infer<typeof IpSpaceEvent>;

export function triggersOf(event: unknown): SyncTrigger[] {
  const parsed = IpSpaceEvent.safeParse(event);
  if (!parsed.success) throw new ValidationError(`unexpected event: ${formatZodIssues(parsed.error)}`);
  const e = parsed.data;
  if (!('Records' in e)) return [{ kind: 'schedule' }];
  return e.Records.map((r) => {
    if (r.Sns.TopicArn !== AWS_IP_SPACE_TOPIC_ARN) {
      throw new ValidationError(`SNS message ${r.Sns.MessageId} from ${r.Sns.TopicArn}, not from ${AWS_IP_SPACE_TOPIC_ARN}`);
    }
    return { kind: 'notification', message: parseIpSpaceChangedMessage(r.Sns.Message) };
  });
}

export interface HandlerDeps {
  logger: PowertoolsLogger;
  clock: Clock;
  fetch: Fetch;
  s3: S3Like;
  bucket: string;
  config: () => Promise<IpSpaceConfig>;
  /** Where alerts go: SNS with an at-most-once guard on the state table, or (local runs) the log. */
  alerts:
    | { mode: 'sns'; sns: Pick<SNSClient, 'send'>; topicArn: string; dynamo: DynamoDBClient; stateTable: string }
    | { mode: 'log' };
}

const ALERT_RECORD_TTL_SECONDS = 30 * 24 * 3600;

export function makeHandler(deps: HandlerDeps) {
  const logger = asVigilLogger(deps.logger);
  const idempotency = new IdempotencyConfig({ eventKeyJmesPath: 'id', expiresAfterSeconds: ALERT_RECORD_TTL_SECONDS });
  const publish: (alert: Alert) => Promise<void> =
    deps.alerts.mode === 'sns'
      ? (() => {
          const { sns, topicArn, dynamo, stateTable } = deps.alerts;
          // At most one publish per alert id, even when a version is processed twice (a retry after the pointer
          // write failed, two concurrent deliveries): the record is INPROGRESS while publishing, deleted on failure
          // (so the retry publishes), COMPLETED after.
          const once = makeIdempotent(async (alert: Alert) => ({ messageId: (await publishAlert({ sns, topicArn }, alert)) ?? '' }), {
            persistenceStore: stateTablePersistence(stateTable, dynamo),
            config: idempotency,
            keyPrefix: 'ip-space-alert',
          });
          return async (alert: Alert) => void (await once(alert));
        })()
      : async (alert: Alert) => logger.info('alert (not published: VIGIL_ALERTS=log)', { alert });

  const base = async (event: unknown, context: Context): Promise<SyncResult[]> => {
    idempotency.registerLambdaContext(context);
    const account = context.invokedFunctionArn?.split(':')[4] ?? '';
    const results: SyncResult[] = [];
    try {
      for (const trigger of triggersOf(event)) {
        results.push(
          await syncIpRanges(trigger, {
            logger,
            clock: deps.clock,
            fetch: deps.fetch,
            s3: deps.s3,
            bucket: deps.bucket,
            config: deps.config,
            publish,
            account,
          }),
        );
      }
    } catch (err) {
      // Every error fails the invocation: Lambda retries asynchronous invocations twice, then the event goes to the
      // function's failure queue (with an alarm), so nothing is lost. The log says whether a retry can help.
      const name = err instanceof Error ? err.name : 'Error';
      const retryable = !(err instanceof ValidationError || err instanceof ConfigError);
      logger.error('ip-space sync failed', { errorName: name, error: describeError(err), retryable });
      throw err;
    }
    for (const r of results) logger.info('ip-space sync done', { ...r });
    return results;
  };
  return middy(base).use(injectLambdaContext(deps.logger, { resetKeys: true }));
}

/** Configuration: a local file (VIGIL_CONFIG_FILE, for local runs) or the SSM parameter, cached across invocations. */
async function configSource(env: NodeJS.ProcessEnv, logger: Logger): Promise<() => Promise<IpSpaceConfig>> {
  if (env.VIGIL_CONFIG_FILE) {
    const file = env.VIGIL_CONFIG_FILE;
    return async () => (await loadConfigFile(file)).ipSpace;
  }
  // No parameter yet is a normal first deployment: every change is watched with the defaults, with a warning.
  const source = ssmConfigSource(createSsmClient(), requiredEnv(env, 'VIGIL_CONFIG_PARAMETER'), { defaultsWhenMissing: logger });
  return async () => (await source()).ipSpace;
}

/** The production composition: clients and settings from the environment, created once per container. */
export async function handlerDepsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<HandlerDeps> {
  const logger = lambdaLogger('vigil-ip-space');
  const alerts: HandlerDeps['alerts'] =
    env.VIGIL_ALERTS === 'log'
      ? { mode: 'log' }
      : {
          mode: 'sns',
          sns: createSnsClient(),
          topicArn: requiredEnv(env, 'ALERTS_TOPIC_ARN'),
          dynamo: createDynamoClient(),
          stateTable: requiredEnv(env, 'STATE_TABLE_NAME'),
        };
  return {
    logger,
    clock: systemClock,
    fetch: globalThis.fetch,
    s3: createS3Client(env),
    bucket: requiredEnv(env, 'IP_RANGES_BUCKET'),
    config: await configSource(env, asVigilLogger(logger)),
    alerts,
  };
}

let production: ReturnType<typeof makeHandler> | undefined;

export const handler = async (event: unknown, context: Context): Promise<SyncResult[]> => {
  production ??= makeHandler(await handlerDepsFromEnv());
  return production(event, context);
};
