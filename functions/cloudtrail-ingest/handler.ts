import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type OncePublisher, createOncePublisher } from '../../shared/alerts/idempotent-publish';
import { createDynamoClient } from '../../shared/aws/dynamodb';
import { stateTablePersistence } from '../../shared/aws/idempotency';
import { type S3Like, createS3Client } from '../../shared/aws/s3';
import { createSnsClient } from '../../shared/aws/sns';
// Static imports, not `await import()`: in the single-file Lambda bundle a dynamically imported module keeps all of
// its re-exports, which pulled every SSM command and schema into the zip (~110 KB minified; bench/README.md).
import { createSsmClient } from '../../shared/aws/ssm';
import { type IngestOutcome, ingestObject } from '../../shared/cloudtrail/ingest';
import { parseQueueMessage } from '../../shared/cloudtrail/notification';
import type { DetectionConfig } from '../../shared/config/detection';
import { loadConfigFile } from '../../shared/config/load';
import { ssmConfigSource } from '../../shared/config/ssm';
import type { Logger } from '../../shared/core/deps';
import { ConfigError, ValidationError, describeError, requiredEnv } from '../../shared/core/errors';
import { asVigilLogger, lambdaLogger } from '../../shared/core/logger';
import { type IpIndex, buildIpIndex } from '../../shared/ip-ranges/lookup';
import { readLatestSnapshot } from '../../shared/ip-ranges/store';
import { type Engine, createEngine } from '../../shared/rules/engine/engine';
import { rules } from '../../shared/rules/registry';

/**
 * Lambda `cloudtrailIngest`: SQS (S3 ObjectCreated notifications of the CloudTrail bucket) → for each object,
 * ingestObject (shared/cloudtrail/ingest.ts). Batch item failures: a file that fails (corrupt, truncated, unreadable,
 * an alert not published) is reported alone, so SQS retries just that message and dead-letters it after
 * maxReceiveCount; the rest of the batch is acknowledged. `s3:TestEvent` messages are acknowledged.
 */

export interface HandlerDeps {
  logger: PowertoolsLogger;
  s3: S3Like;
  /** The detection configuration, cached by its source (SSM parameter or a local file). */
  config: () => Promise<DetectionConfig>;
  /** The ip-ranges index for enrichment, or undefined (enrichment off). Called at cold start (again after 15 minutes while it gives none). */
  ipIndex: () => Promise<IpIndex | undefined>;
  publisher: Pick<OncePublisher, 'publish'> & Partial<Pick<OncePublisher, 'registerLambdaContext'>>;
  expectedBucket?: string;
}

const IP_INDEX_RETRY_MS = 15 * 60 * 1000;

export function makeHandler(deps: HandlerDeps) {
  const logger = asVigilLogger(deps.logger);
  // Loaded once per container; when there was none (no snapshot yet, S3 unavailable), tried again after a while
  // rather than for the container's whole life.
  let ipIndex: { value: Promise<IpIndex | undefined>; at: number } | undefined;
  let built: { config: DetectionConfig; index: IpIndex | undefined; engine: Engine } | undefined;

  const currentIpIndex = async (): Promise<IpIndex | undefined> => {
    const now = Date.now();
    if (!ipIndex) ipIndex = { value: deps.ipIndex(), at: now };
    const index = await ipIndex.value;
    if (index === undefined && now - ipIndex.at > IP_INDEX_RETRY_MS) {
      ipIndex = { value: deps.ipIndex(), at: now };
      return ipIndex.value;
    }
    return index;
  };

  /** The engine for the current configuration and ip-ranges: rebuilt only when one of them changes. */
  const engineFor = async (): Promise<{ config: DetectionConfig; engine: Engine }> => {
    const [config, index] = await Promise.all([deps.config(), currentIpIndex()]);
    if (built?.config === config && built.index === index) return built;
    const engine = createEngine({ config, rules, logger, ...(index ? { ipIndex: index } : {}) });
    for (const r of engine.inactive) logger.warn('rule inactive: its configuration is missing', { ...r });
    logger.info('rule engine ready', {
      active: engine.active.map((r) => r.id),
      enrichment: engine.enrichment.enabled ? engine.enrichment.snapshot : 'off (no ip-ranges snapshot)',
    });
    built = { config, index, engine };
    return built;
  };

  const base = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    deps.publisher.registerLambdaContext?.(context);
    let current: { config: DetectionConfig; engine: Engine };
    try {
      current = await engineFor();
    } catch (err) {
      // Without a valid configuration nothing can be evaluated: fail the whole batch (retried, then dead-lettered).
      logger.error('cannot start the rule engine', { errorName: (err as Error).name, error: describeError(err) });
      throw err;
    }
    const { config, engine } = current;

    const recordHandler = async (record: SQSRecord): Promise<IngestOutcome[]> => {
      try {
        const message = parseQueueMessage(record.body);
        if (message.kind === 'test') {
          logger.info('S3 test event acknowledged', { messageId: record.messageId, bucket: message.bucket });
          return [];
        }
        const outcomes: IngestOutcome[] = [];
        for (const object of message.objects) {
          outcomes.push(
            await ingestObject(
              { s3: deps.s3, publisher: deps.publisher, logger },
              engine,
              object,
              { limits: config.limits, ...(deps.expectedBucket ? { expectedBucket: deps.expectedBucket } : {}) },
            ),
          );
        }
        return outcomes;
      } catch (err) {
        const retryable = !(err instanceof ValidationError || err instanceof ConfigError);
        logger.error('message failed; SQS will retry it, then move it to the dead-letter queue', {
          messageId: record.messageId,
          receiveCount: record.attributes?.ApproximateReceiveCount,
          errorName: err instanceof Error ? err.name : 'Error',
          error: describeError(err),
          retryable,
        });
        throw err;
      }
    };

    // A batch whose every message failed is reported the same way as a partial failure (each failed message is
    // retried on its own, then dead-lettered) instead of failing the invocation: the errors are logged above.
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS, { logger: deps.logger }), {
      context,
      throwOnFullBatchFailure: false,
    });
  };

  return middy(base).use(injectLambdaContext(deps.logger, { resetKeys: true }));
}

