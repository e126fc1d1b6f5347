import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../core/errors';
import { parseConfig } from './load';
import type { VigilConfig } from './schema';

/**
 * Reads the vigil configuration document from an SSM parameter, cached for `maxAgeSeconds` across warm invocations
 * (Powertools caches the text; we cache the parsed result keyed by that text so a warm start parses nothing).
 */
export function ssmConfigSource(ssm: SSMClient, parameterName: string, maxAgeSeconds = 300) {
  const provider = new SSMProvider({ awsSdkV3Client: ssm });
  let parsed: { text: string; config: VigilConfig } | undefined;
  return async (): Promise<VigilConfig> => {
    let text: string | undefined;
    try {
      text = await provider.get(parameterName, { maxAge: maxAgeSeconds, decrypt: true });
    } catch (cause) {
      throw new ConfigError(`cannot read configuration parameter ${parameterName}`, { cause });
    }
    if (text === undefined) throw new ConfigError(`configuration parameter ${parameterName} is empty`);
    if (parsed?.text !== text) parsed = { text, config: parseConfig(text, `ssm:${parameterName}`) };
    return parsed.config;
  };
}
