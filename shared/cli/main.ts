import { Command, CommanderError } from 'commander';
import { ConfigError, IntegrityError, PreconditionError, TransientError, ValidationError, describeError } from '../core/errors';
import { commands } from './commands';
import { type CliIo, type CommandModule, ExitCode, processIo } from './io';

export function buildProgram(io: CliIo, setExit: (code: number) => void, modules: readonly CommandModule[] = commands): Command {
  const program = new Command('vigil')
    .description('Watch AWS accounts: IP-space changes, CloudTrail detections, online LVM volume migration.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
    })
    .exitOverride();
  for (const register of modules) register(program, io, setExit);
  return program;
}

/**
 * Runs the CLI and returns its exit code (never calls process.exit, so it is testable in-process). Tests may pass
 * command modules built around fake clients instead of the real ones.
 */
export async function main(argv: string[], io: CliIo = processIo(), modules: readonly CommandModule[] = commands): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(
    io,
    (code) => {
      exitCode = Math.max(exitCode, code);
    },
    modules,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors with 1 → we use 2 (bad input).
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.inputError;
    }
    if (
      err instanceof ValidationError ||
      err instanceof ConfigError ||
      err instanceof IntegrityError ||
      err instanceof PreconditionError ||
      err instanceof TransientError
    ) {
      io.stderr.write(`vigil: error: ${describeError(err)}\n`);
      return ExitCode.inputError;
    }
    io.stderr.write(`vigil: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.inputError;
  }
}
