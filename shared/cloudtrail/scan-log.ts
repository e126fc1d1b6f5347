import type { Readable } from 'node:stream';
import type { Alert } from '../alerts/schema';
import type { Logger } from '../core/deps';
import { VigilError, describeError } from '../core/errors';
import type { Engine, EvalStats } from '../rules/engine/engine';
import { type ReadLimits, type ReadStats, emptyReadStats, readCloudTrailLog } from './reader';

export interface LogScan {
  /** The S3 key or the file path. */
  key: string;
  bucket?: string;
  alerts: Alert[];
  read: ReadStats;
  evaluation: EvalStats;
  /** Set when the file failed part-way; `alerts` then holds what the records read before the failure raised. */
  error?: VigilError;
  durationMs: number;
}

export interface ScanLogOptions {
  key: string;
  bucket?: string;
  /** The account from the key (AWSLogs/<account>/…), used when a record names none. */
  account?: string;
  limits?: Partial<ReadLimits>;
  logger: Pick<Logger, 'warn'>;
  onProgress?: (read: Readonly<ReadStats>) => void;
}

/**
 * One log file through the reader and the engine: the shared core of the Lambda and `vigil scan`. Never throws for
 * a bad file: a failure is returned in `error`, together with the alerts of the records read before it — a
 * truncated log that contains a StopLogging still reports it, and the caller still fails the file.
 */
export async function scanLog(engine: Engine, body: AsyncIterable<Uint8Array> | Readable, options: ScanLogOptions): Promise<LogScan> {
  const started = performance.now();
  const run = engine.beginFile({
    key: options.key,
    ...(options.bucket !== undefined ? { bucket: options.bucket } : {}),
    ...(options.account !== undefined ? { account: options.account } : {}),
  });
  const name = options.bucket !== undefined ? `s3://${options.bucket}/${options.key}` : options.key;
  const read = emptyReadStats();
  let error: VigilError | undefined;
  let skippedLogged = false;
  try {
    await readCloudTrailLog(body, {
      name,
      stats: read,
      ...(options.limits ? { limits: options.limits } : {}),
      onRecord: (record) => run.evaluate(record),
      onSkipped: (reason, index) => {
        // One line per file, with the first position: enough to find the records, never a flood.
        if (!skippedLogged) {
          skippedLogged = true;
          options.logger.warn('skipping records that are not CloudTrail records (counted, see stats)', {
            key: name,
            reason,
            firstIndex: index,
          });
        }
      },
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (err) {
    error = err instanceof VigilError ? err : new VigilError(describeError(err), { cause: err });
  }
  const { alerts, stats } = run.finish();
  return {
    key: options.key,
    ...(options.bucket !== undefined ? { bucket: options.bucket } : {}),
    alerts,
    read,
    evaluation: stats,
    ...(error ? { error } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}
