import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors';
import { validateConfig } from './parse';
import type { VigilConfig } from './schema';

/**
 * YAML or JSON text (JSON is YAML) as a validated configuration: what people write (`--config FILE`, and
 * `VIGIL_CONFIG_FILE` for local runs of the functions). JSON is tried first; the YAML parser is imported only for a
 * document that is not JSON, never with this module, so the Lambda bundles can leave it out (serverless.yml
 * `custom.esbuild.exclude`): deployed functions read JSON from SSM (shared/config/parse.ts).
 */
export async function parseConfig(text: string, origin: string): Promise<VigilConfig> {
  return (await readConfigDocument(text, origin)).config;
}

/** The document as written (for `vigil config push`, which stores exactly that as JSON) and its validated form. */
export async function readConfigDocument(text: string, origin: string): Promise<{ document: unknown; config: VigilConfig }> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    const { parse } = await import('yaml');
    try {
      document = parse(text, { prettyErrors: true, maxAliasCount: 100 });
    } catch (cause) {
      throw new ConfigError(`${origin}: not valid YAML/JSON: ${(cause as Error).message}`, { cause });
    }
  }
  return { document: document ?? {}, config: validateConfig(document, origin) };
}

/** A configuration file as written and validated. */
export async function readConfigFile(path: string): Promise<{ document: unknown; config: VigilConfig }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read configuration ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause}`, {
      cause,
    });
  }
  return readConfigDocument(text, path);
}

export async function loadConfigFile(path: string): Promise<VigilConfig> {
  return (await readConfigFile(path)).config;
}
