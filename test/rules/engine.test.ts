import { describe, expect, it, vi } from 'vitest';
import type { CloudTrailRecord } from '../../shared/cloudtrail/record';
import { DetectionConfig, type DetectionConfigInput } from '../../shared/config/detection';
import { silentLogger } from '../../shared/core/deps';
import { ConfigError } from '../../shared/core/errors';
import { buildIpIndex } from '../../shared/ip-ranges/lookup';
import { alertId, createEngine } from '../../shared/rules/engine/engine';
import { EXAMPLE_ACCOUNT, EXAMPLE_OTHER_ACCOUNT, exampleRecord, identities } from '../../shared/rules/engine/example-record';
import { type AnyRuleModule, defineRule } from '../../shared/rules/engine/types';
import { rules } from '../../shared/rules/registry';
import { z } from 'zod';
import { SNAPSHOTS, snapshot } from '../ip-ranges/helpers';

const baseRule = {
  title: 'Test rule title',
  description: 'A rule used only by the engine tests.',
  severity: 'medium' as const,
  categories: ['iam-user-created' as const],
  references: ['https://example.com/'],
  falsePositives: [],
  runbook: 'Nothing to do: this is a test rule.',
  examples: { match: [], noMatch: [] },
};

const createUser = defineRule({
  ...baseRule,
  id: 'test-create-user',
  events: [{ source: 'iam.amazonaws.com', names: ['CreateUser'] }],
  match: () => true,
});

const engineWith = (ruleList: readonly AnyRuleModule[], config: DetectionConfigInput = {}, extra = {}) =>
  createEngine({ config: DetectionConfig.parse(config), rules: ruleList, logger: silentLogger, ...extra });

const evaluate = (engine: ReturnType<typeof engineWith>, records: CloudTrailRecord[], key = 'k.json') => {
  const file = engine.beginFile({ key });
  for (const r of records) file.evaluate(r);
  return file.finish();
};

const iam = (eventName: string, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: 'iam.amazonaws.com', eventName, awsRegion: 'us-east-1', ...extra });

