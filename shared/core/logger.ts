import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from './deps';

/** Structured JSON logs for Lambda (service name and level from POWERTOOLS_* environment variables). */
export function lambdaLogger(serviceName: string): PowertoolsLogger {
  return new PowertoolsLogger({ serviceName });
}

const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
export type CliLogLevel = keyof typeof levels;

/**
 * Human-readable logs on stderr for the CLI: stdout carries only results, so `vigil … --format json | jq` works.
 */
export function cliLogger(level: CliLogLevel = 'warn', stream: NodeJS.WritableStream = process.stderr): Logger {
  const threshold = levels[level];
  const write = (lvl: Exclude<CliLogLevel, 'silent'>, message: string, extra?: Record<string, unknown> | Error) => {
    if (levels[lvl] < threshold) return;
    let suffix = '';
    if (extra instanceof Error) suffix = `: ${extra.message}`;
    else if (extra && Object.keys(extra).length > 0) suffix = ` ${JSON.stringify(extra)}`;
    stream.write(`vigil: ${lvl === 'info' ? '' : `${lvl}: `}${message}${suffix}\n`);
  };
  return {
    debug: (m, e) => write('debug', m, e),
    info: (m, e) => write('info', m, e),
    warn: (m, e) => write('warn', m, e),
    error: (m, e) => write('error', m, e),
  };
}

/** vigil's `Logger` plus Powertools' `addContext`, for handlers that tag their logs with the Lambda context. */
export type LambdaLogger = Logger & { addContext: PowertoolsLogger['addContext'] };

/**
 * vigil's `Logger` on top of Powertools'. Powertools' extra arguments are a rest tuple, which TypeScript does not
 * match to our single optional argument; the structured keys still come out as top-level JSON fields.
 */
export function asVigilLogger(pt: PowertoolsLogger): LambdaLogger {
  type Extra = Record<string, unknown> | Error | undefined;
  const call = (fn: (message: string, ...rest: never[]) => void, message: string, extra: Extra) =>
    extra === undefined ? fn.call(pt, message) : fn.call(pt, message, extra as never);
  return {
    debug: (m, e) => call(pt.debug, m, e),
    info: (m, e) => call(pt.info, m, e),
    warn: (m, e) => call(pt.warn, m, e),
    error: (m, e) => call(pt.error, m, e),
    addContext: (context) => pt.addContext(context),
  };
}
