import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HandlerDeps, makeHandler } from '../../../functions/cloudtrail-ingest/handler';
import { createOncePublisher } from '../../../shared/alerts/idempotent-publish';
import { Alert } from '../../../shared/alerts/schema';
import { stateTablePersistence } from '../../../shared/aws/idempotency';
import type { CloudTrailRecord } from '../../../shared/cloudtrail/record';
import { DetectionConfig } from '../../../shared/config/detection';
import { buildIpIndex } from '../../../shared/ip-ranges/lookup';
import { exampleRecord, identities } from '../../../shared/rules/engine/example-record';
import { SNAPSHOTS, snapshot } from '../../ip-ranges/helpers';
import { type LocalDynamo, startDynamo } from '../../support/dynalite';
import { type LocalS3, startS3 } from '../../support/s3rver';
import { cloudtrailDir, repoRoot } from '../../support/shared-data';

const BUCKET = 'vigil-test-cloudtrail-111122223333-eu-central-1';
const TABLE = 'vigil-test-state';
const TOPIC = 'arn:aws:sns:eu-central-1:111122223333:vigil-test-alerts';
const ACCOUNT = '111122223333';

const logKey = (unique: string, account = ACCOUNT) =>
  `AWSLogs/${account}/CloudTrail/eu-central-1/2025/03/12/${account}_CloudTrail_eu-central-1_20250312T1020Z_${unique}.json.gz`;
const DIGEST_KEY = `AWSLogs/${ACCOUNT}/CloudTrail-Digest/eu-central-1/2025/03/12/${ACCOUNT}_CloudTrail-Digest_eu-central-1_main_eu-central-1_20250312T102000Z.json.gz`;

