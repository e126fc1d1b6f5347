import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IntegrityError, TransientError, ValidationError } from '../../shared/core/errors';
import type { CloudTrailRecord } from '../../shared/cloudtrail/record';
import { type ReadOptions, type ReadStats, readCloudTrailLog } from '../../shared/cloudtrail/reader';
import { cloudtrailDir } from '../support/shared-data';
import { allStratusRecords, chunked, prng } from './helpers';

async function read(
  body: Uint8Array | Readable,
  options: Partial<ReadOptions> = {},
): Promise<{ records: CloudTrailRecord[]; stats: ReadStats; skipped: [string, number][] }> {
  const records: CloudTrailRecord[] = [];
  const skipped: [string, number][] = [];
  const stats = await readCloudTrailLog(body instanceof Readable ? body : Readable.from([Buffer.from(body)]), {
    name: 'test.json.gz',
    onRecord: (r) => records.push(r),
    onSkipped: (reason, index) => skipped.push([reason, index]),
    ...options,
  });
  return { records, stats, skipped };
}

const record = (eventName: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.09',
  eventTime: '2025-03-12T10:15:00Z',
  eventSource: 'ec2.amazonaws.com',
  eventName,
  awsRegion: 'eu-central-1',
  ...extra,
});

const log = (records: unknown[]): Buffer => Buffer.from(JSON.stringify({ Records: records }));

