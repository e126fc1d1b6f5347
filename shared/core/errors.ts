/**
 * The few named errors of vigil. Their `name` is part of the contract: Step Functions `Retry`/`Catch` blocks and
 * the SQS batch handlers branch on it, so never rename one without changing serverless.yml and the state machines.
 *
 * - ValidationError: the input is wrong and retrying cannot help (bad JSON, schema violation, invalid IP, refused
 *   plan). CLI exit code 2; in a queue it goes to the DLQ after the bounded retries.
 * - IntegrityError: the bytes are not what they claim to be (md5 mismatch, truncated or corrupt download, gzip bomb).
 *   A fresh download may succeed, so Lambda callers let it retry.
 * - ConfigError: vigil's own configuration is invalid or missing; the message names the field.
 * - TransientError: a dependency is unavailable or throttled; retry with backoff.
 * - PreconditionError: the world is not in a state where the action is safe (instance not running, volume in use,
 *   another migration on the same instance). Never retried automatically.
 */
export class VigilError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends VigilError {}
export class IntegrityError extends VigilError {}
export class ConfigError extends VigilError {}
export class TransientError extends VigilError {}
export class PreconditionError extends VigilError {}

export const errorNames = [
  'ValidationError',
  'IntegrityError',
  'ConfigError',
  'TransientError',
  'PreconditionError',
] as const;

/** A message for people: the error's own message plus its causes, without stack traces. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      if (!parts.some((p) => p.includes(current instanceof Error ? current.message : ''))) parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ');
}

/** Whether the error or one of its causes is named `name` (Powertools wraps SDK errors, e.g. ParameterNotFound). */
export function causedBy(err: unknown, name: string): boolean {
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current.name === name) return true;
  }
  return false;
}

/** An environment variable a deployed function cannot run without. */
export function requiredEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}
