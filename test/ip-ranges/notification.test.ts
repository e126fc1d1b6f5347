import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/core/errors';
import { parseIpRangesBytes } from '../../shared/ip-ranges/load';
import { assertAwsIpRangesUrl, parseIpSpaceChangedMessage } from '../../shared/ip-ranges/notification';
import { repoRoot } from '../support/shared-data';
import { SNAPSHOTS, snapshotBytes } from './helpers';

// The real messages quoted in ../shared/data/ip-ranges/README.md.
const REAL_2017 = '{"create-time":"2017-11-30-18-42-12","synctoken":"1512067332","md5":"e0a38abfb954152e33ccdd4a19fea03e","url":"https://ip-ranges.amazonaws.com/ip-ranges.json"}';
const REAL_2022 = '{"create-time":"2022-04-27-19-03-26","synctoken":"1651086206","md5":"40741c8787f418fa91d0f20d9f25b735","url":"https://ip-ranges.amazonaws.com/ip-ranges.json"}';

describe('AmazonIpSpaceChanged messages', () => {
  it('parse the real 2017 and 2022 messages, whose md5 is that of the real files', () => {
    for (const [text, date] of [[REAL_2017, SNAPSHOTS.v2017], [REAL_2022, SNAPSHOTS.v2022]] as const) {
      const m = parseIpSpaceChangedMessage(text);
      const bytes = snapshotBytes(date);
      const loaded = parseIpRangesBytes(bytes, date, { expectedMd5: m.md5 });
      expect(loaded.ranges.syncToken).toBe(m.synctoken);
      expect(m['create-time'].getTime() / 1000).toBe(Number(m.synctoken));
      // One flipped byte and the md5 no longer matches.
      const bad = Buffer.from(bytes);
      bad[100] = bad[100] === 0x20 ? 0x09 : 0x20;
      expect(() => parseIpRangesBytes(bad, date, { expectedMd5: m.md5 })).toThrow(/md5 mismatch/);
    }
  });

  it('the sample event events/sns/ip-space-changed.json carries the real 2017 message verbatim', () => {
    const event = JSON.parse(readFileSync(path.join(repoRoot, 'events/sns/ip-space-changed.json'), 'utf8'));
    expect(event.Records[0].Sns.Message).toBe(REAL_2017);
    expect(event.Records[0].Sns.TopicArn).toBe('arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged');
  });

  it('accept the documented ISO create-time as well', () => {
    for (const iso of ['2026-08-22T15:17:05+00:00', '2026-08-22T15:17:05Z', '2026-08-22T15:17:05.000+0000']) {
      const m = parseIpSpaceChangedMessage(JSON.stringify({ 'create-time': iso, synctoken: '1787411825', md5: '63431D35877FA5386DED1A7DF9CFA971', url: 'https://ip-ranges.amazonaws.com/ip-ranges.json' }));
      expect(m['create-time'].toISOString()).toBe('2026-08-22T15:17:05.000Z');
      expect(m.md5).toBe('63431d35877fa5386ded1a7df9cfa971');
    }
  });

  it('reject malformed messages with the field named', () => {
    expect(() => parseIpSpaceChangedMessage('not json')).toThrow(ValidationError);
    expect(() => parseIpSpaceChangedMessage(REAL_2017.replace('2017-11-30-18-42-12', '30/11/2017'))).toThrow(/create-time/);
    expect(() => parseIpSpaceChangedMessage(REAL_2017.replace('e0a38abfb954152e33ccdd4a19fea03e', 'abc'))).toThrow(/md5/);
    expect(() => parseIpSpaceChangedMessage(REAL_2017.replace('"1512067332"', '"soon"'))).toThrow(/synctoken/);
  });

  it('allow downloads only from https://ip-ranges.amazonaws.com/', () => {
    expect(assertAwsIpRangesUrl('https://ip-ranges.amazonaws.com/ip-ranges.json')).toBe('https://ip-ranges.amazonaws.com/ip-ranges.json');
    for (const url of ['http://ip-ranges.amazonaws.com/ip-ranges.json', 'https://ip-ranges.amazonaws.com:8443/ip-ranges.json', 'https://ip-ranges.amazonaws.com@evil.example/ip-ranges.json', 'https://evil.example/ip-ranges.json', 'https://ip-ranges.amazonaws.com/', 'file:///etc/passwd', 'nonsense']) {
      expect(() => assertAwsIpRangesUrl(url), url).toThrow(ValidationError);
    }
  });
});
