import { describe, expect, it } from 'vitest';
import { snsSms, snsSubject, snsText } from '../../shared/alerts/sns-message';
import { alertFixture, alertFixtureNames } from './fixtures';

const display = { officeTimezone: 'Europe/Paris', accountNames: { '111122223333': 'prod' } };
const asciiPrintable = /^[\x20-\x7e]+$/;

describe('SNS subject', () => {
  it.each(alertFixtureNames)('%s: under 100 ASCII characters, severity first', (name) => {
    const subject = snsSubject(alertFixture(name), display);
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(asciiPrintable);
    expect(subject).toMatch(/^(CRITICAL|HIGH|MEDIUM|LOW|INFO): /);
  });

  it('says what happened, by whom and where', () => {
    expect(snsSubject(alertFixture('cloudtrail-stop-logging'), display)).toBe(
      'CRITICAL: CloudTrail logging stopped by alice in 111122223333 (prod)',
    );
    expect(snsSubject(alertFixture('cloudtrail-aws-owned'), display)).toBe(
      'HIGH: Access key created for another IAM user in 444455556666 (x3)',
    );
  });

  it('keeps severity and count when a long title must be cut, and never emits non-ASCII or newlines', () => {
    const alert = alertFixture('cloudtrail-stop-logging', { title: `Ünïcödé — ${'very long title '.repeat(20)}\nsecond line`, count: 12 });
    const subject = snsSubject(alert, display);
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(asciiPrintable);
    expect(subject.startsWith('CRITICAL: ')).toBe(true);
    expect(subject.endsWith('... (x12)')).toBe(true);
  });

  it('works without display options (the publisher has no notify configuration)', () => {
    expect(snsSubject(alertFixture('cloudtrail-stop-logging'))).toBe(
      'CRITICAL: CloudTrail logging stopped by alice in 111122223333 (prod)', // the profile from the alert context
    );
  });
});

describe('SNS email body', () => {
  it('puts what happened first, then who, from where, what, when, the links and the evidence', () => {
    const text = snsText(alertFixture('cloudtrail-stop-logging'), display);
    const lines = text.split('\n');
    expect(lines[0]).toBe('CRITICAL: CloudTrail logging stopped');
    expect(lines[1]).toBe('alice called StopLogging on trail management-events from an address outside the allowed CIDRs.');
    const order = ['Who:', 'From:', 'What:', 'When:', 'Console:', 'Runbook:', 'Log:', 'Rule:', 'Alert id:'].map((p) =>
      lines.findIndex((l) => l.startsWith(p)),
    );
    expect(order.every((i) => i > 1)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain('From:    203.0.113.7 — outside allowed CIDRs');
    expect(text).toContain('When:    2026-08-12 14:03:22 UTC / 2026-08-12 16:03:22 CEST (Europe/Paris)');
    expect(text).toContain(
      'Console: https://us-east-1.console.aws.amazon.com/cloudtrail/home?region=us-east-1#/events/3f0c8b0e-5b1a-4c2d-9e8f-0a1b2c3d4e5f',
    );
  });

  it('an IP-space body lists the counts and the first CIDRs with the exact remainder', () => {
    const text = snsText(alertFixture('ip-space-changed'), display);
    expect(text).toContain('Changes: v4 added 140, v4 removed 3, v4 cidrs added 132, v4 cidrs removed 3');
    expect(text).toContain('Added CIDRs (132):\n  3.0.0.0/24');
    expect(text).toContain('  ... and 112 more');
    expect(text).toContain('Removed CIDRs (3):');
  });

  it('a count over one shows first and last seen', () => {
    expect(snsText(alertFixture('cloudtrail-aws-owned'), display)).toContain(
      'Count:   3 (first 2026-08-12 22:38:40 UTC, last 2026-08-12 22:41:05 UTC)',
    );
  });
});

describe('SNS SMS', () => {
  it.each(alertFixtureNames)('%s: one ASCII line of at most 140 characters', (name) => {
    const sms = snsSms(alertFixture(name), display);
    expect(sms.length).toBeLessThanOrEqual(140);
    expect(sms).toMatch(asciiPrintable);
  });

  it('most important first', () => {
    expect(snsSms(alertFixture('cloudtrail-stop-logging'), display)).toBe('vigil CRITICAL: CloudTrail logging stopped @prod by alice');
  });
});
