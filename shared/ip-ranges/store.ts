import { z } from 'zod';
import { type S3Like, contentMd5, getObject, isPreconditionFailed, putObject } from '../aws/s3';
import { IntegrityError, TransientError, ValidationError } from '../core/errors';
import { formatZodIssues } from '../config/parse';
import { FlapHistory } from './flapping';
import { type LoadedIpRanges, parseIpRangesBytes } from './load';
import { CreateDate, type IpRanges, SyncToken } from './schema';

/**
 * The store of ip-ranges versions in the snapshot bucket (logical id `IpRangesBucket`, name in IP_RANGES_BUCKET):
 *
 *   ip-ranges/<syncToken>.json   every version, byte for byte as AWS published it (written with Content-MD5)
 *   ip-ranges/latest.json        the pointer to the newest version, written only after its snapshot is stored
 *
 * Readers (the CloudTrail Lambda at cold start, the CLI) follow the pointer and verify the snapshot's md5 against
 * it, so they never see a half-written or corrupt version: the pointer is the commit point. The pointer also carries
 * the per-CIDR change history the flapping detection needs, so version and history move together atomically.
 */

export const SNAPSHOT_PREFIX = 'ip-ranges/';
export const LATEST_KEY = 'ip-ranges/latest.json';
export const snapshotKey = (syncToken: string): string => `${SNAPSHOT_PREFIX}${syncToken}.json`;

export const LatestPointer = z.object({
  syncToken: SyncToken,
  createDate: CreateDate,
  key: z.string().min(1),
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  bytes: z.number().int().nonnegative(),
  storedAt: z.iso.datetime({ offset: true }),
  /** The HTTP ETag of the download, for a cheap conditional GET by the hourly check. */
  etag: z.string().optional(),
  history: FlapHistory.default({}),
});
export type LatestPointer = z.infer<typeof LatestPointer>;

export interface PointerState {
  pointer: LatestPointer;
  /** The S3 ETag of latest.json, for the compare-and-swap when the pointer moves on. */
  objectEtag: string | undefined;
}

export async function readLatestPointer(s3: S3Like, bucket: string): Promise<PointerState | undefined> {
  const object = await getObject(s3, bucket, LATEST_KEY);
  if (!object) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(object.bytes).toString('utf8'));
  } catch (cause) {
    throw new IntegrityError(`s3://${bucket}/${LATEST_KEY}: not valid JSON`, { cause });
  }
  const parsed = LatestPointer.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(`s3://${bucket}/${LATEST_KEY}: invalid pointer: ${formatZodIssues(parsed.error)}`);
  }
  return { pointer: parsed.data, objectEtag: object.etag };
}

/** The snapshot a pointer names, md5-verified against the pointer. */
export async function readSnapshot(s3: S3Like, bucket: string, pointer: LatestPointer): Promise<LoadedIpRanges> {
  const object = await getObject(s3, bucket, pointer.key);
  if (!object) {
    throw new IntegrityError(`s3://${bucket}/${LATEST_KEY} names ${pointer.key}, which does not exist`);
  }
  return parseIpRangesBytes(object.bytes, `s3://${bucket}/${pointer.key}`, { expectedMd5: pointer.md5 });
}

/**
 * The newest stored ip-ranges version, or undefined when none is stored yet (a fresh deployment before the first
 * run of the IP-space function). What the CloudTrail Lambda calls at cold start to enrich source IPs.
 */
export async function readLatestSnapshot(s3: S3Like, bucket: string): Promise<IpRanges | undefined> {
  const state = await readLatestPointer(s3, bucket);
  if (!state) return undefined;
  return (await readSnapshot(s3, bucket, state.pointer)).ranges;
}

/** Stores a verified version under its sync token. Rewriting it (a retry) stores the same bytes again. */
export async function storeSnapshot(s3: S3Like, bucket: string, loaded: LoadedIpRanges): Promise<string> {
  const key = snapshotKey(loaded.ranges.syncToken);
  await putObject(s3, {
    Bucket: bucket,
    Key: key,
    Body: loaded.bytes,
    ContentType: 'application/json',
    ContentMD5: contentMd5(loaded.md5),
    Metadata: { 'sync-token': loaded.ranges.syncToken, 'create-date': loaded.ranges.createDate, md5: loaded.md5 },
  });
  return key;
}

/**
 * Moves the pointer, as a compare-and-swap on the pointer object: `expected` is the ETag read before the work
 * started (undefined: there was no pointer). When someone else moved it in between, S3 answers 412 and this throws a
 * TransientError, so the invocation is retried and re-reads the pointer (and then usually finds its version stale).
 */
export async function writeLatestPointer(
  s3: S3Like,
  bucket: string,
  pointer: LatestPointer,
  expected: string | undefined,
): Promise<void> {
  const body = JSON.stringify(LatestPointer.parse(pointer));
  try {
    await putObject(s3, {
      Bucket: bucket,
      Key: LATEST_KEY,
      Body: body,
      ContentType: 'application/json',
      CacheControl: 'no-cache',
      ...(expected === undefined ? { IfNoneMatch: '*' } : { IfMatch: expected }),
    });
  } catch (err) {
    if (isPreconditionFailed(err)) {
      throw new TransientError(`s3://${bucket}/${LATEST_KEY} changed while version ${pointer.syncToken} was processed`, {
        cause: err,
      });
    }
    throw err;
  }
}
