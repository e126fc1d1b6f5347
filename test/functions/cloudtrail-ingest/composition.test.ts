import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handlerDepsFromEnv } from '../../../functions/cloudtrail-ingest/handler';
import { ConfigError } from '../../../shared/core/errors';
import { LATEST_KEY, storeSnapshot } from '../../../shared/ip-ranges/store';
import { SNAPSHOTS, snapshot } from '../../ip-ranges/helpers';
import { type LocalS3, startS3 } from '../../support/s3rver';
import { repoRoot } from '../../support/shared-data';

/** The production composition root: configuration from SSM, enrichment from the IP-space snapshot bucket. */
describe('cloudtrailIngest composition (handlerDepsFromEnv)', () => {
  let s3: LocalS3;
  const ssm = mockClient(SSMClient);
  const baseEnv = {
    AWS_REGION: 'eu-central-1',
    ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:111122223333:vigil-test-alerts',
    STATE_TABLE_NAME: 'vigil-test-state',
    VIGIL_CONFIG_PARAMETER: '/vigil/test/config',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };

  beforeAll(async () => {
    s3 = await startS3();
    await s3.createBucket('ip-snapshots');
    await s3.createBucket('empty-snapshots');
    // The SDK reads credentials from the process environment.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    ssm.restore();
    await s3?.stop();
  });
  beforeEach(() => ssm.reset());

  it('reads the detection configuration from the SSM parameter', async () => {
    ssm.on(GetParameterCommand, { Name: '/vigil/test/config' }).resolves({
      // What `vigil config push examples/vigil.config.yaml` stores: the document as compact JSON.
      Parameter: { Name: '/vigil/test/config', Type: 'SecureString', Value: JSON.stringify(parse(readFileSync(`${repoRoot}/examples/vigil.config.yaml`, 'utf8'))) },
    });
    const deps = await handlerDepsFromEnv({ ...baseEnv });
    const config = await deps.config();
    expect(config.officeHours?.timezone).toBe('Europe/Berlin');
    expect(Object.keys(config.profiles)).toEqual(['prod', 'dev']);
    expect(ssm.commandCalls(GetParameterCommand)[0]!.args[0].input).toMatchObject({ Name: '/vigil/test/config', WithDecryption: true });
    // An existing bucket's name from the deployment pins the notifications.
    expect((await handlerDepsFromEnv({ ...baseEnv, CLOUDTRAIL_BUCKET: 'org-trail-logs' })).expectedBucket).toBe('org-trail-logs');
    expect(deps.expectedBucket).toBeUndefined();
  });

  it('uses the defaults while the parameter does not exist, and rejects an invalid document naming the field', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    const missing = await handlerDepsFromEnv({ ...baseEnv });
    expect((await missing.config()).officeHours).toBeUndefined();

    ssm.reset();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/vigil/test/config', Value: '{"detection": {"alertWindowMinutes": 0}}' } });
    const invalid = await handlerDepsFromEnv({ ...baseEnv });
    const err = await invalid.config().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/detection\.alertWindowMinutes/);
  });

  it('refuses a YAML document stored by hand, saying how to store it', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/vigil/test/config', Value: 'detection:\n  alertWindowMinutes: 5\n' } });
    const deps = await handlerDepsFromEnv({ ...baseEnv });
    const err = await deps.config().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/ssm:\/vigil\/test\/config: not a JSON document .*vigil config push/);
  });

  it('loads the newest ip-ranges snapshot the IP-space function stored, or runs without enrichment', async () => {
    const loaded = snapshot(SNAPSHOTS.aug22);
    const key = await storeSnapshot(s3.client, 'ip-snapshots', loaded);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: 'ip-snapshots',
        Key: LATEST_KEY,
        Body: JSON.stringify({
          syncToken: loaded.ranges.syncToken,
          createDate: loaded.ranges.createDate,
          key,
          md5: loaded.md5,
          bytes: loaded.bytes.length,
          storedAt: '2026-08-22T15:20:00Z',
        }),
      }),
    );
    const env = { ...baseEnv, VIGIL_CONFIG_FILE: `${repoRoot}/examples/vigil.config.yaml`, AWS_ENDPOINT_URL_S3: s3.endpoint };
    const withSnapshot = await handlerDepsFromEnv({ ...env, IP_RANGES_BUCKET: 'ip-snapshots' });
    const index = await withSnapshot.ipIndex();
    expect(index?.createDate).toBe(SNAPSHOTS.aug22);
    expect(index?.lookup('18.236.253.47')[0]).toMatchObject({ service: 'EC2', region: 'us-west-2' });

    expect(await (await handlerDepsFromEnv({ ...env, IP_RANGES_BUCKET: 'empty-snapshots' })).ipIndex()).toBeUndefined();
    expect(await (await handlerDepsFromEnv({ ...env })).ipIndex()).toBeUndefined();
  });
});
