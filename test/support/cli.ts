import { Readable, Writable } from 'node:stream';
import type { CliIo, CommandModule } from '../../shared/cli/io';
import { main } from '../../shared/cli/main';
import { type Fetch, systemClock } from '../../shared/core/deps';
import { repoRoot } from './shared-data';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory (default: the repository). */
  cwd?: string;
  /** Standard input. */
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  /** HTTP for commands that post (default: refuses: no network in tests). */
  fetch?: Fetch;
  /** Command modules built around fake clients, instead of the real ones. */
  modules?: readonly CommandModule[];
}

const sink = (chunks: string[]): Writable =>
  new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });

/** Runs `vigil <argv>` in-process, as bin/vigil.mjs does, with captured output. */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    env: options.env ?? {},
    cwd: options.cwd ?? repoRoot,
    clock: systemClock,
    fetch: options.fetch ?? (() => Promise.reject(new Error('no network in tests'))),
  };
  const code = await main(argv, io, options.modules);
  return { code, stdout: out.join(''), stderr: err.join('') };
}
