import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type S3Like, getObject } from '../aws/s3';
import { formatZodIssues } from '../config/parse';
import type { Fetch } from '../core/deps';
import { IntegrityError, TransientError, ValidationError } from '../core/errors';
import { IpRanges } from './schema';

/** Where ip-ranges.json is published; the Lambda fetches from nowhere else. */
export const AWS_IP_RANGES_URL = 'https://ip-ranges.amazonaws.com/ip-ranges.json';

export const md5Hex = (bytes: Uint8Array | string): string => createHash('md5').update(bytes).digest('hex');

/** A loaded document together with its exact bytes (kept for md5 checks and byte-exact snapshots). */
export interface LoadedIpRanges {
  ranges: IpRanges;
  bytes: Uint8Array;
  md5: string;
  origin: string;
}

/**
 * Verifies and parses the exact bytes of an ip-ranges.json. The md5, when expected, is checked first over the raw
 * bytes (before any decoding), as AWS computes it. `truncatedIsIntegrity` makes unparseable JSON an IntegrityError
 * (a download cut short: retry) instead of a ValidationError (a bad file: retrying cannot help).
 */
export function parseIpRangesBytes(
  bytes: Uint8Array,
  origin: string,
  options: { expectedMd5?: string | undefined; truncatedIsIntegrity?: boolean } = {},
): LoadedIpRanges {
  const md5 = md5Hex(bytes);
  if (options.expectedMd5 !== undefined && md5 !== options.expectedMd5.toLowerCase()) {
    throw new IntegrityError(`${origin}: md5 mismatch: expected ${options.expectedMd5}, got ${md5} (${bytes.length} bytes)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (cause) {
    const message = `${origin}: not valid JSON (${bytes.length} bytes): ${(cause as Error).message}`;
    throw options.truncatedIsIntegrity ? new IntegrityError(message, { cause }) : new ValidationError(message, { cause });
  }
  const result = IpRanges.safeParse(raw);
  if (!result.success) {
    throw new ValidationError(`${origin}: not an ip-ranges.json document: ${formatZodIssues(result.error)}`);
  }
  return { ranges: result.data, bytes, md5, origin };
}

export async function loadIpRangesFile(path: string, expectedMd5?: string): Promise<LoadedIpRanges> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(cause));
    throw new ValidationError(`cannot read ip-ranges file ${path}: ${why}`, { cause });
  }
  return parseIpRangesBytes(bytes, path, { expectedMd5 });
}

export interface FetchedIpRanges {
  /** 304: the copy identified by `ifNoneMatch` is current. */
  notModified: boolean;
  loaded?: LoadedIpRanges;
  etag: string | undefined;
}

/**
 * Downloads ip-ranges.json. A body shorter than its Content-Length, or JSON cut short, is an IntegrityError (the next
 * attempt may get it whole); HTTP 5xx/429 and network failures are TransientErrors; other statuses ValidationErrors.
 * Redirects are refused, so a response cannot send the caller to another host than the one it checked.
 */
export async function fetchIpRanges(
  fetch: Fetch,
  url: string,
  options: { expectedMd5?: string | undefined; ifNoneMatch?: string | undefined; timeoutMs?: number } = {},
): Promise<FetchedIpRanges> {
  let response: Response;
  try {
    response = await fetch(url, {
      redirect: 'error',
      headers: {
        'user-agent': 'vigil-ip-ranges',
        ...(options.ifNoneMatch ? { 'if-none-match': options.ifNoneMatch } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
    });
  } catch (cause) {
    throw new TransientError(`cannot download ${url}: ${(cause as Error).message}`, { cause });
  }
  const etag = response.headers.get('etag') ?? undefined;
  if (response.status === 304) return { notModified: true, etag };
  if (!response.ok) {
    const error = `cannot download ${url}: HTTP ${response.status} ${response.statusText}`;
    throw response.status >= 500 || response.status === 429 ? new TransientError(error) : new ValidationError(error);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (cause) {
    // The connection closed before the announced length (undici reports it here).
    throw new IntegrityError(`${url}: download cut short: ${(cause as Error).message}`, { cause });
  }
  const announced = response.headers.get('content-length');
  const encoded = response.headers.get('content-encoding');
  if (announced !== null && !encoded && Number(announced) !== bytes.length) {
    throw new IntegrityError(`${url}: download cut short: ${bytes.length} of ${announced} bytes`);
  }
  return {
    notModified: false,
    etag,
    loaded: parseIpRangesBytes(bytes, url, { expectedMd5: options.expectedMd5, truncatedIsIntegrity: true }),
  };
}

/** Reads an ip-ranges.json object from S3 (e.g. a stored snapshot). */
export async function loadIpRangesS3(
  s3: S3Like,
  bucket: string,
  key: string,
  expectedMd5?: string,
): Promise<LoadedIpRanges | undefined> {
  const object = await getObject(s3, bucket, key);
  if (!object) return undefined;
  return parseIpRangesBytes(object.bytes, `s3://${bucket}/${key}`, { expectedMd5 });
}
