import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { CloudTrailRecord } from '../../shared/cloudtrail/record';
import { cloudtrailDir } from '../support/shared-data';

/** Every record of the 35 Stratus Red Team detonation logs (../shared/data/cloudtrail/stratus), per technique. */
export function stratusRecords(): Map<string, CloudTrailRecord[]> {
  const dir = cloudtrailDir('stratus');
  const out = new Map<string, CloudTrailRecord[]>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    out.set(file.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CloudTrailRecord[]);
  }
  return out;
}

export const allStratusRecords = (): CloudTrailRecord[] => [...stratusRecords().values()].flat();

/** Feeds `bytes` as chunks of the given sizes (cycled): exercises every chunk boundary the reader can meet. */
export function chunked(bytes: Uint8Array, sizes: readonly number[]): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    chunks.push(Buffer.from(bytes.subarray(i, i + n)));
    i += n;
  }
  return Readable.from(chunks);
}

/** A small deterministic PRNG, so fuzz-style tests are reproducible. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
