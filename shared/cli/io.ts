import type { Command } from 'commander';
import type { Readable, Writable } from 'node:stream';
import type { Clock, Fetch } from '../core/deps';
import { systemClock } from '../core/deps';

/** Everything the CLI touches outside itself, so tests run commands in-process with captured streams. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  clock: Clock;
  fetch: Fetch;
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  clock: systemClock,
  fetch: globalThis.fetch,
});

/** Exit codes shared by every command. */
export const ExitCode = { ok: 0, findings: 1, inputError: 2 } as const;

/**
 * A subcommand module: adds its commands to the program. Actions report their exit code through `setExit`
 * (the highest code reported wins) and throw the named errors for bad input (→ exit 2 with a clear message).
 */
export type CommandModule = (program: Command, io: CliIo, setExit: (code: number) => void) => void;
