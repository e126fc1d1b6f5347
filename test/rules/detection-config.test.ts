import { describe, expect, it } from 'vitest';
import { DetectionConfig, resolveProfiles } from '../../shared/config/detection';
import { configFromYaml } from '../support/config';
import { ConfigError } from '../../shared/core/errors';
import { OfficeClock } from '../../shared/rules/engine/office-clock';
import { compileSafeRegex, globList, globMatch, unsafeRegexReason } from '../../shared/rules/engine/patterns';

const configError = (yaml: string): string => {
  try {
    configFromYaml(yaml, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('detection configuration', () => {
  it('has usable defaults', () => {
    const d = DetectionConfig.parse({});
    expect(d).toMatchObject({ profiles: {}, alertWindowMinutes: 60, limits: { maxDecompressedBytes: 2 * 1024 ** 3, maxRecordBytes: 8 * 1024 ** 2 } });
    expect(d.officeHours).toBeUndefined();
  });

  it('fills office-hour defaults and rejects bad values, naming the field', () => {
    expect(DetectionConfig.parse({ officeHours: { timezone: 'Europe/Berlin' } }).officeHours).toEqual({
      timezone: 'Europe/Berlin',
      weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '08:00',
      end: '18:00',
      holidays: [],
    });
    expect(configError('detection: {officeHours: {timezone: Mars/Olympus}}')).toMatch(/detection\.officeHours\.timezone: not an IANA timezone/);
    expect(configError('detection: {officeHours: {timezone: UTC, start: "8am"}}')).toMatch(/detection\.officeHours\.start: expected a time/);
    expect(configError('detection: {officeHours: {timezone: UTC, start: "18:00", end: "08:00"}}')).toMatch(/detection\.officeHours\.end: start must be before end/);
    expect(configError('detection: {officeHours: {timezone: UTC, weekdays: [monday]}}')).toMatch(/detection\.officeHours\.weekdays\.0/);
    expect(configError('detection: {officeHours: {timezone: UTC, holidays: ["2025-13-01"]}}')).toMatch(/detection\.officeHours\.holidays\.0: expected a date/);
    expect(configError('detection: {officeHours: {timezone: UTC, lunch: "12:00"}}')).toMatch(/detection\.officeHours: Unrecognized key: "lunch"/);
  });

  it('validates CIDRs, regions, accounts and rule settings', () => {
    expect(configError('detection: {allowedSourceCidrs: ["10.0.0.1/8"]}')).toMatch(/detection\.allowedSourceCidrs\.0: .*host bits/);
    expect(configError('detection: {allowedSourceCidrs: ["010.0.0.0/8"]}')).toMatch(/detection\.allowedSourceCidrs\.0: invalid CIDR/);
    expect(configError('detection: {expectedRegions: ["EU Central"]}')).toMatch(/detection\.expectedRegions\.0/);
    expect(configError('detection: {profiles: {prod: {accounts: ["123"]}}}')).toMatch(/detection\.profiles\.prod\.accounts\.0: expected a 12-digit/);
    expect(configError('detection: {rules: {x: {severity: urgent}}}')).toMatch(/detection\.rules\.x\.severity/);
    expect(configError('detection: {rules: {x: {allow: {principals: [""]}}}}')).toMatch(/detection\.rules\.x\.allow\.principals\.0/);
    expect(configError('detection: {rules: {x: {allow: {sourceCidrs: ["nope"]}}}}')).toMatch(/detection\.rules\.x\.allow\.sourceCidrs\.0: invalid CIDR/);
    expect(configError('detection: {rules: {x: {enabeld: false}}}')).toMatch(/detection\.rules\.x: Unrecognized key: "enabeld"/);
    expect(configError('detection: {limits: {maxDecompressedBytes: 10}}')).toMatch(/detection\.limits\.maxDecompressedBytes/);
  });

  it('rejects an account in two profiles, and a profile named "default"', () => {
    expect(configError('detection: {profiles: {a: {accounts: ["111111111111"]}, b: {accounts: ["111111111111"]}}}')).toMatch(
      /detection\.profiles\.b\.accounts\.0: account 111111111111 is already in profile "a"/,
    );
    expect(configError('detection: {profiles: {default: {accounts: ["111111111111"]}}}')).toMatch(/detection\.profiles\.default: /);
  });

  it('rejects regexes that can backtrack catastrophically', () => {
    expect(configError('detection: {iamUserNamePattern: "(a+)+$"}')).toMatch(/detection\.iamUserNamePattern: unsafe or invalid regular expression: a repeated group/);
    expect(configError('detection: {iamUserNamePattern: "(a|aa)*"}')).toMatch(/repeated group/);
    expect(configError('detection: {iamUserNamePattern: "(x)\\\\1"}')).toMatch(/backreferences/);
    expect(configError('detection: {iamUserNamePattern: "(?=a)a"}')).toMatch(/lookahead/);
    expect(configError(`detection: {iamUserNamePattern: "${'a'.repeat(201)}"}`)).toMatch(/longer than 200/);
    expect(configError('detection: {iamUserNamePattern: "[a-z"}')).toMatch(/unterminated|Invalid/);
    expect(DetectionConfig.parse({ iamUserNamePattern: '[a-z]+\\.[a-z]+(-admin)?' }).iamUserNamePattern).toBeDefined();
  });

  it('resolves profiles: settings replace the defaults, rules merge per field', () => {
    const config = DetectionConfig.parse({
      allowedSourceCidrs: ['10.0.0.0/8'],
      expectedRegions: ['eu-central-1'],
      rules: { r: { severity: 'low', allow: { principals: ['a'] }, options: { x: 1, y: 2 } } },
      profiles: { dev: { accounts: ['111111111111'], expectedRegions: ['us-east-1'], rules: { r: { enabled: false, options: { y: 3 } } } } },
    });
    const [defaults, dev] = resolveProfiles(config);
    expect(defaults).toMatchObject({ name: 'default', path: 'detection', expectedRegions: ['eu-central-1'] });
    expect(dev).toMatchObject({
      name: 'dev',
      path: 'detection.profiles.dev',
      allowedSourceCidrs: ['10.0.0.0/8'],
      expectedRegions: ['us-east-1'],
      rules: { r: { severity: 'low', enabled: false, allow: { principals: ['a'] }, options: { x: 1, y: 3 } } },
    });
  });
});

describe('patterns from configuration', () => {
  it('matches globs', () => {
    expect(globMatch('arn:aws:iam::*:role/ci-*', 'arn:aws:iam::111122223333:role/ci-deploy')).toBe(true);
    expect(globMatch('arn:aws:iam::*:role/ci-*', 'arn:aws:iam::111122223333:role/admin')).toBe(false);
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a?c', 'ac')).toBe(false);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('', '')).toBe(true);
    expect(globMatch('', 'x')).toBe(false);
    expect(globMatch('*a*b*c', 'xxaxxbxxc')).toBe(true);
    expect(globMatch('*a*b*c', 'xxaxxbxx')).toBe(false);
    expect(globMatch('exact', 'exact')).toBe(true);
    const list = globList(['exact', '*Terraform*']);
    expect(list.matches('exact')).toBe(true);
    expect(list.matches('HashiCorp Terraform/1.9')).toBe(true);
    expect(list.matches(undefined)).toBe(false);
  });

  it('matches hostile globs in bounded time', () => {
    const glob = `${'*a'.repeat(50)}*b`;
    const text = 'a'.repeat(2000);
    const started = performance.now();
    expect(globMatch(glob, text)).toBe(false);
    // Generous bound (a backtracking regex takes minutes here); this is a sanity check, not a benchmark.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('vets regexes', () => {
    expect(unsafeRegexReason('^[a-z][a-z0-9._-]{2,30}$')).toBeUndefined();
    expect(unsafeRegexReason('(ab)+')).toBeUndefined();
    expect(unsafeRegexReason('((a)b)+')).toBeUndefined();
    expect(unsafeRegexReason('(a*)*')).toMatch(/repeated group/);
    expect(unsafeRegexReason('((a+)b)*')).toMatch(/repeated group/);
    expect(unsafeRegexReason('(a|b){2,}')).toMatch(/repeated group/);
    expect(unsafeRegexReason('(?:x+y)+')).toMatch(/repeated group/);
    expect(unsafeRegexReason('[(]+')).toBeUndefined();
    expect(unsafeRegexReason('\\(a+\\)+')).toBeUndefined();
    expect(compileSafeRegex('[a-z]+').test('alice')).toBe(true);
    expect(compileSafeRegex('[a-z]+').test('alice2')).toBe(false);
    expect(compileSafeRegex('a|b').test('ab')).toBe(false);
  });
});

describe('office clock', () => {
  const clock = new OfficeClock(
    DetectionConfig.parse({ officeHours: { timezone: 'Europe/Berlin', holidays: ['2025-12-24'] } }).officeHours!,
  );

  it('computes local time across daylight saving', () => {
    expect(clock.at('2025-01-15T07:30:00Z')).toMatchObject({ date: '2025-01-15', time: '08:30', weekday: 'wed', withinOfficeHours: true });
    expect(clock.at('2025-07-15T06:30:00Z')).toMatchObject({ time: '08:30', withinOfficeHours: true });
    expect(clock.at('2025-01-15T06:59:59Z')).toMatchObject({ time: '07:59', withinOfficeHours: false });
    expect(clock.at('2025-07-15T16:00:00Z')).toMatchObject({ time: '18:00', withinOfficeHours: false });
    // 2025-03-30 01:00 UTC: clocks jump from 02:00 to 03:00 in Berlin.
    expect(clock.at('2025-03-30T00:59:00Z')?.time).toBe('01:59');
    expect(clock.at('2025-03-30T01:00:00Z')?.time).toBe('03:00');
  });

  it('knows weekends, holidays and the local date', () => {
    expect(clock.at('2025-03-15T10:00:00Z')).toMatchObject({ weekday: 'sat', withinOfficeHours: false });
    expect(clock.at('2025-12-24T10:00:00Z')).toMatchObject({ holiday: true, withinOfficeHours: false });
    // 23:30 UTC on the 23rd is already the 24th in Berlin.
    expect(clock.at('2025-12-23T23:30:00Z')).toMatchObject({ date: '2025-12-24', holiday: true });
    expect(clock.at('not a time')).toBeUndefined();
    expect(clock.at('2025-03-12T10:15:00.123+00:00')).toMatchObject({ time: '11:15' });
  });
});
