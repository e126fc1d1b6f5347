import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { ValidationError } from '../core/errors';

export type S3Like = Pick<S3Client, 'send'>;

/**
 * One S3 client per process; created by the composition root (handler or CLI), never by domain code.
 * `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`) points it at a local emulator such as s3rver for local runs
 * (`serverless invoke local`, the CLI against a test bucket): emulators need path-style addressing and predate the
 * SDK's default CRC checksums, so both are adjusted only then.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env, region = env.AWS_REGION): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint
      ? {
          endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
  });
}

/** True for "the object (or bucket) is not there" in its several spellings across S3 and emulators. */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

/** True when a conditional write (If-Match / If-None-Match) lost a race: someone else wrote first. */
export function isPreconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return (
    e?.name === 'PreconditionFailed' ||
    e?.name === 'ConditionalRequestConflict' ||
    e?.$metadata?.httpStatusCode === 412 ||
    e?.$metadata?.httpStatusCode === 409
  );
}

export interface S3Object {
  bytes: Uint8Array;
  etag: string | undefined;
}

/** The object's bytes and ETag, or undefined when it does not exist. */
export async function getObject(s3: S3Like, bucket: string, key: string): Promise<S3Object | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) return { bytes: new Uint8Array(), etag: out.ETag };
    return { bytes: await out.Body.transformToByteArray(), etag: out.ETag };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Content-MD5 header value (base64 of the raw digest) for a hex md5, so S3 rejects bytes damaged on the way. */
export const contentMd5 = (md5Hex: string): string => Buffer.from(md5Hex, 'hex').toString('base64');

export async function putObject(
  s3: S3Like,
  input: Omit<PutObjectCommandInput, 'Body'> & { Body: Uint8Array | string },
): Promise<string | undefined> {
  const out = await s3.send(new PutObjectCommand(input));
  return out.ETag;
}

/** `s3://bucket/key` → { bucket, key }; the key may be empty (`s3://bucket` or `s3://bucket/`). */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!m) throw new ValidationError(`invalid S3 URI ${JSON.stringify(uri)}: expected s3://bucket/key`);
  return { bucket: m[1] as string, key: m[2] ?? '' };
}
