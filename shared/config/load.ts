import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors';
import { VigilConfig } from './schema';

/** "detection.officeHours.timezone: Invalid …" — the field path first, so people find the line to fix. */
export function formatZodIssues(error: z.ZodError, max = 5): string {
  const lines = error.issues.slice(0, max).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${where}: ${issue.message}`;
  });
  if (error.issues.length > max) lines.push(`… and ${error.issues.length - max} more`);
  return lines.join('; ');
}

/** Parses YAML or JSON text (JSON is YAML) into a validated configuration. */
export function parseConfig(text: string, origin: string): VigilConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, maxAliasCount: 100 }) ?? {};
  } catch (cause) {
    throw new ConfigError(`${origin}: not valid YAML/JSON: ${(cause as Error).message}`, { cause });
  }
  const result = VigilConfig.safeParse(raw);
  if (!result.success) throw new ConfigError(`${origin}: invalid configuration: ${formatZodIssues(result.error)}`);
  return result.data;
}

export async function loadConfigFile(path: string): Promise<VigilConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read configuration ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause}`, {
      cause,
    });
  }
  return parseConfig(text, path);
}

export const defaultConfig = (): VigilConfig => VigilConfig.parse({});
