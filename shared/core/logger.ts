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
