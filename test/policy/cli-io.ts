import { Readable, Writable } from 'node:stream';
import type { CliIo } from '../../shared/cli/io';
import { main } from '../../shared/cli/main';
import { systemClock } from '../../shared/core/deps';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const sink = (chunks: string[]): Writable =>
  new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });

/** Runs `vigil <argv>` in-process with captured output, in `cwd`, with `stdin` as standard input. */
export async function runCli(argv: string[], cwd: string, stdin = ''): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from([Buffer.from(stdin)]),
    env: {},
    cwd,
    clock: systemClock,
    fetch: () => Promise.reject(new Error('no network in tests')),
  };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}
