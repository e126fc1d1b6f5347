import { parse } from 'yaml';
import { validateConfig } from '../../shared/config/parse';
import type { VigilConfig } from '../../shared/config/schema';

/**
 * A YAML (or JSON) configuration document, validated as vigil validates it: shared/config/load.ts's `parseConfig`
 * without its lazy import of the YAML parser, so tests can build configurations synchronously. load.ts itself is
 * tested in test/config/load.test.ts.
 */
export function configFromYaml(text: string, origin = 'test.yaml'): VigilConfig {
  return validateConfig(parse(text, { maxAliasCount: 100 }), origin);
}
