import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HandlerDeps, makeHandler } from '../../../functions/ip-space-changed/handler';
import { Alert } from '../../../shared/alerts/schema';
import type { IpSpaceConfig } from '../../../shared/config/ip-space';
import { fixedClock } from '../../../shared/core/deps';
import { md5Hex } from '../../../shared/ip-ranges/load';
import { LATEST_KEY, readLatestPointer, readLatestSnapshot } from '../../../shared/ip-ranges/store';
import type { SyncResult } from '../../../shared/ip-ranges/sync';
import { type LocalDynamo, startDynamo } from '../../support/dynalite';
import { type LocalHttp, startHttp } from '../../support/http-server';
import { type LocalS3, startS3 } from '../../support/s3rver';
import { ipRangesFile, repoRoot } from '../../support/shared-data';

/**
 * The real handler (makeHandler, as production composes it) against s3rver, dynalite and a local HTTP server that
 * plays ip-ranges.amazonaws.com. Only SNS is mocked (aws-sdk-client-mock): there is no local SNS emulator.
 */

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:vigil-test-alerts';
const AWS_ORIGIN = 'https://ip-ranges.amazonaws.com';

const file = (date: string) => readFileSync(ipRangesFile(date));
const FILES = {
  v2017: file('2017-11-30-18-42-12'),
  v2022: file('2022-04-27-19-03-26'),
  jan19: file('2026-01-29-19-18-05'),
  jan21: file('2026-01-29-21-08-05'),
  aug22: file('2026-08-22-15-17-05'),
};
const tokenOf = (bytes: Buffer) => (JSON.parse(bytes.toString('utf8')) as { syncToken: string }).syncToken;
const createOf = (bytes: Buffer) => (JSON.parse(bytes.toString('utf8')) as { createDate: string }).createDate;

const snsEvent = (message: Record<string, string>, topicArn = 'arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged') => ({
  Records: [
    {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `${topicArn}:sub`,
      Sns: {
        Type: 'Notification',
        MessageId: `msg-${message.synctoken}-${Math.random()}`,
        TopicArn: topicArn,
        Subject: 'IP Space Changed',
        Message: JSON.stringify(message),
        Timestamp: '2026-08-22T15:24:40.503Z',
      },
    },
  ],
});
const messageFor = (bytes: Buffer, overrides: Record<string, string> = {}) => ({
  'create-time': createOf(bytes),
  synctoken: tokenOf(bytes),
  md5: md5Hex(bytes),
  url: `${AWS_ORIGIN}/ip-ranges.json`,
  ...overrides,
});
const scheduleEvent = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/ip-ranges/schedule-event.json'), 'utf8'));

const context = {
  functionName: 'vigil-test-ipSpaceChanged',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:vigil-test-ipSpaceChanged',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/vigil-test-ipSpaceChanged',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
  done() {},
  fail() {},
  succeed() {},
} as Context;

