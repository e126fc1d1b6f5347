import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/core/errors';
import { analyzePolicy, parsePolicyDocument, safeParsePolicyDocument, statementsOf } from '../../shared/policy';
import { cloudtrailDir } from '../support/shared-data';

const plain = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}';

describe('parsing policy documents', () => {
  it('reads plain and URL-encoded JSON, with a BOM or surrounding whitespace', () => {
    expect(statementsOf(parsePolicyDocument(plain))).toHaveLength(1);
    expect(parsePolicyDocument(encodeURIComponent(plain))).toEqual(parsePolicyDocument(plain));
    expect(parsePolicyDocument(`\uFEFF  ${plain}\n`)).toEqual(parsePolicyDocument(plain));
    // A single statement object comes back as a one-item list.
    const single = JSON.parse(plain) as { Statement: unknown };
    expect(parsePolicyDocument(single)).toEqual({ ...single, Statement: [single.Statement] });
  });

  it.each([
    ['not JSON', 'Version: 2012-10-17', /neither a JSON object nor URL-encoded JSON/],
    ['truncated JSON', '{"Version":"2012-10-17","Statement":[', /not valid JSON/],
    ['bad %-escape', '%7B%ZZ', /invalid %-escape/],
    ['lower-case Effect', '{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}', /Statement\[0\]\.Effect: Effect must be "Allow" or "Deny"/],
    ['unknown element', '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Resources":"*"}]}', /Statement\[0\]: Unrecognized key: "Resources"/],
    ['Action and NotAction', '{"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*"}}', /Action or NotAction, not both/],
    ['no Action', '{"Statement":{"Effect":"Allow","Resource":"*"}}', /needs Action or NotAction/],
    ['bad Version', '{"Version":"2012-10-18","Statement":[]}', /Version must be "2012-10-17"/],
    ['bad principal type', '{"Statement":{"Effect":"Allow","Principal":{"Aws":"*"},"Action":"*"}}', /Unrecognized key: "Aws"/],
  ])('rejects %s with a clear message', (_name, text, message) => {
    expect(() => parsePolicyDocument(text)).toThrow(ValidationError);
    expect(() => parsePolicyDocument(text)).toThrow(message);
    const result = safeParsePolicyDocument(text);
    expect(result.ok).toBe(false);
  });

  it('refuses absurdly large input before parsing it', () => {
    expect(() => parsePolicyDocument(`{"Statement":[], "x":"${'a'.repeat(1_000_001)}"}`)).toThrow(/limit/);
  });
});

describe('policy documents from real CloudTrail records (Stratus Red Team)', () => {
  const records = (technique: string): { eventName: string; requestParameters?: Record<string, unknown>; responseElements?: Record<string, unknown> }[] =>
    JSON.parse(readFileSync(path.join(cloudtrailDir('stratus'), `${technique}.json`), 'utf8'));

  it('CreateRole: the backdoor trust to an outside account, plain in the request and URL-encoded in the response', () => {
    const create = records('aws.persistence.iam-create-backdoor-role').find((r) => r.eventName === 'CreateRole')!;
    const fromRequest = parsePolicyDocument(create.requestParameters!.assumeRolePolicyDocument);
    const role = (create.responseElements as { role: { assumeRolePolicyDocument: string } }).role;
    expect(role.assumeRolePolicyDocument.startsWith('%7B')).toBe(true);
    expect(parsePolicyDocument(role.assumeRolePolicyDocument)).toEqual(fromRequest);
    const findings = analyzePolicy(fromRequest, { knownAccounts: ['111122223333'] });
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([
      ['principal-unknown-account', 'high'],
      ['trust-missing-external-id', 'medium'],
    ]);
  });

  it('UpdateAssumeRolePolicy: the service statement is fine, the added account is not', () => {
    const update = records('aws.persistence.iam-backdoor-role').find((r) => r.eventName === 'UpdateAssumeRolePolicy')!;
    const findings = analyzePolicy(parsePolicyDocument(update.requestParameters!.policyDocument), { knownAccounts: ['111122223333'] });
    expect(findings.map((f) => [f.ruleId, f.statementIndex])).toEqual([
      ['principal-unknown-account', 1],
      ['trust-missing-external-id', 1],
    ]);
  });

  it('GetFederationToken: the session policy is Allow * on *', () => {
    const token = records('aws.persistence.sts-federation-token').find((r) => r.eventName === 'GetFederationToken')!;
    const findings = analyzePolicy(parsePolicyDocument(token.requestParameters!.policy));
    expect(findings.map((f) => [f.ruleId, f.severity])).toEqual([['admin-wildcard', 'critical']]);
  });
});