describe('readCloudTrailLog', () => {
  it('reads every Stratus delivery file (gzip) to exactly the records of its source file', async () => {
    const dir = cloudtrailDir('stratus-delivery');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json.gz'));
    expect(files).toHaveLength(35);
    let total = 0;
    for (const file of files) {
      const expected = JSON.parse(
        readFileSync(path.join(cloudtrailDir('stratus'), file.replace(/\.gz$/, '')), 'utf8'),
      ) as unknown[];
      const { records, stats } = await read(readFileSync(path.join(dir, file)), { name: file });
      expect(records, file).toEqual(expected);
      expect(stats.gzip).toBe(true);
      expect(stats.invalid + stats.nonObject).toBe(0);
      total += records.length;
    }
    expect(total).toBe(310);
  });

  it('reads plain JSON, and a bare JSON array of records (the Stratus source format)', async () => {
    const records = [record('RunInstances'), record('TerminateInstances')];
    const plain = await read(log(records));
    expect(plain.records).toEqual(records);
    expect(plain.stats.gzip).toBe(false);
    const source = readFileSync(path.join(cloudtrailDir('stratus'), 'aws.defense-evasion.organizations-leave.json'));
    const bare = await read(source);
    expect(bare.records).toEqual(JSON.parse(source.toString('utf8')));
  });

  it('gives the same records whatever the chunk boundaries (strings, escapes, braces and UTF-8 across chunks)', async () => {
    const tricky = [
      record('A', { errorMessage: 'quote " backslash \\ brace } bracket ] open { [ \\" end' }),
      record('B', { requestParameters: { nested: [{ a: [1, { b: '}}]]' }] }, { c: 'ümlaut ✓ 😀 日本' }] } }),
      record('C', { userAgent: '\\\\\\"', additionalEventData: { x: '\\' } }),
      record('D', { requestParameters: { s: '\u0000\u001f\u2028' } }),
      ...allStratusRecords().slice(0, 40),
    ];
    const bytes = Buffer.concat([Buffer.from('\ufeff  '), Buffer.from(JSON.stringify({ Records: tricky }, null, 1)), Buffer.from('\n')]);
    const rand = prng(7);
    for (const sizes of [[1], [2], [3], [7], [64], [1, 2, 3, 5, 8, 13]]) {
      const { records } = await read(chunked(bytes, sizes));
      expect(records, `chunks ${sizes.join(',')}`).toEqual(tricky);
    }
    for (let trial = 0; trial < 20; trial++) {
      const sizes = Array.from({ length: 9 }, () => 1 + Math.floor(rand() * 200));
      const { records } = await read(chunked(bytes, sizes));
      expect(records).toEqual(tricky);
    }
    // And compressed, split at odd places.
    const { records } = await read(chunked(gzipSync(bytes), [5, 1, 33]));
    expect(records).toEqual(tricky);
  });

  it('detects gzip by its magic bytes, not by the name', async () => {
    const { records, stats } = await read(gzipSync(log([record('X')])), { name: 'plain-name.json' });
    expect(stats.gzip).toBe(true);
    expect(records).toHaveLength(1);
  });

  it('skips other keys of the log object before and after Records', async () => {
    const text = `{"version":{"a":[1,"]"]},"Records":[${JSON.stringify(record('X'))}],"digest":"x\\"}","n":12,"t":true}`;
    expect((await read(Buffer.from(text))).records).toHaveLength(1);
  });

  it('counts and skips elements that are not objects or fail the record schema', async () => {
    const { records, stats, skipped } = await read(
      log([1, 'text', null, [record('InArray')], record('Good'), { eventName: 'NoSource' }, record('Bad', { eventName: 42 }), true, record('Good2')]),
    );
    expect(records.map((r) => r.eventName)).toEqual(['Good', 'Good2']);
    expect(stats.nonObject).toBe(5);
    expect(stats.invalid).toBe(2);
    expect(stats.records).toBe(2);
    expect(skipped).toEqual([
      ['non-object', 0],
      ['non-object', 1],
      ['non-object', 2],
      ['non-object', 3],
      ['invalid', 5],
      ['invalid', 6],
      ['non-object', 7],
    ]);
  });

  it('keeps unknown fields and new event versions', async () => {
    const r = record('Future', { eventVersion: '9.99', brandNewField: { deep: [1, 2] }, readOnly: true });
    expect((await read(log([r]))).records).toEqual([r]);
  });

  it('is not affected by __proto__ keys in records', async () => {
    const text = `{"Records":[{"eventTime":"2025-03-12T10:15:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","__proto__":{"polluted":true,"eventName":"X"},"userIdentity":{"type":"IAMUser","__proto__":{"isAdmin":true}},"constructor":{"prototype":{"polluted2":true}}}]}`;
    const { records } = await read(Buffer.from(text));
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r.eventName).toBe('GetObject');
    expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.hasOwn(r, '__proto__')).toBe(true);
  });

  it('fails a truncated log with an IntegrityError naming the file', async () => {
    const bytes = log([record('A'), record('B')]);
    for (const cut of [bytes.length - 1, bytes.length - 3, 40, 13, 3]) {
      const err = await read(bytes.subarray(0, cut), { name: 'AWSLogs/x.json' }).catch((e: unknown) => e);
      expect(err, `cut at ${cut}`).toBeInstanceOf(IntegrityError);
      expect((err as Error).message).toMatch(/^AWSLogs\/x\.json: truncated JSON/);
    }
  });

  it('hands over the records before a truncation (the caller decides what a half-read file means)', async () => {
    const bytes = log([record('A'), record('B'), record('C')]);
    const seen: string[] = [];
    await expect(
      readCloudTrailLog(Readable.from([bytes.subarray(0, bytes.length - 30)]), { name: 'k', onRecord: (r) => seen.push(r.eventName) }),
    ).rejects.toThrow(IntegrityError);
    expect(seen).toEqual(['A', 'B']);
  });

  it('evaluates what arrived before a source broke off, and reports the source error (retryable)', async () => {
    const gz = gzipSync(log(Array.from({ length: 300 }, (_, i) => record(`E${i}`))));
    const body = Readable.from(
      (async function* () {
        yield gz.subarray(0, Math.floor(gz.length / 2));
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      })(),
    );
    const seen: string[] = [];
    const err = await readCloudTrailLog(body, { name: 's3://b/k.json.gz', onRecord: (r) => seen.push(r.eventName) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('s3://b/k.json.gz: reading failed: socket hang up');
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.slice(0, 3)).toEqual(['E0', 'E1', 'E2']);
  });

  it('fails a corrupt or truncated gzip with an IntegrityError naming the file', async () => {
    const gz = gzipSync(log([record('A'), record('B')]));
    const corrupt = Buffer.from(gz);
    corrupt[20] = corrupt[20]! ^ 0xff;
    corrupt[21] = corrupt[21]! ^ 0xff;
    const errCorrupt = await read(corrupt, { name: 'AWSLogs/c.json.gz' }).catch((e: unknown) => e);
    expect(errCorrupt).toBeInstanceOf(IntegrityError);
    expect((errCorrupt as Error).message).toMatch(/^AWSLogs\/c\.json\.gz: corrupt gzip/);
    const errTruncated = await read(gz.subarray(0, gz.length - 10), { name: 'AWSLogs/t.json.gz' }).catch((e: unknown) => e);
    expect(errTruncated).toBeInstanceOf(IntegrityError);
    expect((errTruncated as Error).message).toMatch(/^AWSLogs\/t\.json\.gz: /);
  });

  it('fails something that only claims to be gzip', async () => {
    const err = await read(Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5]), { name: 'x.json.gz' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
  });

  it('stops a gzip bomb at the decompressed-size limit', async () => {
    // 20 MB of one repeated record compresses to a few tens of KB.
    const one = JSON.stringify(record('Bomb', { requestParameters: { pad: 'A'.repeat(1000) } }));
    const text = `{"Records":[${Array.from({ length: 20_000 }, () => one).join(',')}]}`;
    const gz = gzipSync(text, { level: 9 });
    expect(gz.length).toBeLessThan(200_000);
    let seen = 0;
    const err = await readCloudTrailLog(Readable.from([gz]), {
      name: 'bomb.json.gz',
      limits: { maxDecompressedBytes: 1_000_000 },
      onRecord: () => seen++,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(/bomb\.json\.gz: decompressed size exceeds the limit of 1000000 bytes/);
    expect(seen).toBeLessThan(1000);
  });

  it('refuses a record over the record-size limit', async () => {
    const big = log([record('Big', { requestParameters: { pad: 'x'.repeat(5000) } })]);
    await expect(read(chunked(big, [100]), { limits: { maxRecordBytes: 2048 } })).rejects.toThrow(/larger than the limit of 2048 bytes/);
    await expect(read(big, { limits: { maxRecordBytes: 2048 } })).rejects.toThrow(ValidationError);
  });

  it('rejects what is not a CloudTrail log with a ValidationError', async () => {
    const cases: [string, RegExp][] = [
      ['', /empty file/],
      ['   ', /empty file: no JSON value/],
      ['"text"', /not a CloudTrail log/],
      ['{"foo":[1,2]}', /no "Records" array/],
      ['{"Records":{"a":1}}', /"Records" is not an array/],
      ['{"Records":[{"eventName":tru}]}', /record 0 is not valid JSON/],
      ['{"Records":[]} x', /unexpected 'x' after the end of the log/],
      ['{"Records":[{"a":1} {"b":2}]}', /expected ',' or '\]' after a record/],
      ['<html>', /not a CloudTrail log/],
    ];
    for (const [text, message] of cases) {
      const err = await read(Buffer.from(text), { name: 'bad.json' }).catch((e: unknown) => e);
      expect(err, text).toBeInstanceOf(ValidationError);
      expect((err as Error).message, text).toMatch(message);
      expect((err as Error).message).toMatch(/^bad\.json: /);
    }
  });

  it('accepts an empty Records array', async () => {
    const { records, stats } = await read(Buffer.from('{"Records":[]}'));
    expect(records).toEqual([]);
    expect(stats.records).toBe(0);
  });

  it('reports byte counts and closes the source when it stops early', async () => {
    let destroyed = false;
    const source = new Readable({
      read() {
        // An endless stream that turns bad early: the reader must stop and destroy it.
        this.push(Buffer.from('{"Records":[1 x'));
      },
      destroy(err, cb) {
        destroyed = true;
        cb(err);
      },
    });
    await expect(read(source)).rejects.toThrow(ValidationError);
    expect(destroyed).toBe(true);
    const gz = gzipSync(log([record('A')]));
    const { stats } = await read(gz);
    expect(stats.bytesIn).toBe(gz.length);
    expect(stats.bytesOut).toBe(log([record('A')]).length);
  });
});
