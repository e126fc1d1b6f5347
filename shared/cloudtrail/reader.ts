import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { IntegrityError, TransientError, ValidationError, VigilError, describeError } from '../core/errors';
import { compileGuard } from './fast-guard';
import { CloudTrailRecord } from './record';
import { RecordSplitter } from './record-splitter';

export const isCloudTrailRecord = compileGuard(CloudTrailRecord);

/**
 * Output chunk of the streaming gunzip: zlib's default, 64 KB. Measured on the 1 GB benchmark log (bench/): 256 KB
 * chunks spared some stream overhead, but peak RSS then jumped from ~128 MB to ~190 MB in half of the runs (the
 * larger dead chunks are external memory that V8 collects later); 64 KB stays flat.
 */
export const GUNZIP_CHUNK_BYTES = 64 * 1024;

export interface ReadLimits {
  /** Stop after this many decompressed bytes (a gzip bomb expands ~1000×). */
  maxDecompressedBytes: number;
  /** Refuse a single record larger than this. */
  maxRecordBytes: number;
}

export const defaultReadLimits: ReadLimits = {
  maxDecompressedBytes: 2 * 1024 ** 3,
  maxRecordBytes: 8 * 1024 ** 2,
};

export interface ReadStats {
  /** Bytes read from the source (compressed size for .gz). */
  bytesIn: number;
  /** Bytes after decompression. */
  bytesOut: number;
  gzip: boolean;
  /** Records handed to `onRecord`. */
  records: number;
  /** Elements of Records that are not JSON objects: counted and skipped. */
  nonObject: number;
  /** Objects that fail the record schema: counted and skipped. */
  invalid: number;
}

export interface ReadOptions {
  /** The S3 key or path, named in every error. */
  name: string;
  limits?: Partial<ReadLimits>;
  /** Called synchronously for every valid record, in file order. */
  onRecord(record: CloudTrailRecord): void;
  /** Called for a skipped element (for logs); `index` is its position in the Records array. */
  onSkipped?(reason: 'non-object' | 'invalid', index: number): void;
  /** Called after each chunk with the running stats (progress bars). */
  onProgress?(stats: Readonly<ReadStats>): void;
  /** Filled as the file is read, so the counts are known even when reading fails part-way. */
  stats?: ReadStats;
}

export const emptyReadStats = (): ReadStats => ({ bytesIn: 0, bytesOut: 0, gzip: false, records: 0, nonObject: 0, invalid: 0 });

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** The error that failed a file, always naming it, with the reason as the cause. */
function fileError(name: string, err: unknown): VigilError {
  if (err instanceof VigilError) {
    const Ctor = err.constructor as new (message: string, options?: { cause?: unknown }) => VigilError;
    return new Ctor(`${name}: ${err.message}`, { cause: err.cause ?? err });
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    // zlib: Z_DATA_ERROR (not gzip / corrupt), Z_BUF_ERROR (unexpected end of file), …
    return new IntegrityError(`${name}: corrupt gzip: ${describeError(err)}`, { cause: err });
  }
  return new TransientError(`${name}: reading failed: ${describeError(err)}`, { cause: err });
}

/**
 * Reads one CloudTrail log — gzip or plain JSON, detected from the first bytes — and hands every valid record to
 * `onRecord`, one at a time, with constant memory (a 1 GB log needs no more than the largest record).
 *
 * A file fails as a whole, with an error naming it, when the bytes are corrupt (IntegrityError: bad gzip, truncated
 * JSON, over the decompressed-size limit) or are not a CloudTrail log (ValidationError: not JSON, no Records array,
 * a record that is not valid JSON). Records already handed over stay handed over: the caller decides what a
 * half-read file means (the Lambda publishes what it found, then lets SQS retry and dead-letter the file).
 */
export async function readCloudTrailLog(
  source: AsyncIterable<Uint8Array> | Readable,
  options: ReadOptions,
): Promise<ReadStats> {
  const limits = { ...defaultReadLimits, ...options.limits };
  const stats: ReadStats = options.stats ?? emptyReadStats();
  let index = 0;
  const { onRecord, onSkipped, onProgress } = options;
  const splitter = new RecordSplitter(
    {
      record(text) {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (cause) {
          throw new ValidationError(`record ${index} is not valid JSON: ${(cause as Error).message}`, { cause });
        }
        if (isCloudTrailRecord(value)) {
          stats.records++;
          onRecord(value);
        } else {
          stats.invalid++;
          onSkipped?.('invalid', index);
        }
        index++;
      },
      nonObject() {
        stats.nonObject++;
        onSkipped?.('non-object', index);
        index++;
      },
    },
    { maxRecordBytes: limits.maxRecordBytes },
  );

  const consume = async (decoded: AsyncIterable<Buffer>) => {
    for await (const chunk of decoded) {
      stats.bytesOut += chunk.length;
      if (stats.bytesOut > limits.maxDecompressedBytes) {
        throw new IntegrityError(
          `decompressed size exceeds the limit of ${limits.maxDecompressedBytes} bytes (a gzip bomb, or raise detection.limits.maxDecompressedBytes)`,
        );
      }
      splitter.push(chunk);
      onProgress?.(stats);
    }
    splitter.end();
  };

  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  let sourceError: { err: unknown } | undefined;
  try {
    // Peek at the first bytes: gzip is detected by its magic number, not trusted from the name.
    let first = await iterator.next();
    while (!first.done && first.value.length === 0) first = await iterator.next();
    if (first.done) throw new ValidationError('empty file');
    const head = Buffer.from(first.value.buffer, first.value.byteOffset, first.value.byteLength);
    stats.gzip = head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
    const counted = async function* () {
      stats.bytesIn += head.length;
      yield head;
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await iterator.next();
        } catch (err) {
          // The source broke off (a reset connection). End the input here instead of tearing the pipeline down,
          // so the bytes already received are still decompressed and evaluated; the source error is reported.
          sourceError = { err };
          return;
        }
        if (next.done) {
          finished = true;
          return;
        }
        stats.bytesIn += next.value.length;
        yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      }
    };
    if (stats.gzip) {
      await pipeline(counted, createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }), consume);
    } else {
      await consume(counted());
    }
    if (sourceError) throw sourceError.err;
  } catch (err) {
    // A broken source explains the truncation that follows it: report the cause, not the symptom.
    throw fileError(options.name, sourceError ? sourceError.err : err);
  } finally {
    // Stop the source (an S3 response body) when we stopped early, so its socket is released.
    if (!finished) await iterator.return?.().catch(() => undefined);
  }
  return stats;
}
