import { describe, expect, it } from 'vitest';
import { decodeS3EventKey, parseLogKey, scanCandidate } from '../../shared/cloudtrail/key';

describe('parseLogKey', () => {
  it('recognises a log file key, with or without a prefix', () => {
    const key = 'AWSLogs/111122223333/CloudTrail/eu-central-1/2025/03/12/111122223333_CloudTrail_eu-central-1_20250312T1015Z_a1B2c3D4e5F6g7H8.json.gz';
    expect(parseLogKey(key)).toEqual({ kind: 'log', key, account: '111122223333', region: 'eu-central-1', date: '2025-03-12' });
    expect(parseLogKey(`audit/trails/${key}`)).toMatchObject({ kind: 'log', account: '111122223333' });
  });

  it('recognises organization trail keys (o-… segment)', () => {
    const key =
      'AWSLogs/o-exampleorgid/444455556666/CloudTrail/us-east-1/2025/03/12/444455556666_CloudTrail_us-east-1_20250312T0000Z_abcdefABCDEF0123.json.gz';
    expect(parseLogKey(key)).toMatchObject({ kind: 'log', account: '444455556666', region: 'us-east-1', organizationId: 'o-exampleorgid' });
  });

  it('skips digest files, Insights files and anything else, with a reason', () => {
    const digest =
      'AWSLogs/111122223333/CloudTrail-Digest/eu-central-1/2025/03/12/111122223333_CloudTrail-Digest_eu-central-1_main_eu-central-1_20250312T101500Z.json.gz';
    expect(parseLogKey(digest)).toMatchObject({ kind: 'digest', reason: expect.stringContaining('digest') });
    const insight =
      'AWSLogs/111122223333/CloudTrail-Insight/eu-central-1/2025/03/12/111122223333_CloudTrail-Insight_eu-central-1_20250312T1015Z_abc.json.gz';
    expect(parseLogKey(insight).kind).toBe('insight');
    expect(parseLogKey('AWSLogs/111122223333/CloudTrail/eu-central-1/2025/03/12/notes.txt').kind).toBe('other');
    expect(parseLogKey('random.json.gz').kind).toBe('other');
    // The file name must agree with its folders.
    expect(
      parseLogKey('AWSLogs/111122223333/CloudTrail/eu-central-1/2025/03/12/999999999999_CloudTrail_eu-central-1_20250312T1015Z_abc.json.gz').kind,
    ).toBe('other');
  });

  it('decodes S3 event keys (form encoding) and tolerates bad escapes', () => {
    expect(decodeS3EventKey('my+prefix/AWSLogs/a%3Ab.json.gz')).toBe('my prefix/AWSLogs/a:b.json.gz');
    expect(decodeS3EventKey('bad%zz')).toBe('bad%zz');
  });

  it('picks scan candidates among local files and S3 keys', () => {
    expect(scanCandidate('x/aws.defense-evasion.cloudtrail-stop.json.gz')).toEqual({ read: true });
    expect(scanCandidate('x/log.JSON')).toEqual({ read: true });
    expect(scanCandidate('x/README.md')).toMatchObject({ read: false });
    expect(scanCandidate('AWSLogs/1/CloudTrail-Digest/r/2025/01/01/1_CloudTrail-Digest_r_t_r_20250101T000000Z.json.gz')).toMatchObject({ read: false });
  });
});
