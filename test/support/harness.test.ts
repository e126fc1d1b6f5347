import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startDynamo } from './dynalite';
import { type LocalHttp, startHttp } from './http-server';
import { type LocalS3, startS3 } from './s3rver';

describe('local emulators used by the integration tests', () => {
  let s3: LocalS3;
  let ddb: LocalDynamo;
  let http: LocalHttp;
  beforeAll(async () => {
    [s3, ddb, http] = await Promise.all([startS3(), startDynamo(), startHttp((_req, res) => void res.end('pong'))]);
  });
  afterAll(async () => {
    await Promise.all([s3?.stop(), ddb?.stop(), http?.stop()]);
  });

  it('runs on the Node version Lambda runs (nodejs22.x)', () => {
    expect(process.versions.node.split('.')[0]).toBe('22');
  });

  it('s3rver stores and returns objects', async () => {
    await s3.createBucket('harness-bucket');
    await s3.client.send(new PutObjectCommand({ Bucket: 'harness-bucket', Key: 'k', Body: 'hello' }));
    const got = await s3.client.send(new GetObjectCommand({ Bucket: 'harness-bucket', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('hello');
  });

  it('dynalite supports conditional puts', async () => {
    await ddb.createTable({
      TableName: 'harness-table',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    await ddb.doc.send(new PutCommand({ TableName: 'harness-table', Item: { pk: 'a' }, ConditionExpression: 'attribute_not_exists(pk)' }));
    await expect(
      ddb.doc.send(new PutCommand({ TableName: 'harness-table', Item: { pk: 'a' }, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toThrow(/conditional/i);
    expect((await ddb.doc.send(new GetCommand({ TableName: 'harness-table', Key: { pk: 'a' } }))).Item).toEqual({ pk: 'a' });
  });

  it('serves HTTP on 127.0.0.1', async () => {
    expect(await (await fetch(http.url)).text()).toBe('pong');
  });
});
