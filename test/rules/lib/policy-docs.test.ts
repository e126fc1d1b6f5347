import { describe, expect, it } from 'vitest';
import { analyzeDocumentText } from '../../../shared/rules/lib/policy-docs';

const trust = (principal: unknown) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] });

describe('analyzeDocumentText', () => {
  it('answers a repeated document from its cache, and the answer cannot be changed by a caller', () => {
    const text = trust({ AWS: 'arn:aws:iam::999988887777:root' });
    const first = analyzeDocumentText(text, { kind: 'trust', account: '111122223333' });
    // A different string object with the same text (the next record carrying the same policy).
    const again = analyzeDocumentText(`${text} `.trimEnd(), { kind: 'trust', account: '111122223333' });
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.findings)).toBe(true);
    expect(first.findings.map((f) => f.ruleId)).toContain('principal-unknown-account');
  });

  it('keeps answers apart by what they depend on: kind, account and known accounts', () => {
    const text = trust({ AWS: 'arn:aws:iam::999988887777:root' });
    const unknown = analyzeDocumentText(text, { kind: 'trust', account: '111122223333' });
    const known = analyzeDocumentText(text, { kind: 'trust', account: '111122223333', knownAccounts: ['999988887777'] });
    const own = analyzeDocumentText(text, { kind: 'trust', account: '999988887777' });
    expect(unknown.findings.some((f) => f.ruleId === 'principal-unknown-account')).toBe(true);
    expect(known.findings.some((f) => f.ruleId === 'principal-unknown-account')).toBe(false);
    expect(own.findings.some((f) => f.ruleId === 'principal-unknown-account')).toBe(false);
  });

  it('reports a missing or unreadable document instead of throwing', () => {
    expect(analyzeDocumentText(undefined, { kind: 'identity' }).error).toMatch(/no policy document/);
    expect(analyzeDocumentText('{"Statement": [', { kind: 'identity' }).error).toBeDefined();
  });
});