describe('ipSpaceChanged handler against s3rver + dynalite + a local ip-ranges server', () => {
  let s3: LocalS3;
  let ddb: LocalDynamo;
  let http: LocalHttp;
  let serving: Buffer = FILES.jan19;
  let served: 'whole' | 'truncated' | 'corrupt' = 'whole';
  const sns = mockClient(SNSClient);
  let bucket = '';
  let table = '';
  let bucketNo = 0;
  let config: IpSpaceConfig = { watch: [], flappingWindowHours: 72, maxCidrsInAlert: 50, severity: 'low' };
  let failPointerWrites = 0;

  // The injected fetch only maps AWS's origin to the local server: the handler still decides what to fetch.
  const localFetch: typeof fetch = (input, init) => {
    const url = String(input);
    if (!url.startsWith(`${AWS_ORIGIN}/`)) throw new Error(`test fetch: unexpected URL ${url}`);
    return fetch(http.url + url.slice(AWS_ORIGIN.length), init);
  };

  // Wraps the s3rver client to fail the pointer write on demand (a crash between alert and pointer).
  const flakyS3 = (client: S3Client): HandlerDeps['s3'] => ({
    send: ((command: unknown) => {
      if (command instanceof PutObjectCommand && command.input.Key === LATEST_KEY && failPointerWrites > 0) {
        failPointerWrites--;
        return Promise.reject(Object.assign(new Error('simulated S3 outage'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }));
      }
      return client.send(command as never);
    }) as HandlerDeps['s3']['send'],
  });

  const run = (event: unknown) =>
    makeHandler({
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      clock: fixedClock('2026-12-03T18:00:00Z'),
      fetch: localFetch,
      s3: flakyS3(s3.client),
      bucket,
      config: async () => config,
      alerts: { mode: 'sns', sns: new SNSClient({ region: 'eu-west-1' }), topicArn: TOPIC, dynamo: ddb.client, stateTable: table },
    })(event, context) as Promise<SyncResult[]>;

  const published = () => sns.commandCalls(PublishCommand).map((c) => Alert.parse(JSON.parse(JSON.parse(c.args[0].input.Message as string).lambda)));
  const latestToken = async () => (await readLatestPointer(s3.client, bucket))?.pointer.syncToken;
  const keys = async () =>
    ((await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();

  beforeAll(async () => {
    [s3, ddb, http] = await Promise.all([
      startS3(),
      startDynamo(),
      startHttp((req, res) => {
        if (req.url !== '/ip-ranges.json') {
          res.statusCode = 404;
          return void res.end();
        }
        const etag = `"${md5Hex(serving)}"`;
        if (req.headers['if-none-match'] === etag) {
          res.statusCode = 304;
          return void res.end();
        }
        res.setHeader('content-type', 'application/json');
        res.setHeader('etag', etag);
        res.setHeader('content-length', String(serving.length));
        if (served === 'truncated') {
          res.write(serving.subarray(0, Math.floor(serving.length / 2)));
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        const body = Buffer.from(serving);
        // Corrupt but still valid JSON with the same syncToken: one region renamed, so only the md5 can tell.
        if (served === 'corrupt') body.write('us-east-2', body.indexOf('us-east-1'));
        res.end(body);
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([s3?.stop(), ddb?.stop(), http?.stop()]);
  });
  beforeEach(async () => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'sns-message-id' });
    bucket = `ip-ranges-${++bucketNo}`;
    table = `vigil-test-state-${bucketNo}`;
    await s3.createBucket(bucket);
    // A fresh state table per test: the same change always has the same alert id.
    await ddb.createTable({
      TableName: table,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    served = 'whole';
    failPointerWrites = 0;
    config = { watch: [], flappingWindowHours: 72, maxCidrsInAlert: 50, severity: 'low' };
    http.requests.length = 0;
  });

  it('stores the first version, then diffs a newer one and publishes one alert with counts and CIDRs', async () => {
    serving = FILES.jan19;
    const first = await run(snsEvent(messageFor(FILES.jan19)));
    expect(first).toEqual([expect.objectContaining({ status: 'stored', syncToken: '1769714285', watchedChanges: 0 })]);
    expect(first[0]).not.toHaveProperty('alertId');
    expect(await keys()).toEqual(['ip-ranges/1769714285.json', 'ip-ranges/latest.json']);
    expect(published()).toHaveLength(0);
    // The snapshot is byte for byte what AWS published.
    const stored = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'ip-ranges/1769714285.json' }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(FILES.jan19)).toBe(true);

    serving = FILES.jan21;
    const second = await run(snsEvent(messageFor(FILES.jan21)));
    expect(second[0]).toMatchObject({
      status: 'stored',
      syncToken: '1769720885',
      previous: '1769714285',
      counts: { v4_added: 3, v4_removed: 2, v6_added: 3, v6_removed: 0, v4_cidrs_added: 1, v4_cidrs_removed: 1, v6_cidrs_added: 1, v6_cidrs_removed: 0 },
      watchedChanges: 8,
    });
    const alerts = published();
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert).toMatchObject({
      ruleId: 'ip-space-changed',
      severity: 'low',
      account: '123456789012',
      eventTime: '2026-01-29T21:08:05.000Z',
      dedupKey: 'ip-space-changed:1769720885',
      source: { bucket, key: 'ip-ranges/1769720885.json' },
      count: 5,
    });
    expect(alert.context.counts).toEqual(second[0]!.status === 'stored' ? second[0]!.counts : undefined);
    expect(alert.context.cidrs).toMatchObject({
      ipv4: { added: { cidrs: ['24.110.0.0/21'] }, removed: { cidrs: ['46.168.0.0/15'] } },
      ipv6: { added: { cidrs: ['2600:f0f0:5504::/46'] }, removed: { cidrs: [] } },
    });
    expect(alert.summary).toContain('IPv4 +3/−2 entries');
    expect(await latestToken()).toBe('1769720885');
    // The pointer names an existing, md5-verified snapshot: what the CloudTrail Lambda reads at cold start.
    expect((await readLatestSnapshot(s3.client, bucket))?.syncToken).toBe('1769720885');
  });

  it('ignores repeated and older notifications without downloading, and publishes nothing', async () => {
    serving = FILES.jan21;
    await run(snsEvent(messageFor(FILES.jan21)));
    const requests = http.requests.length;
    const again = await run(snsEvent(messageFor(FILES.jan21)));
    const older = await run(snsEvent(messageFor(FILES.jan19)));
    expect(again).toEqual([{ status: 'ignored', reason: 'not-newer', syncToken: '1769720885', latest: '1769720885' }]);
    expect(older).toEqual([{ status: 'ignored', reason: 'not-newer', syncToken: '1769714285', latest: '1769720885' }]);
    expect(http.requests.length).toBe(requests);
    expect(published()).toHaveLength(0);
  });

  it('publishes at most one alert when a version is processed twice (pointer write failed after the publish)', async () => {
    serving = FILES.jan19;
    await run(snsEvent(messageFor(FILES.jan19)));
    serving = FILES.jan21;
    failPointerWrites = 1;
    await expect(run(snsEvent(messageFor(FILES.jan21)))).rejects.toThrow(/simulated S3 outage/);
    expect(published()).toHaveLength(1);
    expect(await latestToken()).toBe('1769714285');
    // Lambda's retry: same version, same alert id → the idempotency record answers, SNS is not called again.
    const retry = await run(snsEvent(messageFor(FILES.jan21)));
    expect(retry[0]).toMatchObject({ status: 'stored', syncToken: '1769720885', alertId: published()[0]!.id });
    expect(published()).toHaveLength(1);
    expect(await latestToken()).toBe('1769720885');
    // The idempotency record is under the key prefix the function's IAM policy allows (dynamodb:LeadingKeys).
    const items = (await ddb.doc.send(new ScanCommand({ TableName: table }))).Items ?? [];
    expect(items.map((i) => String(i.pk))).toEqual([expect.stringMatching(/^ip-space-alert#/)]);
    expect(items[0]).toMatchObject({ status: 'COMPLETED', expiresAt: expect.any(Number) });
  });

  it('fails on an md5 mismatch (so Lambda retries) without storing the version or touching latest', async () => {
    serving = FILES.jan19;
    await run(snsEvent(messageFor(FILES.jan19)));
    serving = FILES.jan21;
    served = 'corrupt';
    await expect(run(snsEvent(messageFor(FILES.jan21)))).rejects.toMatchObject({ name: 'IntegrityError', message: expect.stringMatching(/md5 mismatch/) });
    // A wrong md5 in the message is the same failure.
    served = 'whole';
    await expect(run(snsEvent(messageFor(FILES.jan21, { md5: '0'.repeat(32) })))).rejects.toMatchObject({ name: 'IntegrityError' });
    expect(await keys()).toEqual(['ip-ranges/1769714285.json', 'ip-ranges/latest.json']);
    expect(await latestToken()).toBe('1769714285');
    // The retry with a good download succeeds.
    expect((await run(snsEvent(messageFor(FILES.jan21))))[0]).toMatchObject({ status: 'stored', syncToken: '1769720885' });
  });

  it('rejects a truncated download as an IntegrityError without touching latest', async () => {
    serving = FILES.jan19;
    await run(snsEvent(messageFor(FILES.jan19)));
    serving = FILES.jan21;
    served = 'truncated';
    await expect(run(snsEvent(messageFor(FILES.jan21)))).rejects.toMatchObject({ name: 'IntegrityError', message: expect.stringMatching(/cut short/) });
    expect(await latestToken()).toBe('1769714285');
    expect(await keys()).toEqual(['ip-ranges/1769714285.json', 'ip-ranges/latest.json']);
  });

  it('refuses a message that names another host, before fetching anything', async () => {
    for (const url of ['https://evil.example/ip-ranges.json', 'http://ip-ranges.amazonaws.com/ip-ranges.json', 'https://ip-ranges.amazonaws.com.evil.example/ip-ranges.json', 'https://user@ip-ranges.amazonaws.com/ip-ranges.json']) {
      await expect(run(snsEvent(messageFor(FILES.jan19, { url })))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/refusing to download/) });
    }
    expect(http.requests).toHaveLength(0);
    expect(await keys()).toEqual([]);
  });

  it('refuses SNS messages from another topic and malformed messages', async () => {
    await expect(run(snsEvent(messageFor(FILES.jan19), 'arn:aws:sns:us-east-1:999999999999:AmazonIpSpaceChanged'))).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(run(snsEvent({ synctoken: 'x' }))).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/create-time/) });
    await expect(run({ hello: 'world' })).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('processes the live file when it is newer than the message; a stale (older) live file is retried', async () => {
    serving = FILES.jan21;
    await run(snsEvent(messageFor(FILES.jan21)));
    // AWS published again (aug22) after announcing 1769720886.
    serving = FILES.aug22;
    config = { ...config, watch: [{ service: 'CLOUDFRONT', region: '*' }, { service: 'CLOUD9', region: '*' }] };
    const r = await run(snsEvent(messageFor(FILES.jan21, { synctoken: '1769720886', md5: 'f'.repeat(32) })));
    expect(r[0]).toMatchObject({ status: 'stored', syncToken: '1787411825', previous: '1769720885', watchedChanges: 12 + 4 + 6 });
    const [alert] = published();
    expect(alert!.context.counts).toEqual({ v4_added: 12, v4_removed: 6, v6_added: 4, v6_removed: 0, v4_cidrs_added: expect.any(Number), v4_cidrs_removed: expect.any(Number), v6_cidrs_added: expect.any(Number), v6_cidrs_removed: 0 });
    expect(alert!.title).toBe('AWS IP ranges changed for CLOUD9, CLOUDFRONT');
    // A notification for a version newer than what the CDN serves: retry later.
    await expect(run(snsEvent(messageFor(FILES.aug22, { synctoken: '1799999999' })))).rejects.toMatchObject({ name: 'TransientError' });
  });

  it('does not alert when no watched entry changed', async () => {
    serving = FILES.jan19;
    await run(snsEvent(messageFor(FILES.jan19)));
    serving = FILES.jan21;
    config = { ...config, watch: [{ service: 'ROUTE53_HEALTHCHECKS', region: '*' }] };
    const r = await run(snsEvent(messageFor(FILES.jan21)));
    expect(r[0]).toMatchObject({ status: 'stored', watchedChanges: 0 });
    expect(published()).toHaveLength(0);
    expect(await latestToken()).toBe('1769720885');
  });

  it('the hourly check stores a version it finds, and then gets 304 Not Modified', async () => {
    serving = FILES.jan21;
    expect((await run(scheduleEvent))[0]).toMatchObject({ status: 'stored', syncToken: '1769720885' });
    expect(await run(scheduleEvent)).toEqual([{ status: 'ignored', reason: 'not-modified', latest: '1769720885' }]);
    expect(http.requests.at(-1)?.headers['if-none-match']).toBe(`"${md5Hex(FILES.jan21)}"`);
  });

  it('handles the real AmazonIpSpaceChanged messages of 2017 and 2022 (md5 of the real files)', async () => {
    const event2017 = JSON.parse(readFileSync(path.join(repoRoot, 'events/sns/ip-space-changed.json'), 'utf8'));
    const event2022 = JSON.parse(readFileSync(path.join(repoRoot, 'events/sns/ip-space-changed-2022.json'), 'utf8'));
    serving = FILES.v2017;
    expect((await run(event2017))[0]).toMatchObject({ status: 'stored', syncToken: '1512067332' });
    serving = FILES.v2022;
    const r = await run(event2022);
    expect(r[0]).toMatchObject({ status: 'stored', syncToken: '1651086206', previous: '1512067332' });
    expect(published()).toHaveLength(1);
    // A corrupted 2022 download against the real message's md5.
    const isoEvent = JSON.parse(readFileSync(path.join(repoRoot, 'events/sns/ip-space-changed-iso-time.json'), 'utf8'));
    serving = FILES.aug22;
    served = 'corrupt';
    await expect(run(isoEvent)).rejects.toMatchObject({ name: 'IntegrityError' });
    served = 'whole';
    expect((await run(isoEvent))[0]).toMatchObject({ status: 'stored', syncToken: '1787411825' });
  });
});
