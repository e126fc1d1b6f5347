import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Severity } from '../../shared/alerts/schema';
import { type AnalyzeOptions, analyzePolicy, parsePolicyDocument } from '../../shared/policy';
import { repoRoot } from '../support/shared-data';

/**
 * Every hand-written policy in test/fixtures/policy/{identity,trust,resource} with the findings it must produce
 * (rule id → severity), and nothing else. `*.good.json` files follow AWS's recommendations: clean, or only the noted
 * low/info findings. A fixture added without an entry here
 * fails the last test, so the table stays complete.
 */
const dir = path.join(repoRoot, 'test/fixtures/policy');
const known = { knownAccounts: ['111122223333'] };

const expected: Record<string, { options?: AnalyzeOptions; findings: Record<string, Severity> }> = {
  'identity/admin.json': { findings: { 'admin-wildcard': 'critical' } },
  'identity/power-user-not-action.json': {
    // NotAction leaves out iam:*, so no PassRole; the indirect escalations (lambda, ssm…) and sts:AssumeRole remain.
    findings: { 'allow-not-action': 'high', 'privilege-escalation': 'medium', 'assume-role-wildcard': 'high', 'resource-wildcard': 'medium', 's3-put-without-encryption': 'low' },
  },
  'identity/not-resource.json': { findings: { 'allow-not-resource': 'medium', 's3-put-without-encryption': 'low' } },
  'identity/privesc-policy-versions.json': { findings: { 'privilege-escalation': 'high', 'resource-wildcard': 'medium' } },
  'identity/iam-full.json': { findings: { 'privilege-escalation': 'high', 'passrole-wildcard': 'high' } },
  'identity/passrole-star.json': { findings: { 'passrole-wildcard': 'high' } },
  'identity/passrole-scoped.good.json': { findings: {} },
  'identity/assume-any-role.json': { findings: { 'assume-role-wildcard': 'high' } },
  'identity/s3-full-on-star.json': { findings: { 'service-wildcard': 'high', 's3-put-without-encryption': 'low' } },
  'identity/describe-on-star.json': { findings: { 'resource-wildcard': 'low' } },
  'identity/write-on-star.json': { findings: { 'resource-wildcard': 'medium' } },
  'identity/s3-put-unencrypted.json': { findings: { 's3-put-without-encryption': 'low' } },
  'identity/s3-put-encrypted.good.json': { findings: {} },
  // AWS's "manage your own credentials" policy: self-scoped key management is not an escalation; the account-wide
  // reads only accept "*" (low, to be accepted with a reason).
  'identity/manage-own-credentials.good.json': { options: { attachedTo: 'role' }, findings: { 'resource-wildcard': 'low' } },
  'identity/user-ip-restricted.good.json': { options: { attachedTo: 'user' }, findings: {} },
  'identity/user-deny-outside-network.good.json': { options: { attachedTo: 'user' }, findings: {} },
  'identity/user-no-condition.json': { options: { attachedTo: 'user' }, findings: { 'missing-condition': 'low' } },
  'identity/hardcoded-az.json': { findings: { 'hardcoded-az': 'medium' } },
  'identity/least-privilege.good.json': { findings: {} },
  'identity/no-version.json': { findings: { 'policy-version': 'medium' } },
  'identity/single-statement-object.good.json': { findings: {} },
  'trust/open-to-everyone.json': { findings: { 'principal-wildcard': 'critical' } },
  'trust/open-aws-star.json': { findings: { 'principal-wildcard': 'critical' } },
  'trust/org-restricted.json': { findings: { 'principal-wildcard': 'low' } },
  'trust/third-party-no-external-id.json': {
    options: known,
    findings: { 'principal-unknown-account': 'high', 'trust-missing-external-id': 'medium' },
  },
  'trust/third-party-external-id.good.json': { findings: { 'principal-unknown-account': 'info' } },
  'trust/same-account.good.json': { options: known, findings: {} },
  'trust/lambda-service.good.json': { findings: {} },
  'trust/github-oidc-unscoped.json': { findings: { 'trust-oidc-unscoped': 'high' } },
  'trust/github-oidc-scoped.good.json': { findings: {} },
  'trust/saml.good.json': { findings: {} },
  'trust/not-principal.json': { findings: { 'allow-not-principal': 'high' } },
  'resource/bucket-public-read.json': { findings: { 'principal-wildcard': 'high' } },
  'resource/cloudtrail-bucket.good.json': { findings: {} },
  'resource/cloudtrail-bucket-no-source.json': { findings: { 'service-principal-no-source': 'medium', 's3-put-without-encryption': 'medium' } },
  'resource/queue-from-topic.good.json': { findings: {} },
  'resource/bucket-cross-account.json': {
    options: known,
    findings: { 'principal-unknown-account': 'high', 's3-put-without-encryption': 'medium' },
  },
  'resource/bucket-deny-unencrypted.good.json': { options: known, findings: {} },
};

const bySeverityOfRule = (findings: { ruleId: string; severity: Severity }[]): Record<string, Severity> =>
  Object.fromEntries(findings.map((f) => [f.ruleId, f.severity]));

describe('hand-written policy fixtures', () => {
  for (const [file, { options, findings }] of Object.entries(expected)) {
    it(`${file} → ${Object.keys(findings).join(', ') || 'clean'}`, () => {
      const doc = parsePolicyDocument(readFileSync(path.join(dir, file), 'utf8'));
      const got = analyzePolicy(doc, options);
      expect(bySeverityOfRule(got)).toEqual(findings);
      // One finding per rule and statement: the table above would hide duplicates otherwise.
      const keys = got.map((f) => `${f.ruleId}#${f.statementIndex}`);
      expect(new Set(keys).size).toBe(keys.length);
      for (const f of got) {
        expect(f.message.length).toBeGreaterThan(10);
        expect(f.fixHint.length).toBeGreaterThan(10);
      }
    });
  }

  it('every fixture has an entry (good ones named *.good.json are clean or only carry the noted findings)', () => {
    const files = ['identity', 'trust', 'resource'].flatMap((d) => readdirSync(path.join(dir, d)).map((f) => `${d}/${f}`));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });
});
