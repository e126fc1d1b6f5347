import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '../core/deps';
import { causedBy, ConfigError } from '../core/errors';
import { defaultConfig, parseConfigJson } from './parse';
import type { VigilConfig } from './schema';

export interface SsmConfigOptions {
  /** How long a warm container reuses the parameter's text before reading it again. */
  maxAgeSeconds?: number;
  /**
   * A parameter that does not exist yet is a normal first deployment: with a logger, vigil warns and runs on the
   * defaults (every rule that needs no configuration, every IP-space change watched); without one it is an error.
   */
  defaultsWhenMissing?: Logger;
}

/**
 * Reads the vigil configuration document from an SSM parameter, cached for `maxAgeSeconds` across warm invocations
 * (Powertools caches the text; we cache the parsed result keyed by that text so a warm start parses nothing).
 */
export function ssmConfigSource(ssm: SSMClient, parameterName: string, options: SsmConfigOptions = {}) {
  const provider = new SSMProvider({ awsSdkV3Client: ssm });
  const { maxAgeSeconds = 300, defaultsWhenMissing: logger } = options;
  let parsed: { text: string; config: VigilConfig } | undefined;
  return async (): Promise<VigilConfig> => {
    let text: string | undefined;
    try {
      text = await provider.get(parameterName, { maxAge: maxAgeSeconds, decrypt: true });
    } catch (cause) {
      // Powertools wraps the SDK's ParameterNotFound in its GetParameterError: look down the cause chain.
      if (logger && causedBy(cause, 'ParameterNotFound')) {
        logger.warn('configuration parameter not found; using the default configuration', { parameter: parameterName });
        return defaultConfig();
      }
      throw new ConfigError(`cannot read configuration parameter ${parameterName}`, { cause });
    }
    if (text === undefined) throw new ConfigError(`configuration parameter ${parameterName} is empty`);
    if (parsed?.text !== text) parsed = { text, config: parseConfigJson(text, `ssm:${parameterName}`) };
    return parsed.config;
  };
}
