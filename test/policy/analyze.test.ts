import { describe, expect, it } from 'vitest';
import {
  type AnalyzeOptions,
  type Finding,
  analyzePolicy,
  inferPolicyKind,
  isAwsManagedPolicyArn,
  managedPolicyRisk,
  maxSeverity,
  parsePolicyDocument,
  policyRules,
  PolicyRuleId,
} from '../../shared/policy';

type Stmt = Record<string, unknown>;
const analyze = (statements: Stmt[], options?: AnalyzeOptions, version: string | null = '2012-10-17'): Finding[] =>
  analyzePolicy(parsePolicyDocument({ ...(version ? { Version: version } : {}), Statement: statements }), options);
const rules = (findings: Finding[]): [string, string][] => findings.map((f) => [f.ruleId, f.severity]);
const allow = (extra: Stmt): Stmt => ({ Effect: 'Allow', ...extra });

describe('identity policies', () => {
  it('admin-wildcard on "*" and "*:*" preempts the narrower action checks', () => {
    expect(rules(analyze([allow({ Action: '*:*', Resource: '*' })]))).toEqual([['admin-wildcard', 'critical']]);
    expect(rules(analyze([allow({ Action: ['*', 'iam:PassRole'], Resource: ['arn:aws:s3:::b', '*'] })]))).toEqual([['admin-wildcard', 'critical']]);
  });

  it('Action "*" on one resource is a service-wildcard, not admin', () => {
    // IAM actions on an S3 ARN grant nothing, so no escalation; s3:PutObject on the bucket itself is no object write.
    expect(rules(analyze([allow({ Action: '*', Resource: 'arn:aws:s3:::bucket' })]))).toEqual([['service-wildcard', 'medium']]);
    expect(rules(analyze([allow({ Action: '*', Resource: '{{Role.Arn}}' })]))).toContainEqual(['privilege-escalation', 'low']);
  });

  it('privilege escalation: broad high, scoped low, conditioned one level lower, self-service keys fine', () => {
    const attach = { Action: 'iam:AttachRolePolicy' };
    expect(rules(analyze([allow({ ...attach, Resource: '*' })]))).toContainEqual(['privilege-escalation', 'high']);
    expect(rules(analyze([allow({ ...attach, Resource: 'arn:aws:iam::111122223333:role/*' })]))).toContainEqual(['privilege-escalation', 'high']);
    expect(rules(analyze([allow({ ...attach, Resource: 'arn:aws:iam::111122223333:role/app' })]))).toEqual([['privilege-escalation', 'low']]);
    const conditioned = allow({
      ...attach,
      Resource: 'arn:aws:iam::111122223333:role/*',
      Condition: { ArnEquals: { 'iam:PolicyARN': 'arn:aws:iam::111122223333:policy/app-boundary' } },
    });
    expect(rules(analyze([conditioned]))).toEqual([['privilege-escalation', 'medium']]);
    // Writing one's own policy is escalation; managing one's own keys is AWS's documented self-service.
    expect(rules(analyze([allow({ Action: 'iam:PutUserPolicy', Resource: 'arn:aws:iam::*:user/${aws:username}' })]))).toEqual([
      ['privilege-escalation', 'high'],
    ]);
    expect(analyze([allow({ Action: 'iam:CreateAccessKey', Resource: 'arn:aws:iam::*:user/${aws:username}' })])).toEqual([]);
  });

  it('privilege escalation names the pattern that grants it and matches case-insensitively', () => {
    const [f] = analyze([allow({ Action: 'IAM:put*', Resource: 'arn:aws:iam::111122223333:user/*' })]);
    expect(f?.ruleId).toBe('privilege-escalation');
    expect(f?.message).toContain('"IAM:put*" grants');
    expect(f?.subjects).toEqual(expect.arrayContaining(['iam:PutUserPolicy', 'iam:PutRolePolicy', 'iam:PutGroupPolicy']));
    expect(f?.subjects).not.toContain('iam:AttachUserPolicy');
  });

  it('indirect escalation through function code on every function is medium; on one function nothing', () => {
    // Reported once: the escalation explains the "*" better than resource-wildcard would.
    expect(rules(analyze([allow({ Action: 'lambda:UpdateFunctionCode', Resource: '*' })]))).toEqual([['privilege-escalation', 'medium']]);
    expect(analyze([allow({ Action: 'lambda:UpdateFunctionCode', Resource: 'arn:aws:lambda:us-east-1:111122223333:function:app' })])).toEqual([]);
  });

  it('iam:PassRole: high on any role, medium when limited to a service, nothing on a named role', () => {
    expect(rules(analyze([allow({ Action: 'iam:PassRole', Resource: 'arn:aws:iam::111122223333:role/*' })]))).toEqual([['passrole-wildcard', 'high']]);
    expect(
      rules(analyze([allow({ Action: 'iam:PassRole', Resource: '*', Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } })])),
    ).toEqual([['passrole-wildcard', 'medium']]);
    expect(analyze([allow({ Action: 'iam:PassRole', Resource: 'arn:aws:iam::111122223333:role/app' })])).toEqual([]);
  });

  it('sts:AssumeRole on every role: high, medium with a condition', () => {
    expect(rules(analyze([allow({ Action: 'sts:Assume*', Resource: '*' })]))).toEqual([['assume-role-wildcard', 'high']]);
    expect(
      rules(analyze([allow({ Action: 'sts:AssumeRole', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'ops' } } })])),
    ).toEqual([['assume-role-wildcard', 'medium']]);
  });

  it('service-wildcard: high for high-risk services on "*", medium for others, low on a named resource', () => {
    expect(rules(analyze([allow({ Action: 'kms:*', Resource: '*' })]))).toEqual([['service-wildcard', 'high']]);
    expect(rules(analyze([allow({ Action: 'cloudwatch:*', Resource: '*' })]))).toEqual([['service-wildcard', 'medium']]);
    expect(rules(analyze([allow({ Action: 'sqs:*', Resource: 'arn:aws:sqs:us-east-1:111122223333:q' })]))).toEqual([['service-wildcard', 'low']]);
  });

  it('resource-wildcard: low when every action only accepts "*", medium otherwise, listing the others', () => {
    expect(rules(analyze([allow({ Action: ['ec2:DescribeRegions', 'cloudwatch:PutMetricData', 'xray:PutTraceSegments'], Resource: '*' })]))).toEqual([
      ['resource-wildcard', 'low'],
    ]);
    // s3:ListBucket takes bucket ARNs, whatever its name suggests.
    expect(rules(analyze([allow({ Action: 's3:ListBucket', Resource: '*' })]))).toEqual([['resource-wildcard', 'medium']]);
    const [f] = analyze([allow({ Action: ['ec2:DescribeRegions', 'sqs:DeleteMessage'], Resource: '*' })]);
    expect([f?.ruleId, f?.severity]).toEqual(['resource-wildcard', 'medium']);
    expect(f?.message).toContain('"sqs:DeleteMessage"');
    expect(f?.message).not.toContain('DescribeRegions');
    expect(f?.subjects).toEqual(['ec2:DescribeRegions', 'sqs:DeleteMessage']);
  });

  it('NotAction/NotResource with Allow are reported; with Deny they are guardrails', () => {
    expect(rules(analyze([allow({ NotAction: 's3:DeleteBucket', Resource: 'arn:aws:s3:::b' })]))).toEqual([['allow-not-action', 'medium']]);
    expect(rules(analyze([allow({ Action: 's3:GetObject', NotResource: 'arn:aws:s3:::audit/*' })]))).toEqual([['allow-not-resource', 'medium']]);
    // Every action on everything but one bucket is administrator access.
    expect(rules(analyze([allow({ Action: '*', NotResource: 'arn:aws:s3:::audit/*' })]))).toEqual([['admin-wildcard', 'critical']]);
    expect(analyze([{ Effect: 'Deny', NotAction: ['iam:*', 'sts:*'], Resource: '*', Condition: { StringNotEquals: { 'aws:RequestedRegion': 'eu-west-1' } } }])).toEqual([]);
    expect(analyze([{ Effect: 'Deny', Action: '*', Resource: '*' }])).toEqual([]);
  });

  it('missing-condition only for users and groups, and not under a Deny-all network guard', () => {
    const read = allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' });
    expect(rules(analyze([read], { attachedTo: 'user' }))).toEqual([['missing-condition', 'low']]);
    expect(rules(analyze([read], { attachedTo: 'group' }))).toEqual([['missing-condition', 'low']]);
    expect(analyze([read], { attachedTo: 'role' })).toEqual([]);
    expect(analyze([read])).toEqual([]);
    const tls = allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } });
    expect(analyze([tls], { attachedTo: 'user' })).toEqual([]);
    const mfaGuard = { Effect: 'Deny', NotAction: ['iam:ChangePassword'], Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } };
    expect(analyze([read, mfaGuard], { attachedTo: 'user' })).toEqual([]);
    const [f] = analyze([allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } })], { attachedTo: 'user' });
    expect(f?.message).toContain('no network or MFA condition');
  });

  it('s3:PutObject needs an encryption or private-ACL condition, granted through any pattern', () => {
    const put = (extra: Stmt = {}): Finding[] => analyze([allow({ Action: 's3:Put*', Resource: 'arn:aws:s3:::b/*', ...extra })]);
    expect(rules(put())).toEqual([['s3-put-without-encryption', 'low']]);
    expect(put({ Condition: { Null: { 's3:x-amz-server-side-encryption': 'false' } } })).toEqual([]);
    expect(put({ Condition: { StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:111122223333:key/k' } } })).toEqual([]);
    expect(put({ Condition: { StringEquals: { 's3:x-amz-acl': 'private' } } })).toEqual([]);
    expect(rules(put({ Condition: { StringEquals: { 's3:x-amz-acl': ['private', 'public-read'] } } }))).toEqual([['s3-put-without-encryption', 'low']]);
    expect(analyze([allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' })])).toEqual([]);
  });

  it('hard-coded AZ names, AZ ids, local zones and subnets; regions in ARNs are fine', () => {
    const az = (values: string[]): string[] =>
      analyze([allow({ Action: 'ec2:RunInstances', Resource: 'arn:aws:ec2:us-east-1:111122223333:instance/*', Condition: { StringEquals: { 'ec2:AvailabilityZone': values } } })])
        .filter((f) => f.ruleId === 'hardcoded-az')
        .flatMap((f) => f.subjects);
    expect(az(['eu-west-1c', 'use1-az4', 'us-west-2-lax-1a', 'us-gov-west-1b'])).toEqual(['eu-west-1c', 'use1-az4', 'us-west-2-lax-1a', 'us-gov-west-1b']);
    expect(az(['subnet-0abc1234'])).toEqual(['subnet-0abc1234']);
    expect(az(['us-east-1', 'arn:aws:lambda:us-east-1:111122223333:function:f'])).toEqual([]);
  });

  it('policy-version: missing is low, legacy with policy variables is medium, current is silent', () => {
    const stmt = allow({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::home-${aws:username}' });
    expect(rules(analyze([stmt], {}, '2008-10-17'))).toEqual([['policy-version', 'medium']]);
    expect(rules(analyze([allow({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::home' })], {}, null))).toEqual([['policy-version', 'low']]);
    const [f] = analyze([stmt], {}, null);
    expect(f?.statementIndex).toBeNull();
  });
});

describe('trust and resource policies', () => {
  const trust = (extra: Stmt): Stmt => allow({ Action: 'sts:AssumeRole', ...extra });

  it('Principal "*" is critical in a trust policy, high in a resource policy; only positive org conditions narrow it', () => {
    expect(rules(analyze([trust({ Principal: '*' })]))).toEqual([['principal-wildcard', 'critical']]);
    expect(rules(analyze([allow({ Principal: { AWS: ['*'] }, Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:111122223333:q' })]))).toEqual([
      ['principal-wildcard', 'high'],
    ]);
    expect(rules(analyze([trust({ Principal: { AWS: '*' }, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } })]))).toEqual([
      ['principal-wildcard', 'low'],
    ]);
    for (const condition of [
      { StringNotEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      { StringEqualsIfExists: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      { StringLike: { 'aws:PrincipalArn': '*' } },
      { StringEquals: { 'sts:ExternalId': 'shared-secret' } },
    ]) {
      expect(rules(analyze([trust({ Principal: '*', Condition: condition })]))).toEqual([['principal-wildcard', 'critical']]);
    }
  });

  it('unknown accounts: info without a known list, high with one; the own account and org-conditioned ones are fine', () => {
    const outside = trust({ Principal: { AWS: 'arn:aws:iam::444455556666:role/ci' }, Condition: { StringEquals: { 'sts:ExternalId': 'x' } } });
    expect(rules(analyze([outside]))).toEqual([['principal-unknown-account', 'info']]);
    expect(rules(analyze([outside], { accountId: '111122223333' }))).toEqual([['principal-unknown-account', 'high']]);
    expect(analyze([outside], { knownAccounts: ['444455556666'] })).toEqual([]);
    expect(analyze([trust({ Principal: { AWS: '111122223333' } })], { accountId: '111122223333' })).toEqual([]);
    expect(analyze([trust({ Principal: { AWS: '444455556666' }, Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } })], { knownAccounts: ['111122223333'] })).toEqual([]);
  });

  it('web identity: needs the sub claim for multi-tenant issuers, any claim for others', () => {
    const web = (federated: string, condition?: Stmt): Finding[] =>
      analyze([allow({ Principal: { Federated: federated }, Action: 'sts:AssumeRoleWithWebIdentity', ...(condition ? { Condition: condition } : {}) })]);
    expect(rules(web('cognito-identity.amazonaws.com'))).toEqual([['trust-oidc-unscoped', 'high']]);
    expect(web('cognito-identity.amazonaws.com', { StringEquals: { 'cognito-identity.amazonaws.com:aud': 'us-east-1:pool' } })).toEqual([]);
    const gh = 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com';
    expect(rules(web(gh, { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:*' } }))).toEqual([['trust-oidc-unscoped', 'high']]);
    expect(web(gh, { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:example-org/*' } })).toEqual([]);
    const eks = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    expect(web(eks, { StringEquals: { 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub': 'system:serviceaccount:app:app' } })).toEqual([]);
  });

  it('service principals in resource policies need a source condition (KMS encryption context counts)', () => {
    const key = (condition?: Stmt): Finding[] =>
      analyze([allow({ Principal: { Service: 'logs.us-east-1.amazonaws.com' }, Action: ['kms:Encrypt*', 'kms:Decrypt*'], Resource: '*', ...(condition ? { Condition: condition } : {}) })], { kind: 'resource' });
    expect(rules(key())).toEqual([['service-principal-no-source', 'medium']]);
    expect(key({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:111122223333:*' } })).toEqual([]);
    expect(rules(key({ StringNotEquals: { 'aws:SourceAccount': '111122223333' } }))).toEqual([['service-principal-no-source', 'medium']]);
    // Trust policies of service roles are not confused-deputy prone in the same way.
    expect(analyze([trust({ Principal: { Service: 'lambda.amazonaws.com' } })])).toEqual([]);
  });

  it('a resource policy\'s Action "*" is not read as s3:PutObject', () => {
    expect(
      rules(analyze([allow({ Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' })], { kind: 'resource', accountId: '111122223333' })),
    ).toEqual([]);
  });
});

describe('kind inference and options', () => {
  it('infers identity, trust and resource policies from their shape', () => {
    const doc = (s: Stmt[]): ReturnType<typeof parsePolicyDocument> => parsePolicyDocument({ Version: '2012-10-17', Statement: s });
    expect(inferPolicyKind(doc([allow({ Action: 's3:GetObject', Resource: '*' })]))).toBe('identity');
    expect(inferPolicyKind(doc([allow({ Principal: { Service: 'ec2.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] })]))).toBe('trust');
    expect(inferPolicyKind(doc([allow({ Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' })]))).toBe('resource');
    expect(inferPolicyKind(doc([allow({ Principal: '*', Action: 'sts:AssumeRole', Resource: '*' })]))).toBe('resource');
  });

  it('rejects malformed options', () => {
    expect(() => analyze([allow({ Action: 's3:GetObject', Resource: '*' })], { knownAccounts: ['12345'] })).toThrow(/12 digits/);
  });

  it('maxSeverity gives what a detection rule raises its alert to', () => {
    expect(maxSeverity([])).toBeUndefined();
    expect(maxSeverity(analyze([allow({ Action: ['iam:PassRole', 'sqs:SendMessage'], Resource: '*' })]))).toBe('high');
  });

  it('the rule catalog covers every rule id once', () => {
    expect(policyRules.map((r) => r.id).sort()).toEqual([...PolicyRuleId.options].sort());
  });
});

describe('managed policy risk', () => {
  it.each([
    ['arn:aws:iam::aws:policy/AdministratorAccess', 'high'],
    ['arn:aws-us-gov:iam::aws:policy/IAMFullAccess', 'high'],
    ['arn:{{AWS.Partition}}:iam::aws:policy/PowerUserAccess', 'high'],
    ['arn:aws:iam::aws:policy/job-function/SystemAdministrator', 'high'],
    ['arn:aws:iam::aws:policy/AmazonS3FullAccess', 'medium'],
    ['arn:aws:iam::aws:policy/AmazonKinesisFullAccess', 'medium'],
    ['arn:aws:iam::aws:policy/job-function/ViewOnlyAccess', 'low'],
    ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole', 'info'],
  ])('%s → %s', (arn, severity) => {
    expect(managedPolicyRisk(arn)?.severity).toBe(severity);
    expect(isAwsManagedPolicyArn(arn)).toBe(true);
  });

  it('has no opinion on customer-managed or unknown AWS policies', () => {
    expect(managedPolicyRisk('arn:aws:iam::111122223333:policy/AdministratorAccess')).toBeUndefined();
    expect(isAwsManagedPolicyArn('arn:aws:iam::111122223333:policy/x')).toBe(false);
    expect(managedPolicyRisk('arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess')).toBeUndefined();
    expect(managedPolicyRisk('arn:aws:iam::aws:policy/constructor')).toBeUndefined();
    expect(managedPolicyRisk('not an arn')).toBeUndefined();
  });
});