/** An SQS record as Lambda delivers it, built from the sample event in events/sqs/ (so the sample stays valid). */
const sample = JSON.parse(readFileSync(path.join(repoRoot, 'events/sqs/cloudtrail-object-created.json'), 'utf8')) as SQSEvent;
let messageCounter = 0;
function sqsRecord(key: string, bucket = BUCKET): SQSRecord {
  const template = sample.Records[0]!;
  const body = JSON.parse(template.body) as { Records: { s3: { bucket: { name: string }; object: { key: string } } }[] };
  body.Records[0]!.s3.bucket.name = bucket;
  // S3 URL-encodes keys in notifications.
  body.Records[0]!.s3.object.key = encodeURIComponent(key).replace(/%2F/g, '/');
  return { ...template, messageId: `msg-${++messageCounter}`, body: JSON.stringify(body) };
}
const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const context = {
  functionName: 'vigil-test-cloudtrailIngest',
  awsRequestId: 'req-1',
  invokedFunctionArn: `arn:aws:lambda:eu-central-1:${ACCOUNT}:function:vigil-test-cloudtrailIngest`,
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const gzLog = (records: CloudTrailRecord[]) => gzipSync(Buffer.from(JSON.stringify({ Records: records })));

const stopLogging = (trail: string, eventTime = '2025-03-12T10:15:00Z') =>
  exampleRecord({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', eventTime, requestParameters: { name: trail } });

describe('cloudtrailIngest handler (s3rver + dynalite, SNS mocked)', () => {
  let s3: LocalS3;
  let ddb: LocalDynamo;
  const snsMock = mockClient(SNSClient);

  beforeAll(async () => {
    [s3, ddb] = await Promise.all([startS3(), startDynamo()]);
    await s3.createBucket(BUCKET);
    await ddb.createTable({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
  afterAll(async () => {
    snsMock.restore();
    await Promise.all([s3?.stop(), ddb?.stop()]);
  });
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'sns-message-id' });
  });
  afterEach(() => snsMock.reset());

  const put = (key: string, body: Uint8Array) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  function handlerWith(overrides: Partial<HandlerDeps> = {}) {
    return makeHandler({
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      s3: s3.client,
      config: async () => DetectionConfig.parse({}),
      ipIndex: async () => undefined,
      publisher: createOncePublisher({
        sink: { sns: new SNSClient({ region: 'eu-central-1' }), topicArn: TOPIC },
        persistence: stateTablePersistence(TABLE, ddb.client),
      }),
      expectedBucket: BUCKET,
      ...overrides,
    });
  }

  /** The alerts that reached SNS, successfully, as parsed Alert objects. */
  const publishedAlerts = (): Alert[] =>
    snsMock.commandCalls(PublishCommand).map((call) => {
      const input = call.args[0].input;
      expect(input.TopicArn).toBe(TOPIC);
      return Alert.parse(JSON.parse((JSON.parse(input.Message!) as { sqs: string }).sqs));
    });

  it('a batch of a good file, a corrupt file and a digest file gives one batch item failure', async () => {
    const good = logKey('Good0000Stratus01');
    const corrupt = logKey('Corrupt000000001');
    await put(good, readFileSync(path.join(cloudtrailDir('stratus-delivery'), 'aws.defense-evasion.cloudtrail-stop.json.gz')));
    const bytes = gzLog([stopLogging('main')]);
    bytes[15] = bytes[15]! ^ 0xff;
    bytes[16] = bytes[16]! ^ 0xff;
    await put(corrupt, bytes);
    await put(DIGEST_KEY, gzipSync('{"awsAccountId":"111122223333"}'));

    const records = [sqsRecord(good), sqsRecord(corrupt), sqsRecord(DIGEST_KEY)];
    const response = await handlerWith()(sqsEvent(...records), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
    const alerts = publishedAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      ruleId: 'cloudtrail-tampering',
      eventName: 'StopLogging',
      severity: 'critical',
      source: { bucket: BUCKET, key: good },
      context: { ipRanges: 'off' },
    });
    // Filter attributes for subscribers (on-call: high and critical only).
    const attributes = snsMock.commandCalls(PublishCommand)[0]!.args[0].input.MessageAttributes!;
    expect(attributes.severity?.StringValue).toBe('critical');
    expect(attributes.ruleId?.StringValue).toBe('cloudtrail-tampering');
    expect(attributes.account?.StringValue).toBe(alerts[0]!.account);
    // The published record is in the state table under its prefix, with a TTL.
    const items = (await ddb.doc.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
    const published = items.filter((i) => String(i.pk).startsWith('published#'));
    expect(published.length).toBeGreaterThanOrEqual(1);
    expect(published[0]).toMatchObject({ status: 'COMPLETED', expiresAt: expect.any(Number) });
  });

  it('acknowledges the S3 test event and fails a message that is not a notification', async () => {
    const testEvent = JSON.parse(readFileSync(path.join(repoRoot, 'events/sqs/s3-test-event.json'), 'utf8')) as SQSEvent;
    const garbage: SQSRecord = { ...testEvent.Records[0]!, messageId: 'garbage', body: '{"hello":"world"}' };
    const response = await handlerWith()(sqsEvent(testEvent.Records[0]!, garbage), context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'garbage' }] });
    expect(publishedAlerts()).toEqual([]);
  });

  it('refuses notifications for another bucket, and acknowledges a deleted object', async () => {
    const other = sqsRecord(logKey('OtherBucket00001'), 'someone-elses-bucket');
    const gone = sqsRecord(logKey('DeletedMeanwhile'));
    const response = await handlerWith()(sqsEvent(other, gone), context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: other.messageId }] });
  });

  it('publishes exactly once when the same object is delivered three times', async () => {
    const key = logKey('Thrice0000000001');
    await put(key, gzLog([stopLogging('thrice'), stopLogging('thrice', '2025-03-12T10:16:00Z')]));
    const handler = handlerWith();
    for (let i = 0; i < 3; i++) {
      expect(await handler(sqsEvent(sqsRecord(key)), context)).toEqual({ batchItemFailures: [] });
    }
    const alerts = publishedAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ count: 2, title: 'CloudTrail logging stopped on trail thrice' });
  });

  it('publishes exactly once when copies of one notification arrive in one batch (concurrent), after the retries', async () => {
    const key = logKey('Concurrent000001');
    await put(key, gzLog([stopLogging('concurrent')]));
    const handler = handlerWith();
    let pending = [sqsRecord(key), sqsRecord(key), sqsRecord(key)];
    for (let round = 0; round < 5 && pending.length > 0; round++) {
      const { batchItemFailures } = await handler(sqsEvent(...pending), context);
      // SQS redelivers exactly the failed messages.
      pending = pending.filter((r) => batchItemFailures.some((f) => f.itemIdentifier === r.messageId));
    }
    expect(pending).toEqual([]);
    expect(publishedAlerts().filter((a) => a.title.includes('concurrent'))).toHaveLength(1);
  });

  it('a file that fails half-way and then succeeds publishes each alert exactly once', async () => {
    const key = logKey('HalfWay000000001');
    // Two incidents: one near the start, one at the end, with plenty of routine records between them.
    const routine = Array.from({ length: 400 }, (_, i) =>
      exampleRecord({ eventSource: 's3.amazonaws.com', eventName: 'GetObject', readOnly: true, requestParameters: { bucketName: 'b', key: `k${i}` } }),
    );
    const records = [
      stopLogging('early'),
      ...routine,
      exampleRecord({
        eventSource: 'cloudtrail.amazonaws.com',
        eventName: 'DeleteTrail',
        userIdentity: identities.root(),
        requestParameters: { name: 'late' },
      }),
    ];
    const full = gzLog(records);
    await put(key, full);

    // The first GetObject's body breaks off after half of the bytes (a connection reset mid-stream).
    let calls = 0;
    const flakyS3 = {
      send: async (command: GetObjectCommand) => {
        const out = await s3.client.send(command);
        if (command instanceof GetObjectCommand && calls++ === 0) {
          const bytes = await out.Body!.transformToByteArray();
          const half = bytes.subarray(0, Math.floor(bytes.length / 2));
          const body = Readable.from(
            (async function* () {
              yield Buffer.from(half);
              await new Promise((resolve) => setImmediate(resolve));
              throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
            })(),
          );
          return { ...out, Body: body };
        }
        return out;
      },
    } as unknown as S3Client;

    const handler = handlerWith({ s3: flakyS3 });
    const first = await handler(sqsEvent(sqsRecord(key)), context);
    expect(first.batchItemFailures).toHaveLength(1);
    const afterFirst = publishedAlerts();
    // What was read before the break is reported at once.
    expect(afterFirst.map((a) => a.title)).toEqual(['CloudTrail logging stopped on trail early']);

    const second = await handler(sqsEvent(sqsRecord(key)), context);
    expect(second.batchItemFailures).toEqual([]);
    const all = publishedAlerts();
    const titles = all.map((a) => a.title).sort();
    expect(titles).toEqual(['CloudTrail logging stopped on trail early', 'CloudTrail trail late deleted', 'Root account used: DeleteTrail'].sort());
    expect(new Set(all.map((a) => a.id)).size).toBe(all.length);
  });

  it('a failed publish fails the file; the retry publishes it once, and nothing twice', async () => {
    const key = logKey('SnsDown000000001');
    await put(key, gzLog([stopLogging('sns-down-1'), stopLogging('sns-down-2')]));
    snsMock.reset();
    snsMock.on(PublishCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' })).resolves({ MessageId: 'ok' });
    const handler = handlerWith();
    const first = await handler(sqsEvent(sqsRecord(key)), context);
    expect(first.batchItemFailures).toHaveLength(1);
    const second = await handler(sqsEvent(sqsRecord(key)), context);
    expect(second.batchItemFailures).toEqual([]);
    const third = await handler(sqsEvent(sqsRecord(key)), context);
    expect(third.batchItemFailures).toEqual([]);
    // 3 attempts in all: one throttled, then one successful publish per alert.
    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(3);
    const succeeded = publishedAlerts().slice(1);
    expect(succeeded.map((a) => a.title).sort()).toEqual([
      'CloudTrail logging stopped on trail sns-down-1',
      'CloudTrail logging stopped on trail sns-down-2',
    ]);
  });

  it('enriches alerts with the ip-ranges snapshot loaded once per container', async () => {
    const key = logKey('Enriched00000001');
    await put(key, gzLog([{ ...stopLogging('enriched'), sourceIPAddress: '18.236.253.47' }]));
    const ipIndex = vi.fn(async () => buildIpIndex(snapshot(SNAPSHOTS.aug22).ranges));
    const handler = handlerWith({ ipIndex });
    expect(await handler(sqsEvent(sqsRecord(key)), context)).toEqual({ batchItemFailures: [] });
    expect(await handler(sqsEvent(sqsRecord(logKey('DeletedMeanwhile'))), context)).toEqual({ batchItemFailures: [] });
    expect(ipIndex).toHaveBeenCalledTimes(1);
    const [alert] = publishedAlerts();
    expect(alert!.context).toMatchObject({ awsOwner: 'EC2 us-west-2', ipRanges: expect.stringContaining(SNAPSHOTS.aug22) });
  });

  it('fails the whole batch when the configuration is invalid', async () => {
    const handler = handlerWith({ config: async () => DetectionConfig.parse({ rules: { 'no-such-rule': { enabled: true } } }) });
    await expect(handler(sqsEvent(sqsRecord(logKey('BadConfig0000001'))), context)).rejects.toThrow(/unknown rule id/);
  });
});
