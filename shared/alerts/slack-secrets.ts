import { z } from 'zod';
import { ConfigError, TransientError } from '../core/errors';

/**
 * The Slack secrets of a deployment: one SSM SecureString (one IAM grant, one KMS decrypt, one cached read) holding
 * either a bare incoming-webhook URL (one channel, named `default`), or a JSON document:
 *
 *   {"webhooks": {"security": "https://hooks.slack.com/services/…", "ops": "https://hooks.slack.com/services/…"},
 *    "botToken": "xoxb-…"}
 *
 * Channels in the notify configuration refer to the keys of `webhooks`. Nothing here ever echoes a value: parse
 * errors name the key and the rule broken, never the text.
 */

const isLoopback = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '[::1]';

/** https only — except loopback, which is how tests and local runs stand in for Slack. */
export const WebhookUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopback(u.hostname));
    } catch {
      return false;
    }
  },
  { message: 'not an https URL', abort: true },
);

export const SlackSecretDocument = z.strictObject({
  webhooks: z.record(z.string().min(1), WebhookUrl).default({}),
  botToken: z
    .string()
    .regex(/^xox[bp]-[A-Za-z0-9-]+$/, { message: 'not a Slack bot token (xoxb-…)' })
    .optional(),
});

export interface SlackSecrets {
  webhooks: Record<string, string>;
  botToken?: string;
}

/** Parses the parameter's value; `origin` names it in errors ("ssm:/vigil/prod/slack"). */
export function parseSlackSecrets(text: string, origin: string): SlackSecrets {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    if (WebhookUrl.safeParse(trimmed).success) return { webhooks: { default: trimmed } };
    throw new ConfigError(`${origin}: neither a webhook URL (https://hooks.slack.com/…) nor a JSON secret document`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    throw new ConfigError(`${origin}: the secret document is not valid JSON`);
  }
  const result = SlackSecretDocument.safeParse(raw);
  if (!result.success) {
    // Paths and messages only; zod's messages here never include the input value.
    const problems = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.code === 'unrecognized_keys' ? 'unknown key' : i.message}`);
    throw new ConfigError(`${origin}: invalid secret document: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Returns the current secrets; `refresh` bypasses the cache (after Slack says a webhook or token is revoked). */
export type SlackSecretSource = (options?: { refresh?: boolean }) => Promise<SlackSecrets>;

/** The slice of Powertools' SSMProvider we use (injectable in tests). */
export interface ParameterGetter {
  get(name: string, options: { decrypt: boolean; maxAge: number; forceFetch?: boolean }): Promise<string | undefined>;
}

/**
 * Reads the secret through Powertools parameters: cached for `maxAgeSeconds` across warm invocations, decrypted by
 * SSM. A rotated webhook takes effect within that time, or at once after Slack rejects the old one.
 */
export function ssmSlackSecretSource(provider: ParameterGetter, parameterName: string, maxAgeSeconds = 300): SlackSecretSource {
  const origin = `ssm:${parameterName}`;
  let cached: { text: string; secrets: SlackSecrets } | undefined;
  return async (options = {}) => {
    let text: string | undefined;
    try {
      text = await provider.get(parameterName, { decrypt: true, maxAge: maxAgeSeconds, forceFetch: options.refresh });
    } catch (cause) {
      const name = (cause as { name?: string; cause?: { name?: string } })?.cause?.name ?? (cause as Error)?.name;
      if (name === 'ParameterNotFound') throw new ConfigError(`${origin}: the Slack secret parameter does not exist`);
      if (name === 'AccessDeniedException') throw new ConfigError(`${origin}: no permission to read the Slack secret`);
      // Throttling, network: the record goes back to the queue. The cause is an SDK error (no secret in it).
      throw new TransientError(`${origin}: cannot read the Slack secret (${name ?? 'error'})`, { cause });
    }
    if (text === undefined || text.trim() === '') throw new ConfigError(`${origin}: the Slack secret is empty`);
    if (cached?.text !== text) cached = { text, secrets: parseSlackSecrets(text, origin) };
    return cached.secrets;
  };
}

/** A fixed secret (the CLI's --webhook). */
export const staticSlackSecrets =
  (secrets: SlackSecrets): SlackSecretSource =>
  async () =>
    secrets;
