import type { z } from 'zod';
import { ConfigError } from '../core/errors';
import { VigilConfig } from './schema';

/**
 * Validating a configuration document, without a YAML parser: what the deployed functions need. They read the
 * document from SSM as JSON (`vigil config push` converts and validates it; shared/cli/config.ts), so their bundles
 * carry no YAML parser (~120 KB and ~13 ms of module init, bench/README.md). YAML is read by shared/config/load.ts.
 */

/** "detection.officeHours.timezone: Invalid …" — the field path first, so people find the line to fix. */
export function formatZodIssues(error: z.ZodError, max = 5): string {
  const lines = error.issues.slice(0, max).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${where}: ${issue.message}`;
  });
  if (error.issues.length > max) lines.push(`… and ${error.issues.length - max} more`);
  return lines.join('; ');
}

/** A parsed document (any value) as a validated configuration; `origin` names it in the error. */
export function validateConfig(raw: unknown, origin: string): VigilConfig {
  const result = VigilConfig.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(`${origin}: invalid configuration: ${formatZodIssues(result.error)}`);
  return result.data;
}

/** JSON text as a validated configuration. Text that is not JSON (e.g. YAML stored by hand) is a ConfigError. */
export function parseConfigJson(text: string, origin: string): VigilConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(
      `${origin}: not a JSON document (${(cause as Error).message}); the deployed functions read JSON: store the configuration ` +
        'with `vigil config push FILE --stage STAGE`, which validates a YAML or JSON file and stores it as JSON',
      { cause },
    );
  }
  return validateConfig(raw, origin);
}

export const defaultConfig = (): VigilConfig => VigilConfig.parse({});
