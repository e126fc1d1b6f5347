import { describe, expect, it } from 'vitest';
import { routeAlert } from '../../shared/alerts/routing';
import { displayOptions } from '../../shared/alerts/settings';
import { cloudTrailConsoleUrl, formatInZone } from '../../shared/alerts/display';
import { configFromYaml } from '../support/config';
import { ConfigError } from '../../shared/core/errors';
import { alertFixture } from './fixtures';

const config = configFromYaml(
  `
notify:
  minSeverity: low
  officeTimezone: Europe/Paris
  accountNames: { "111122223333": prod }
  channels:
    security: {}
    oncall: { webhook: pager-room }
    ops: { channelId: C0123456789 }
    default: {}
  routes:
    - { minSeverity: high, channels: [oncall] }
    - { categories: [defense-evasion, iam], channels: [security] }
    - { accounts: [prod], rules: ["lvm-*"], channels: [ops] }
    - { severities: [info], categories: [ip-space], channels: [ops] }
  defaultChannels: [default]
`,
  'test.yaml',
);

describe('routing', () => {
  it('sends an alert to the union of the channels of every matching route, in configuration order', () => {
    expect(routeAlert(alertFixture('cloudtrail-stop-logging'), config.notify)).toEqual(['oncall', 'security']);
  });

  it('matches accounts by ID or by name, and rule IDs by prefix', () => {
    const alert = alertFixture('migration-progress', { severity: 'medium' });
    expect(routeAlert(alert, config.notify)).toEqual(['ops']);
    expect(routeAlert({ ...alert, account: '999999999999' }, config.notify)).toEqual(['default']);
  });

  it('uses the default channels when no route matches, and nothing below minSeverity', () => {
    expect(routeAlert(alertFixture('ip-space-changed'), config.notify)).toEqual(['default']);
    expect(routeAlert(alertFixture('migration-progress'), config.notify)).toEqual([]); // info < low
  });
});

describe('notify configuration', () => {
  it('defaults to one "default" channel that everything goes to', () => {
    const cfg = configFromYaml('{}', 'empty').notify;
    expect(cfg.channels).toEqual({ default: {} });
    expect(cfg.defaultChannels).toEqual(['default']);
    expect(cfg.grouping).toEqual({ windowMinutes: 10, updateIntervalSeconds: 15 });
    expect(routeAlert(alertFixture('migration-progress'), cfg)).toEqual(['default']);
  });

  it.each([
    ['notify: { routes: [ { channels: [nope] } ] }', /notify\.routes\.0\.channels\.0: unknown channel "nope"/],
    ['notify: { defaultChannels: [x] }', /notify\.defaultChannels\.0: unknown channel "x"/],
    ['notify: { officeTimezone: Mars/Olympus }', /notify\.officeTimezone: not an IANA timezone/],
    ['notify: { channels: { Bad Name: {} } }', /notify\.channels/],
    ['notify: { channels: { ops: { channelId: "#ops" } } }', /chat\.update needs the ID/],
    ['notify: { routes: [ { channels: [default], severities: [high], minSeverity: low } ] }', /either severities or minSeverity/],
    ['notify: { grouping: { windowMinutes: -1 } }', /notify\.grouping\.windowMinutes/],
    ['notify: { slackWebhook: "https://hooks.slack.com/x" }', /notify: Unrecognized key/],
  ])('rejects %s naming the field', (yaml, message) => {
    expect(() => configFromYaml(yaml, 'c.yaml')).toThrow(ConfigError);
    expect(() => configFromYaml(yaml, 'c.yaml')).toThrow(message);
  });

  it('display options fall back to the detection office timezone and take account names from detection profiles', () => {
    const cfg = configFromYaml(
      `
detection:
  officeHours: { timezone: America/New_York }
  profiles:
    prod: { accounts: ["111122223333"] }
    dev: { accounts: ["444455556666"] }
notify:
  accountNames: { "444455556666": sandbox }
`,
      'c.yaml',
    );
    expect(displayOptions(cfg)).toEqual({
      officeTimezone: 'America/New_York',
      accountNames: { '111122223333': 'prod', '444455556666': 'sandbox' },
    });
  });
});

describe('display helpers', () => {
  it('builds CloudTrail event-history deep links per partition', () => {
    expect(cloudTrailConsoleUrl('eu-west-1', ['abc-123'])).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudtrail/home?region=eu-west-1#/events/abc-123',
    );
    expect(cloudTrailConsoleUrl('cn-north-1', ['abc'])).toBe(
      'https://cn-north-1.console.amazonaws.cn/cloudtrail/home?region=cn-north-1#/events/abc',
    );
    expect(cloudTrailConsoleUrl('us-gov-west-1', [], 'StopLogging')).toBe(
      'https://console.amazonaws-us-gov.com/cloudtrail/home?region=us-gov-west-1#/events?EventName=StopLogging',
    );
    // Nothing that could smuggle another URL or a region that is not one.
    expect(cloudTrailConsoleUrl('us-east-1', ['x/../evil'])).toBeUndefined();
    expect(cloudTrailConsoleUrl('global', ['abc'])).toBeUndefined();
  });

  it('formats a time in the office timezone with its abbreviation', () => {
    expect(formatInZone('2026-01-15T23:30:00Z', 'Asia/Tokyo')).toBe('2026-01-16 08:30:00 GMT+9 (Asia/Tokyo)');
    expect(formatInZone('not a date', 'UTC')).toBeUndefined();
  });
});
