import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SQSClient, SendMessageCommand, type SendMessageCommandInput } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../../shared/alerts/schema';
import { type LocalDynamo, startDynamo } from '../../support/dynalite';
import { type LocalHttp, startHttp } from '../../support/http-server';
import { repoRoot } from '../../support/shared-data';

/**
 * The deployed handler (its real composition from the environment: Powertools logger, SSM provider, SQS and DynamoDB
 * clients) against a real HTTP server on 127.0.0.1 standing in for Slack, dynalite for the state table, and
 * aws-sdk-client-mock for SSM (the secret and the configuration) and SQS (the DLQ and the delayed window closings).
 */

const SECRET_PATH = '/services/T0SECRET/B0SECRET/s3cr3tW3bh00kPath';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:vigil-dev-alerts';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/vigil-dev-alert-notifier';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/vigil-dev-alert-notifier-dlq';
const TABLE = 'vigil-dev-state';

type Reply = { status: number; body?: string; headers?: Record<string, string> };

const ssm = mockClient(SSMClient);
const sqs = mockClient(SQSClient);

function lambdaContext(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'vigil-dev-alertNotifier',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:vigil-dev-alertNotifier',
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/vigil-dev-alertNotifier',
    logStreamName: '2026/08/12/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const sampleEvent = (name: string): SQSEvent =>
  JSON.parse(readFileSync(path.join(repoRoot, 'events/sqs', `${name}.json`), 'utf8')) as SQSEvent;

/** The sample event's records, each alert given a fresh id and dedup key so tests do not group with each other. */
let seq = 0;
function freshEvent(name: string, patch: (alert: Alert) => Partial<Alert> = () => ({})): SQSEvent {
  const event = sampleEvent(name);
  for (const record of event.Records) {
    const envelope = JSON.parse(record.body) as { Message: string; TopicArn: string };
    const alert = JSON.parse(envelope.Message) as Alert;
    const n = ++seq;
    const fresh = { ...alert, id: `${alert.id}-${n}`, dedupKey: `${alert.dedupKey}|t${n}`, ...patch(alert) };
    envelope.Message = JSON.stringify(fresh);
    envelope.TopicArn = TOPIC;
    record.body = JSON.stringify(envelope);
    record.messageId = `msg-${n}`;
  }
  return event;
}

describe('alert-notifier handler', () => {
  let http: LocalHttp;
  let ddb: LocalDynamo;
  let replies: Reply[];
  let arrivals: number[];
  let handler: (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  const logged: string[] = [];

  beforeAll(async () => {
    [http, ddb] = await Promise.all([
      startHttp((_req, res) => {
        arrivals.push(Date.now());
        const reply = replies.shift() ?? { status: 200, body: 'ok' };
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      }),
      startDynamo(),
    ]);
    await ddb.createTable({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      VIGIL_CONFIG_PARAMETER: '/vigil/dev/config',
      SLACK_SECRET_PARAMETER: '/vigil/dev/slack',
      NOTIFIER_QUEUE_URL: QUEUE_URL,
      NOTIFIER_DLQ_URL: DLQ_URL,
      STATE_TABLE_NAME: TABLE,
      ALERTS_TOPIC_ARN: TOPIC,
    });
    // Everything the function writes (Powertools logs JSON lines to stdout/stderr) is captured and checked for secrets.
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: never[]) => {
        logged.push(String(chunk));
        return write(chunk as string, ...rest);
      }) as typeof stream.write);
    }
    ({ handler } = await import('../../../functions/alert-notifier/handler'));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await Promise.all([http?.stop(), ddb?.stop()]);
  });

  beforeEach(() => {
    replies = [];
    arrivals = [];
    http.requests.length = 0;
    ssm.reset();
    sqs.reset();
    ssm.on(GetParameterCommand, { Name: '/vigil/dev/config' }).resolves({
      Parameter: {
        Name: '/vigil/dev/config',
        Type: 'String',
        Value: JSON.stringify({ notify: { officeTimezone: 'Europe/Paris', grouping: { windowMinutes: 10 } } }),
      },
    });
    ssm
      .on(GetParameterCommand, { Name: '/vigil/dev/slack', WithDecryption: true })
      .resolves({ Parameter: { Name: '/vigil/dev/slack', Type: 'SecureString', Value: `${http.url}${SECRET_PATH}` } });
    sqs.on(SendMessageCommand).resolves({ MessageId: 'sent' });
  });

  const sent = (queueUrl: string): SendMessageCommandInput[] =>
    sqs
      .commandCalls(SendMessageCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.QueueUrl === queueUrl);

  it('success: both alerts of the batch are posted, the batch response is empty, window closings are scheduled', async () => {
    const event = freshEvent('alert-cloudtrail');
    const response = await handler(event, lambdaContext(60_000));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(http.requests).toHaveLength(2);
    expect(http.requests.every((r) => r.url === SECRET_PATH && r.method === 'POST')).toBe(true);
    const texts = http.requests.map((r) => (JSON.parse(r.body.toString()) as { text: string }).text);
    expect(texts[0]).toContain('CRITICAL: CloudTrail logging stopped');
    expect(texts[1]).toContain('HIGH: Access key created for another IAM user');
    expect(sent(DLQ_URL)).toEqual([]);
    const closings = sent(QUEUE_URL);
    expect(closings).toHaveLength(2);
    expect(closings[0]?.DelaySeconds).toBeGreaterThanOrEqual(600);
    expect(JSON.parse(closings[0]?.MessageBody ?? '{}')).toMatchObject({ kind: 'vigil.notify.group-close', channel: 'default' });
  });

  it('429 with Retry-After: waits, posts, and the record succeeds', async () => {
    replies = [{ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } }];
    const response = await handler(freshEvent('alert-ip-space'), lambdaContext(60_000));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(arrivals).toHaveLength(2);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('500 then success: retried within the invocation, the record succeeds', async () => {
    replies = [{ status: 500, body: 'internal_error' }];
    const response = await handler(freshEvent('alert-migration-progress'), lambdaContext(60_000));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(http.requests).toHaveLength(2);
  });

  it('permanent 404: the record is acknowledged and sent to the DLQ with the reason', async () => {
    replies = [{ status: 404, body: 'no_service' }];
    const event = freshEvent('alert-ip-space');
    const response = await handler(event, lambdaContext(60_000));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(http.requests).toHaveLength(1);
    const [dead] = sent(DLQ_URL);
    expect(dead?.MessageBody).toBe(event.Records[0]?.body);
    expect(dead?.MessageAttributes).toMatchObject({
      failureReason: { DataType: 'String', StringValue: 'no_service' },
      channel: { DataType: 'String', StringValue: 'default' },
      httpStatus: { DataType: 'Number', StringValue: '404' },
      sourceMessageId: { StringValue: event.Records[0]?.messageId },
      alertId: { StringValue: expect.stringMatching(/^ip-space-/) },
    });
    // no_service can mean a rotated webhook: the secret was read again (bypassing the cache) before giving up.
    const secretReads = ssm.commandCalls(GetParameterCommand).filter((c) => c.args[0].input.Name === '/vigil/dev/slack');
    expect(secretReads.length).toBeGreaterThanOrEqual(1);
  });

  it('Slack down beyond the time budget: the record is a batch item failure (back to the queue), not dead-lettered', async () => {
    replies = Array.from({ length: 50 }, () => ({ status: 503 }));
    const event = freshEvent('alert-cloudtrail');
    const response = await handler(event, lambdaContext(7_000));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(event.Records.map((r) => r.messageId));
    expect(sent(DLQ_URL)).toEqual([]);
  });

  it('a record that is not an alert goes to the DLQ as invalid_message; the rest of the batch is delivered', async () => {
    const event = freshEvent('alert-cloudtrail');
    const bad = event.Records[0] as SQSRecord;
    bad.body = '{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:123456789012:vigil-dev-alerts"';
    const wrongTopic = structuredClone(event.Records[1] as SQSRecord);
    wrongTopic.messageId = 'from-elsewhere';
    wrongTopic.body = wrongTopic.body.replace(TOPIC, 'arn:aws:sns:us-east-1:999999999999:other');
    event.Records.push(wrongTopic);
    const response = await handler(event, lambdaContext(60_000));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(http.requests).toHaveLength(1);
    const dead = sent(DLQ_URL);
    expect(dead.map((d) => d.MessageAttributes?.failureReason?.StringValue)).toEqual(['invalid_message', 'invalid_message']);
    expect(dead[0]?.MessageAttributes?.failureDetail?.StringValue).toBe('message body is not JSON');
    expect(dead[1]?.MessageAttributes?.failureDetail?.StringValue).toContain('unexpected topic');
  });

  it('a window-closing message that arrives before the window ends is re-scheduled', async () => {
    await handler(freshEvent('alert-migration-progress'), lambdaContext(60_000));
    const [closing] = sent(QUEUE_URL);
    sqs.resetHistory();
    const record = { ...(sampleEvent('alert-migration-progress').Records[0] as SQSRecord), messageId: 'closing-1' };
    record.body = closing?.MessageBody ?? '';
    const response = await handler({ Records: [record] }, lambdaContext(60_000));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sent(QUEUE_URL)).toHaveLength(1);
    expect(http.requests).toHaveLength(1);
  });

  it('nothing the function logged contains the webhook URL', () => {
    const output = logged.join('');
    expect(output).toContain('"service":"alert-notifier"'); // the capture works: Powertools logs are in it
    expect(output).toContain('Slack send failed');
    expect(output).toContain('no_service');
    expect(output).not.toContain(SECRET_PATH);
    expect(output).not.toContain('s3cr3t');
    expect(output).not.toContain(http.url);
  });
});
