import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../shared/alerts/notifier';
import { type ParameterGetter, parseSlackSecrets, ssmSlackSecretSource } from '../../shared/alerts/slack-secrets';
import { configFromYaml } from '../support/config';
import { ConfigError, TransientError } from '../../shared/core/errors';

const HOOK = 'https://hooks.slack.com/services/T0SECRET/B0SECRET/s3cr3tW3bh00k';

describe('Slack secret document', () => {
  it('a bare webhook URL is the "default" webhook', () => {
    expect(parseSlackSecrets(`  ${HOOK}\n`, 'ssm:/p')).toEqual({ webhooks: { default: HOOK } });
  });

  it('a JSON document names several webhooks and an optional bot token', () => {
    const doc = JSON.stringify({ webhooks: { security: HOOK, ops: `${HOOK}2` }, botToken: 'xoxb-1-2-abc' });
    expect(parseSlackSecrets(doc, 'ssm:/p')).toEqual({ webhooks: { security: HOOK, ops: `${HOOK}2` }, botToken: 'xoxb-1-2-abc' });
  });

  it.each([
    ['http://hooks.slack.com/services/T/B/s3cr3t', /neither a webhook URL/],
    ['s3cr3t-not-a-url', /neither a webhook URL/],
    ['{"webhooks": {"a": "ftp://s3cr3t"}}', /webhooks\.a: not an https URL/],
    ['{"webhooks": {}, "botToken": "s3cr3t"}', /botToken: not a Slack bot token/],
    ['{"webhook": "https://s3cr3t"}', /\(root\): unknown key/],
    ['{"webhooks": ', /not valid JSON/],
  ])('rejects %j without echoing it', (text, message) => {
    let err: unknown;
    try {
      parseSlackSecrets(text, 'ssm:/vigil/prod/slack');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain('ssm:/vigil/prod/slack');
    expect((err as Error).message).not.toContain('s3cr3t');
  });

  it('loopback http is allowed (local stand-ins for Slack)', () => {
    expect(parseSlackSecrets('http://127.0.0.1:8080/hook', 'x')).toEqual({ webhooks: { default: 'http://127.0.0.1:8080/hook' } });
  });
});

describe('SSM secret source', () => {
  const getter = (values: (string | Error)[]) => {
    const calls: { name: string; options: object }[] = [];
    const provider: ParameterGetter = {
      async get(name, options) {
        calls.push({ name, options });
        const v = values.shift();
        if (v instanceof Error) throw v;
        return v;
      },
    };
    return { provider, calls };
  };

  it('reads decrypted, with a cache age, and re-reads on refresh', async () => {
    const { provider, calls } = getter([HOOK, `${HOOK}-rotated`]);
    const source = ssmSlackSecretSource(provider, '/vigil/prod/slack', 300);
    expect(await source()).toEqual({ webhooks: { default: HOOK } });
    expect(await source({ refresh: true })).toEqual({ webhooks: { default: `${HOOK}-rotated` } });
    expect(calls).toEqual([
      { name: '/vigil/prod/slack', options: { decrypt: true, maxAge: 300, forceFetch: undefined } },
      { name: '/vigil/prod/slack', options: { decrypt: true, maxAge: 300, forceFetch: true } },
    ]);
  });

  it('a missing parameter is a configuration error; throttling is transient', async () => {
    const notFound = Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('x'), { name: 'ParameterNotFound' }) });
    const throttled = Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('x'), { name: 'ThrottlingException' }) });
    const { provider } = getter([notFound, throttled, '']);
    const source = ssmSlackSecretSource(provider, '/vigil/prod/slack');
    await expect(source()).rejects.toThrow(/ssm:\/vigil\/prod\/slack: the Slack secret parameter does not exist/);
    await expect(source()).rejects.toBeInstanceOf(TransientError);
    await expect(source()).rejects.toThrow(/is empty/);
  });
});

describe('channel → Slack target', () => {
  const config = configFromYaml(
    'notify: { channels: { security: {}, oncall: { webhook: pager }, ops: { channelId: C0123456789 } }, defaultChannels: [security] }',
    'c',
  ).notify;

  it('uses the webhook named by the channel (its own name by default), or the Web API with a bot token', () => {
    const secrets = { webhooks: { security: HOOK, pager: `${HOOK}p`, ops: `${HOOK}o` }, botToken: 'xoxb-1' };
    expect(resolveTarget('security', config, secrets)).toEqual({ kind: 'webhook', channel: 'security', url: HOOK });
    expect(resolveTarget('oncall', config, secrets)).toEqual({ kind: 'webhook', channel: 'oncall', url: `${HOOK}p` });
    expect(resolveTarget('ops', config, secrets)).toMatchObject({ kind: 'api', channelId: 'C0123456789', token: 'xoxb-1' });
    // Without the token the channel falls back to its webhook.
    expect(resolveTarget('ops', config, { webhooks: secrets.webhooks })).toMatchObject({ kind: 'webhook', url: `${HOOK}o` });
  });

  it('a single bare webhook serves a single-channel setup', () => {
    const single = configFromYaml('notify: { channels: { alerts: {} }, defaultChannels: [alerts] }', 'c').notify;
    expect(resolveTarget('alerts', single, { webhooks: { default: HOOK } })).toMatchObject({ url: HOOK });
  });

  it('a channel without credentials is a configuration error naming the channel and key, not a secret', () => {
    expect(() => resolveTarget('oncall', config, { webhooks: { security: HOOK } })).toThrow(
      'notify.channels.oncall: the Slack secret has no webhook "pager"',
    );
  });
});
