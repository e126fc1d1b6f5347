/**
 * Benchmark inputs: CloudTrail log files of a given uncompressed size, built from the real Stratus Red Team records
 * in ../shared/data (never copied into the repository) and written to bench/out/ (git-ignored).
 *
 * Records are drawn at random from the 310 real ones; each copy gets a fresh eventID and requestID and a time spread
 * over one day (so the off-hours rule sees both sides of the office hours), so alerts carry real counts, event ids
 * and first/last-seen spans. Actors, accounts, regions and source addresses stay those of the real records: a log
 * file belongs to one trail, and its distinct principals and sources are few (which is what lets matches of one
 * incident dedup into one alert). The Stratus records are all attack detonations, so nearly every record matches
 * some rule: a pessimistic input for the engine, where a real log is mostly routine reads.
 * A generated file is reused while its recipe (size, seed, generator version, source files) is unchanged.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { type Log, outDir, sharedDataDir } from './lib';

const GENERATOR_VERSION = 3;
export const stratusDir = path.join(sharedDataDir, 'cloudtrail', 'stratus');
export const ipRangesFile = path.join(sharedDataDir, 'ip-ranges', 'ip-ranges-2026-08-22-15-17-05.json');

export const BENCH_ACCOUNT = '111122223333';
export const BENCH_REGION = 'eu-central-1';

export interface GeneratedLog {
  /** Absolute path of the .json.gz file. */
  file: string;
  /** An S3-style CloudTrail key for the file (AWSLogs/<account>/CloudTrail/…), as the Lambda would see it. */
  key: string;
  /** Uncompressed size in bytes. */
  bytes: number;
  gzipBytes: number;
  records: number;
  /** Distinct real records the file was built from. */
  sourceRecords: number;
  seed: number;
}

interface Recipe {
  version: number;
  targetBytes: number;
  seed: number;
  sources: string;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').slice(-width);

/** A version-4 UUID from the seeded generator (reproducible files, unlike randomUUID). */
function uuid(next: () => number): string {
  const a = next();
  const b = next();
  const c = next();
  const d = next();
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b & 0xfff, 3)}-${hex(0x8000 | (c & 0x3fff), 4)}-${hex(c >>> 16, 4)}${hex(d, 8)}`;
}

type RawRecord = Record<string, unknown>;

/** The real records: every JSON array element of every Stratus detonation file, in file-name order. */
export function loadStratusRecords(): RawRecord[] {
  const files = readdirSync(stratusDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.flatMap((f) => {
    const value = JSON.parse(readFileSync(path.join(stratusDir, f), 'utf8')) as unknown;
    return (Array.isArray(value) ? value : []).filter((r): r is RawRecord => typeof r === 'object' && r !== null && !Array.isArray(r));
  });
}

function sourcesFingerprint(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(stratusDir).sort()) h.update(`${f}:${statSync(path.join(stratusDir, f)).size}\n`);
  return h.digest('hex').slice(0, 16);
}

/**
 * Writes (or reuses) `bench/out/logs/<name>.json.gz`: `{"Records":[…]}` of at least `targetBytes` uncompressed
 * bytes, gzip level 6 as CloudTrail delivers it.
 */
export async function generateLog(options: { name: string; targetBytes: number; seed?: number; log?: Log }): Promise<GeneratedLog> {
  const seed = options.seed ?? 9;
  const log = options.log ?? (() => {});
  const dir = path.join(outDir, 'logs');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${options.name}.json.gz`);
  const metaFile = path.join(dir, `${options.name}.meta.json`);
  const recipe: Recipe = { version: GENERATOR_VERSION, targetBytes: options.targetBytes, seed, sources: sourcesFingerprint() };
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { recipe: Recipe; result: GeneratedLog };
    if (JSON.stringify(meta.recipe) === JSON.stringify(recipe) && statSync(file).size === meta.result.gzipBytes) {
      return { ...meta.result, file };
    }
  }

  const records = loadStratusRecords();
  const next = rng(seed);
  const avg = records.reduce((a, r) => a + JSON.stringify(r).length, 0) / records.length;
  const estimated = Math.max(1, Math.round(options.targetBytes / avg));
  const dayStart = Date.parse('2025-03-12T00:00:00Z');
  const step = 86_400_000 / estimated;

  log(`generating ${options.name} (${(options.targetBytes / 1e6).toFixed(0)} MB uncompressed, ~${estimated.toLocaleString('en')} records) …`);
  const tmp = `${file}.${randomUUID()}.tmp`;
  const gzip = createGzip({ level: 6 });
  const out = createWriteStream(tmp);
  gzip.pipe(out);
  const write = async (text: string) => {
    if (!gzip.write(text)) await once(gzip, 'drain');
  };

  let bytes = 0;
  let count = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  const head = '{"Records":[';
  await write(head);
  bytes += head.length;
  while (bytes < options.targetBytes) {
    const base = records[next() % records.length]!;
    const record: RawRecord = { ...base, eventID: uuid(next), eventTime: new Date(dayStart + Math.floor(count * step)).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    if (typeof base.requestID === 'string') record.requestID = uuid(next);
    const text = JSON.stringify(record);
    const piece = count === 0 ? text : `,${text}`;
    batch.push(piece);
    batchBytes += Buffer.byteLength(piece);
    bytes += Buffer.byteLength(piece);
    count++;
    if (batchBytes >= 1 << 20) {
      await write(batch.join(''));
      batch = [];
      batchBytes = 0;
    }
  }
  batch.push(']}');
  bytes += 2;
  await write(batch.join(''));
  gzip.end();
  await once(out, 'close');
  renameSync(tmp, file);

  const result: GeneratedLog = {
    file,
    key: `AWSLogs/${BENCH_ACCOUNT}/CloudTrail/${BENCH_REGION}/2025/03/12/${BENCH_ACCOUNT}_CloudTrail_${BENCH_REGION}_20250312T0000Z_${options.name.replace(/[^A-Za-z0-9]/g, '')}.json.gz`,
    bytes,
    gzipBytes: statSync(file).size,
    records: count,
    sourceRecords: records.length,
    seed,
  };
  writeFileSync(metaFile, `${JSON.stringify({ recipe, result }, null, 2)}\n`);
  log(`  ${count.toLocaleString('en')} records, ${(bytes / 1e6).toFixed(1)} MB → ${(result.gzipBytes / 1e6).toFixed(1)} MB gzip`);
  return result;
}
