import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { type S3Like, parseS3Uri } from '../aws/s3';
import type { Clock, Fetch, Logger } from '../core/deps';
import { ValidationError, describeError } from '../core/errors';
import { AWS_IP_RANGES_URL, type LoadedIpRanges, fetchIpRanges, loadIpRangesFile, loadIpRangesS3, parseIpRangesBytes } from './load';
import { readLatestPointer, readSnapshot } from './store';

/**
 * Where the CLI gets ip-ranges.json: a file, a URL (https, or s3://bucket/key, or s3://bucket for the newest snapshot
 * the Lambda stored), or by default AWS's URL through a local cache ($XDG_CACHE_HOME/vigil or ~/.cache/vigil) that
 * is refreshed when older than a day. Offline with a stale cache, the cache is used with a warning; offline with
 * none, the error says how to go on (--file).
 */

export const CACHE_MAX_AGE_MS = 24 * 3600 * 1000;

export interface SourceDeps {
  fetch: Fetch;
  clock: Clock;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Created on first use, only for s3:// sources. */
  s3: () => S3Like;
}

export interface SourceOptions {
  file?: string | undefined;
  url?: string | undefined;
  refresh?: boolean | undefined;
  md5?: string | undefined;
}

export const cacheDir = (env: NodeJS.ProcessEnv): string =>
  env.XDG_CACHE_HOME ? path.join(env.XDG_CACHE_HOME, 'vigil') : path.join(env.HOME || homedir(), '.cache', 'vigil');

interface CacheMeta {
  url: string;
  fetchedAt: string;
  etag?: string;
  md5: string;
}

/** One argument of `diff OLD NEW` (or --file/--url): a path, an http(s) URL or an s3:// URI. */
export async function loadSource(spec: string, deps: SourceDeps, md5?: string): Promise<LoadedIpRanges> {
  if (spec.startsWith('s3://')) {
    const { bucket, key } = parseS3Uri(spec);
    const s3 = deps.s3();
    if (key === '' || key.endsWith('/')) {
      const state = await readLatestPointer(s3, bucket);
      if (!state) throw new ValidationError(`no ip-ranges snapshot stored in s3://${bucket}/ yet (no ip-ranges/latest.json)`);
      const loaded = await readSnapshot(s3, bucket, state.pointer);
      return md5 ? parseIpRangesBytes(loaded.bytes, loaded.origin, { expectedMd5: md5 }) : loaded;
    }
    const loaded = await loadIpRangesS3(s3, bucket, key, md5);
    if (!loaded) throw new ValidationError(`no such object: ${spec}`);
    return loaded;
  }
  if (/^https?:\/\//i.test(spec)) {
    const fetched = await fetchIpRanges(deps.fetch, spec, { expectedMd5: md5 });
    return fetched.loaded as LoadedIpRanges;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new ValidationError(`unsupported source ${JSON.stringify(spec)}: use a file path, an https:// URL or s3://bucket/key`);
  }
  return loadIpRangesFile(path.resolve(deps.cwd, spec), md5);
}

export async function resolveSource(options: SourceOptions, deps: SourceDeps): Promise<LoadedIpRanges> {
  if (options.file && options.url) throw new ValidationError('use either --file or --url, not both');
  if (options.file) return loadSource(options.file, deps, options.md5);
  if (options.url) return loadSource(options.url, deps, options.md5);
  return loadCached(deps, options);
}

async function loadCached(deps: SourceDeps, options: SourceOptions): Promise<LoadedIpRanges> {
  const dir = cacheDir(deps.env);
  const dataFile = path.join(dir, 'ip-ranges.json');
  const metaFile = path.join(dir, 'ip-ranges.meta.json');
  let cached: { loaded: LoadedIpRanges; meta: CacheMeta } | undefined;
  try {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as CacheMeta;
    const loaded = parseIpRangesBytes(await readFile(dataFile), dataFile, { expectedMd5: meta.md5 });
    cached = { loaded, meta };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      deps.logger.warn(`ignoring the cached ip-ranges in ${dir}: ${describeError(err)}`);
    }
  }
  const now = deps.clock.now().getTime();
  const ageMs = cached ? now - Date.parse(cached.meta.fetchedAt) : Infinity;
  if (cached && !options.refresh && ageMs >= 0 && ageMs < CACHE_MAX_AGE_MS) {
    return verify(cached.loaded, options.md5);
  }

  deps.logger.info(`downloading ${AWS_IP_RANGES_URL}`);
  let fetched;
  try {
    fetched = await fetchIpRanges(deps.fetch, AWS_IP_RANGES_URL, { ifNoneMatch: cached && !options.refresh ? cached.meta.etag : undefined });
  } catch (err) {
    if (cached) {
      deps.logger.warn(
        `cannot refresh ip-ranges (${describeError(err)}); using the cached copy downloaded ${Math.floor(ageMs / 86_400_000)} day(s) ago`,
      );
      return verify(cached.loaded, options.md5);
    }
    throw new ValidationError(
      `cannot download ${AWS_IP_RANGES_URL} (${describeError(err)}) and there is no cached copy in ${dir}; ` +
        'use --file PATH to read a local ip-ranges.json',
      { cause: err },
    );
  }
  const meta: CacheMeta = {
    url: AWS_IP_RANGES_URL,
    fetchedAt: deps.clock.now().toISOString(),
    ...(fetched.etag ? { etag: fetched.etag } : {}),
    md5: fetched.loaded?.md5 ?? cached?.meta.md5 ?? '',
  };
  const loaded = fetched.notModified && cached ? cached.loaded : fetched.loaded;
  if (!loaded) throw new ValidationError(`${AWS_IP_RANGES_URL} answered 304 Not Modified without a cached copy`);
  try {
    await mkdir(dir, { recursive: true });
    if (!fetched.notModified) await atomicWrite(dataFile, loaded.bytes);
    await atomicWrite(metaFile, JSON.stringify(meta, null, 2));
  } catch (err) {
    deps.logger.warn(`cannot write the ip-ranges cache in ${dir}: ${describeError(err)}`);
  }
  return verify(loaded, options.md5);
}

function verify(loaded: LoadedIpRanges, md5: string | undefined): LoadedIpRanges {
  return md5 ? parseIpRangesBytes(loaded.bytes, loaded.origin, { expectedMd5: md5 }) : loaded;
}

/** Write-then-rename, so a concurrent reader or a crash never sees half a file. */
async function atomicWrite(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}