/** Configuration: a local file (VIGIL_CONFIG_FILE, local runs) or the SSM parameter, cached across invocations. */
async function configSource(env: NodeJS.ProcessEnv, logger: Logger): Promise<() => Promise<DetectionConfig>> {
  if (env.VIGIL_CONFIG_FILE) {
    const file = env.VIGIL_CONFIG_FILE;
    return async () => (await loadConfigFile(file)).detection;
  }
  // No parameter yet is a normal first deployment: rules that need no configuration run with the defaults.
  const source = ssmConfigSource(createSsmClient(), requiredEnv(env, 'VIGIL_CONFIG_PARAMETER'), { defaultsWhenMissing: logger });
  return async () => (await source()).detection;
}

/** The newest ip-ranges snapshot the IP-space function stored, as a lookup index; undefined when there is none. */
function ipIndexSource(env: NodeJS.ProcessEnv, s3: S3Like, logger: Logger): () => Promise<IpIndex | undefined> {
  const bucket = env.IP_RANGES_BUCKET;
  return async () => {
    if (!bucket) {
      logger.warn('IP_RANGES_BUCKET is not set; source-IP enrichment is off');
      return undefined;
    }
    try {
      const ranges = await readLatestSnapshot(s3, bucket);
      if (!ranges) {
        logger.warn('no ip-ranges snapshot stored yet; source-IP enrichment is off for now', { bucket });
        return undefined;
      }
      return buildIpIndex(ranges);
    } catch (err) {
      // Enrichment is an extra: logs are still evaluated without it.
      logger.error('cannot load the ip-ranges snapshot; source-IP enrichment is off', { bucket, error: describeError(err) });
      return undefined;
    }
  };
}

/** The production composition: clients and settings from the environment, created once per container. */
export async function handlerDepsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<HandlerDeps> {
  const powertools = lambdaLogger('vigil-cloudtrail');
  const logger = asVigilLogger(powertools);
  const s3 = createS3Client(env);
  const publisher: HandlerDeps['publisher'] =
    env.VIGIL_ALERTS === 'log'
      ? {
          async publish(alert) {
            logger.info('alert (not published: VIGIL_ALERTS=log)', { alert });
            return { status: 'published', messageId: 'local' };
          },
        }
      : createOncePublisher({
          sink: { sns: createSnsClient(), topicArn: requiredEnv(env, 'ALERTS_TOPIC_ARN') },
          persistence: stateTablePersistence(requiredEnv(env, 'STATE_TABLE_NAME'), createDynamoClient()),
        });
  return {
    logger: powertools,
    s3,
    config: await configSource(env, logger),
    ipIndex: ipIndexSource(env, s3, logger),
    publisher,
    ...(env.CLOUDTRAIL_BUCKET ? { expectedBucket: env.CLOUDTRAIL_BUCKET } : {}),
  };
}

let production: ReturnType<typeof makeHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  production ??= makeHandler(await handlerDepsFromEnv());
  return production(event, context);
};