describe('rule engine', () => {
  it('calls a rule only for its (eventSource, eventName) pairs', () => {
    const match = vi.fn(() => true);
    const engine = engineWith([{ ...createUser, match }]);
    const { alerts } = evaluate(engine, [
      iam('CreateUser'),
      iam('DeleteUser'),
      exampleRecord({ eventSource: 'other.amazonaws.com', eventName: 'CreateUser' }),
    ]);
    expect(match).toHaveBeenCalledTimes(1);
    expect(alerts).toHaveLength(1);
  });

  it('runs every-record rules on every record, sharing one context per record', () => {
    const seen: unknown[] = [];
    const a = defineRule({ ...baseRule, id: 'every-a', events: 'all', match: (_r, ctx) => (seen.push(ctx.actor), false) });
    const b = defineRule({ ...baseRule, id: 'every-b', events: 'all', match: (_r, ctx) => (seen.push(ctx.actor), false) });
    evaluate(engineWith([a, b]), [iam('A'), iam('B', { userIdentity: identities.root() })]);
    expect(seen).toHaveLength(4);
    // Memoised: both rules got the same actor object for a record.
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).toBe(seen[3]);
    expect(seen[0]).not.toBe(seen[2]);
  });

  it('isolates a throwing rule: counted, logged once per file, other rules unaffected', () => {
    const warn = vi.fn();
    const broken = defineRule({
      ...baseRule,
      id: 'broken',
      events: 'all',
      match: () => {
        throw new Error('boom');
      },
    });
    const engine = createEngine({ config: DetectionConfig.parse({}), rules: [broken, createUser], logger: { warn } });
    const { alerts, stats } = evaluate(engine, [iam('CreateUser'), iam('CreateUser'), iam('ListUsers')]);
    expect(alerts).toHaveLength(1);
    expect(stats.ruleErrors).toEqual({ broken: 3 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatchObject({ ruleId: 'broken', error: 'boom' });
  });

  it('a throwing hook falls back to the default and keeps the alert', () => {
    const rule = defineRule({
      ...createUser,
      id: 'bad-title',
      alertTitle: () => {
        throw new Error('no title');
      },
    });
    const { alerts, stats } = evaluate(engineWith([rule]), [iam('CreateUser')]);
    expect(alerts[0]!.title).toBe(rule.title);
    expect(stats.ruleErrors).toEqual({ 'bad-title': 1 });
  });

  it('groups matches with the same dedup key in one file into one alert with a count', () => {
    const records = [
      iam('CreateUser', { eventTime: '2025-03-12T10:17:00Z', eventID: 'e2' }),
      iam('CreateUser', { eventTime: '2025-03-12T10:15:00Z', eventID: 'e1' }),
      iam('CreateUser', { eventTime: '2025-03-12T10:19:00Z', eventID: 'e3' }),
      iam('CreateUser', { eventID: 'e4', userIdentity: identities.iamUser('bob') }),
    ];
    const { alerts } = evaluate(engineWith([createUser]), records);
    expect(alerts).toHaveLength(2);
    const alice = alerts.find((a) => a.actor?.endsWith('user/alice'))!;
    expect(alice).toMatchObject({
      count: 3,
      firstSeen: '2025-03-12T10:15:00Z',
      lastSeen: '2025-03-12T10:19:00Z',
      eventIds: ['e2', 'e1', 'e3'],
      dedupKey: `test-create-user|${EXAMPLE_ACCOUNT}|arn:aws:iam::${EXAMPLE_ACCOUNT}:user/alice`,
      account: EXAMPLE_ACCOUNT,
      region: 'us-east-1',
      eventName: 'CreateUser',
      eventSource: 'iam.amazonaws.com',
      sourceIp: '203.0.113.10',
      source: { key: 'k.json' },
      runbook: createUser.runbook,
    });
  });

  it('titles the alert from the most severe match of the group', () => {
    const rule = defineRule({
      ...createUser,
      id: 'escalating',
      severityFor: (r) => (r.requestParameters?.userName === 'admin' ? 'critical' : 'low'),
      alertTitle: (r) => `user ${String(r.requestParameters?.userName)}`,
    });
    const { alerts } = evaluate(engineWith([rule]), [
      iam('CreateUser', { requestParameters: { userName: 'a' } }),
      iam('CreateUser', { requestParameters: { userName: 'admin' } }),
      iam('CreateUser', { requestParameters: { userName: 'b' } }),
    ]);
    expect(alerts[0]).toMatchObject({ severity: 'critical', title: 'user admin', count: 3 });
    expect(alerts[0]!.context.eventNames).toBeUndefined();
  });

  it('derives the alert id from (rule, dedup key, window): stable across re-reads and order', () => {
    const records = [iam('CreateUser', { eventTime: '2025-03-12T10:15:00Z' }), iam('CreateUser', { eventTime: '2025-03-12T10:40:00Z' })];
    const engine = engineWith([createUser]);
    const a = evaluate(engine, records).alerts[0]!;
    const b = evaluate(engine, records).alerts[0]!;
    expect(a.id).toBe(b.id);
    expect(a.id).toBe(alertId('test-create-user', a.dedupKey, '2025-03-12T10:00:00.000Z'));
    // A later window is a new alert.
    const later = evaluate(engine, [iam('CreateUser', { eventTime: '2025-03-12T11:05:00Z' })]).alerts[0]!;
    expect(later.id).not.toBe(a.id);
    // A half-read file (its first records) gives the same id as the whole file.
    const half = evaluate(engine, records.slice(0, 1)).alerts[0]!;
    expect(half.id).toBe(a.id);
    // The window size is configuration.
    const daily = evaluate(engineWith([createUser], { alertWindowMinutes: 1440 }), [
      iam('CreateUser', { eventTime: '2025-03-12T23:05:00Z' }),
    ]).alerts[0]!;
    expect(daily.context.alertWindowStart).toBe('2025-03-12T00:00:00.000Z');
  });

  it('raises an alert only at the threshold (rule default, then configuration)', () => {
    const rule = defineRule({ ...createUser, id: 'burst', threshold: 3 });
    const two = [iam('CreateUser'), iam('CreateUser')];
    const r1 = evaluate(engineWith([rule]), two);
    expect(r1.alerts).toEqual([]);
    expect(r1.stats.belowThreshold).toBe(1);
    expect(evaluate(engineWith([rule]), [...two, iam('CreateUser')]).alerts).toHaveLength(1);
    expect(evaluate(engineWith([rule], { rules: { burst: { threshold: 2 } } }), two).alerts).toHaveLength(1);
  });

  it('applies allow-lists: principal globs (session or role ARN), user agents, source CIDRs', () => {
    const config: DetectionConfigInput = {
      rules: {
        'test-create-user': {
          allow: {
            principals: ['arn:aws:iam::*:role/terraform-*'],
            userAgents: ['*Terraform/*'],
            sourceCidrs: ['198.51.100.0/24'],
          },
        },
      },
    };
    const engine = engineWith([createUser], config);
    const { alerts, stats } = evaluate(engine, [
      iam('CreateUser', { userIdentity: identities.assumedRole('terraform-prod', 'run-7') }),
      iam('CreateUser', { userAgent: 'APN/1.0 HashiCorp/1.0 Terraform/1.9.5' }),
      iam('CreateUser', { sourceIPAddress: '198.51.100.77' }),
      iam('CreateUser', { userIdentity: identities.assumedRole('ops', 'run-7') }),
    ]);
    expect(stats).toMatchObject({ matches: 4, suppressed: 3 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.actor).toContain('assumed-role/ops/');
  });

  it('replaces the base severity from configuration, and disables a rule', () => {
    expect(evaluate(engineWith([createUser], { rules: { 'test-create-user': { severity: 'critical' } } }), [iam('CreateUser')]).alerts[0]!.severity).toBe(
      'critical',
    );
    const off = engineWith([createUser], { rules: { 'test-create-user': { enabled: false } } });
    expect(evaluate(off, [iam('CreateUser')]).alerts).toEqual([]);
    expect(off.disabled).toEqual([{ ruleId: 'test-create-user', profile: 'default', reason: 'detection.rules.test-create-user.enabled is false' }]);
    expect(off.active).toEqual([]);
  });

  it('uses per-account profiles that override the defaults', () => {
    const config: DetectionConfigInput = {
      rules: { 'test-create-user': { severity: 'low' } },
      profiles: {
        prod: { accounts: [EXAMPLE_OTHER_ACCOUNT], rules: { 'test-create-user': { severity: 'high' } } },
        sandbox: { accounts: ['999999999999'], rules: { 'test-create-user': { enabled: false } } },
      },
    };
    const engine = engineWith([createUser], config);
    const { alerts } = evaluate(engine, [
      iam('CreateUser'),
      iam('CreateUser', { recipientAccountId: EXAMPLE_OTHER_ACCOUNT, userIdentity: identities.iamUser('ops', EXAMPLE_OTHER_ACCOUNT) }),
      iam('CreateUser', { recipientAccountId: '999999999999' }),
    ]);
    expect(alerts.map((a) => [a.account, a.severity, a.context.profile])).toEqual([
      [EXAMPLE_ACCOUNT, 'low', 'default'],
      [EXAMPLE_OTHER_ACCOUNT, 'high', 'prod'],
    ]);
  });

  it('falls back to the account of the log file when a record names none', () => {
    const engine = engineWith([createUser], { profiles: { prod: { accounts: [EXAMPLE_OTHER_ACCOUNT], rules: { 'test-create-user': { severity: 'high' } } } } });
    const file = engine.beginFile({ key: 'k', account: EXAMPLE_OTHER_ACCOUNT });
    file.evaluate({ ...iam('CreateUser'), recipientAccountId: undefined, userIdentity: { type: 'Root' } });
    expect(file.finish().alerts[0]).toMatchObject({ account: EXAMPLE_OTHER_ACCOUNT, severity: 'high' });
  });

  it('marks a rule whose configuration is absent inactive, per profile', () => {
    const needsHours = defineRule({ ...baseRule, id: 'needs-hours', events: 'all', requires: ['officeHours'], match: () => true });
    const engine = engineWith([needsHours], {
      profiles: { prod: { accounts: [EXAMPLE_OTHER_ACCOUNT], officeHours: { timezone: 'UTC' } } },
    });
    expect(engine.inactive).toEqual([{ ruleId: 'needs-hours', profile: 'default', reason: 'detection.officeHours is not set' }]);
    expect(engine.active.map((r) => r.id)).toEqual(['needs-hours']);
    const { alerts } = evaluate(engine, [iam('CreateUser'), iam('CreateUser', { recipientAccountId: EXAMPLE_OTHER_ACCOUNT })]);
    expect(alerts.map((a) => a.account)).toEqual([EXAMPLE_OTHER_ACCOUNT]);
  });

  it('validates rule options and rule ids from configuration, naming the field', () => {
    const withOptions = defineRule({
      ...baseRule,
      id: 'with-options',
      events: [{ source: 'iam.amazonaws.com', names: ['CreateUser'] }],
      options: z.strictObject({ limit: z.number().int().default(5) }),
      match: (_r, ctx) => ctx.options.limit > 3,
    });
    expect(evaluate(engineWith([withOptions]), [iam('CreateUser')]).alerts).toHaveLength(1);
    expect(evaluate(engineWith([withOptions], { rules: { 'with-options': { options: { limit: 1 } } } }), [iam('CreateUser')]).alerts).toHaveLength(0);
    expect(() => engineWith([withOptions], { rules: { 'with-options': { options: { limit: 'x' } } } })).toThrow(
      /detection\.rules\.with-options\.options: limit: /,
    );
    expect(() =>
      engineWith([withOptions], { profiles: { dev: { accounts: [EXAMPLE_ACCOUNT], rules: { 'with-options': { options: { lmit: 2 } } } } } }),
    ).toThrow(/detection\.profiles\.dev\.rules\.with-options\.options: .*lmit/);
    expect(() => engineWith([createUser], { rules: { 'no-such-rule': { enabled: false } } })).toThrow(ConfigError);
    expect(() => engineWith([createUser], { rules: { 'no-such-rule': { enabled: false } } })).toThrow(/detection\.rules\.no-such-rule: unknown rule id/);
    expect(() => engineWith([createUser], { rules: { 'test-create-user': { options: { x: 1 } } } })).toThrow(/has no options/);
  });

  it('runs a subset of rules with `only`, refusing unknown ids', () => {
    const engine = engineWith(rules, {}, { only: ['root-account-usage'] });
    expect(engine.active.map((r) => r.id)).toEqual(['root-account-usage']);
    expect(() => engineWith(rules, {}, { only: ['nope'] })).toThrow(/unknown rule id\(s\): nope \(known: /);
  });

  it('enriches alerts with the AWS owner of the source address, and says when enrichment is off', () => {
    const rec = iam('CreateUser', { sourceIPAddress: '18.236.253.47' });
    const withIndex = engineWith([createUser], {}, { ipIndex: buildIpIndex(snapshot(SNAPSHOTS.aug22).ranges) });
    const alert = evaluate(withIndex, [rec]).alerts[0]!;
    expect(alert.context).toMatchObject({ awsOwner: 'EC2 us-west-2', ipRanges: expect.stringContaining(SNAPSHOTS.aug22) });
    expect(alert.summary).toContain('18.236.253.47 (AWS-owned: EC2 us-west-2)');
    const without = evaluate(engineWith([createUser]), [rec]).alerts[0]!;
    expect(without.context.ipRanges).toBe('off');
    expect(without.context.awsOwner).toBeUndefined();
    expect(withIndex.enrichment.enabled).toBe(true);
  });

  it('summarises failures and lists the event names of a multi-event incident', () => {
    const rule = defineRule({ ...baseRule, id: 'any-iam', events: [{ source: 'iam.amazonaws.com', names: ['CreateUser', 'AttachUserPolicy'] }], match: () => true });
    const { alerts } = evaluate(engineWith([rule]), [
      iam('CreateUser'),
      iam('AttachUserPolicy', { errorCode: 'AccessDenied', errorMessage: 'not authorized' }),
    ]);
    expect(alerts[0]!.context.eventNames).toEqual(['CreateUser', 'AttachUserPolicy']);
    const failed = evaluate(engineWith([rule]), [iam('AttachUserPolicy', { errorCode: 'AccessDenied' })]).alerts[0]!;
    expect(failed.summary).toBe('alice called AttachUserPolicy (iam.amazonaws.com) from 203.0.113.10 in us-east-1 — failed: AccessDenied');
    expect(failed.context).toMatchObject({ succeeded: false, errorCode: 'AccessDenied' });
  });
});
