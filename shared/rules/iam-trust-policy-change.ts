import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { knownAccountsOption } from './lib/accounts';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { type DocumentAnalysis, analyzeDocumentText, findingFacts, worstFinding } from './lib/policy-docs';
import { actorKey, adjust, attempt, highest, param } from './lib/record';

const IAM = 'iam.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  knownAccounts: knownAccountsOption(),
  reportAllRoleCreations: z
    .boolean()
    .default(false)
    .describe('Report every CreateRole, not only those whose trust policy is risky (a finding of medium or more).'),
});
type Options = z.infer<typeof Options>;

// Trust-policy checks of the analyzer that make a new role worth an alert.
const RISKY = new Set(['principal-wildcard', 'principal-unknown-account', 'trust-missing-external-id', 'trust-oidc-unscoped', 'allow-not-principal']);

function trustOf(record: CloudTrailRecord, ctx: RuleContext<Options>): DocumentAnalysis {
  const text = record.eventName === 'CreateRole' ? record.requestParameters?.assumeRolePolicyDocument : record.requestParameters?.policyDocument;
  return analyzeDocumentText(text, { kind: 'trust', account: ctx.account, knownAccounts: ctx.options.knownAccounts });
}

/** Principals of other accounts the trust names that are not among the known accounts. */
const externalPrincipals = (doc: DocumentAnalysis): string[] =>
  [...new Set(doc.findings.filter((f) => f.ruleId === 'principal-unknown-account').flatMap((f) => f.subjects))];

const trustDoc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);

export default defineRule({
  id: 'iam-trust-policy-change',
  title: 'IAM role trust policy changed or opened',
  description:
    'A role’s trust policy decides who can become the role. UpdateAssumeRolePolicy is always reported (Stratus ' +
    'iam-backdoor-role adds an external account to an existing role); CreateRole is reported when its trust policy ' +
    'is risky (Stratus iam-create-backdoor-role): open to "*" (critical), to an account outside your own and the ' +
    'configured `knownAccounts` (high), cross-account without sts:ExternalId, or a web-identity trust without a ' +
    '`sub` condition (any GitHub repository could assume it). Severity follows the worst finding of vigil’s policy analyzer.',
  severity: 'medium',
  categories: ['iam-policy-change'],
  references: [
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-role/',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-backdoor-role/',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_iam_backdoor_role.yml',
  ],
  falsePositives: [
    'Roles for vendors (monitoring, backup) that must trust the vendor’s account: add it to knownAccounts once reviewed.',
    'Infrastructure as code updating trust policies (allow-list the deployment role or CloudFormation).',
  ],
  runbook:
    '1. Read the principals in the alert context (`externalPrincipals`, findings). ' +
    '2. If the trust was not reviewed: restore the previous trust policy (`aws iam update-assume-role-policy`) or ' +
    'delete the new role, and look for AssumeRole calls from the external account (CloudTrail of this account, ' +
    '`sts:AssumeRole` with the role ARN).',
  events: [{ source: IAM, names: ['UpdateAssumeRolePolicy', 'CreateRole'] }],
  options: Options,

  match(record, ctx) {
    if (!notAllowedAwsCaller(record, ctx.options.allowAwsServices)) return false;
    if (record.eventName === 'UpdateAssumeRolePolicy' || ctx.options.reportAllRoleCreations) return true;
    return trustOf(record, ctx).findings.some((f) => RISKY.has(f.ruleId) && f.severity !== 'info' && f.severity !== 'low');
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, highest(base, trustOf(record, ctx).severity));
  },

  alertTitle(record, ctx) {
    const role = param(record, 'roleName') ?? 'unknown';
    const doc = trustOf(record, ctx);
    const external = externalPrincipals(doc);
    const worst = worstFinding(doc.findings);
    const what = record.eventName === 'CreateRole' ? `Role ${role} created` : `Trust policy of role ${role} changed`;
    const why = external.length > 0 ? `: now trusts external ${external.join(', ')}` : worst && worst.severity !== 'info' ? `: ${worst.message}` : '';
    return attempt(ctx, `${what} by ${ctx.actor.display}${viaService(record)}${why}`);
  },

  // Per caller and role.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|role/${param(record, 'roleName') ?? 'unknown'}`;
  },

  alertContext(record, ctx) {
    const doc = trustOf(record, ctx);
    return {
      roleName: param(record, 'roleName') ?? null,
      externalPrincipals: externalPrincipals(doc),
      findings: findingFacts(doc.findings),
      ...(doc.error ? { documentError: doc.error } : {}),
      ...(param(record, 'permissionsBoundary') ? { permissionsBoundary: param(record, 'permissionsBoundary') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'an external account added to an existing role (Stratus iam-backdoor-role)',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'UpdateAssumeRolePolicy',
          awsRegion: 'us-east-1',
          requestParameters: {
            roleName: 'stratus-red-team-backdoor-r-role',
            policyDocument: trustDoc([
              { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
              { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::193672423079:root' }, Action: 'sts:AssumeRole' },
            ]),
          },
        }),
        expect: {
          severity: 'high',
          title: 'now trusts external arn:aws:iam::193672423079:root',
          dedupKey: 'arn:aws:iam::111122223333:user/alice|role/stratus-red-team-backdoor-r-role',
        },
      },
      {
        name: 'a new role anyone can assume is critical',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'CreateRole',
          awsRegion: 'us-east-1',
          requestParameters: { roleName: 'open-role', assumeRolePolicyDocument: trustDoc([{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }]) },
        }),
        expect: { severity: 'critical', title: 'Role open-role created' },
      },
      {
        name: 'a GitHub OIDC trust without a sub condition',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'CreateRole',
          awsRegion: 'us-east-1',
          requestParameters: {
            roleName: 'github-deploy',
            assumeRolePolicyDocument: trustDoc([
              {
                Effect: 'Allow',
                Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' },
                Action: 'sts:AssumeRoleWithWebIdentity',
                Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' } },
              },
            ]),
          },
        }),
        expect: { severity: 'high' },
      },
      {
        name: 'a denied trust update is one level lower',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'UpdateAssumeRolePolicy',
          awsRegion: 'us-east-1',
          requestParameters: { roleName: 'Admin', policyDocument: trustDoc([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: 'sts:AssumeRole' }]) },
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:UpdateAssumeRolePolicy on resource: role Admin',
        }),
        expect: { severity: 'medium', title: 'Attempt failed: Trust policy of role Admin changed by alice: now trusts external arn:aws:iam::999988887777:root' },
      },
      {
        name: 'a trust update to an own-account service is still reported (CIS: every policy change)',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'UpdateAssumeRolePolicy',
          awsRegion: 'us-east-1',
          requestParameters: { roleName: 'app', policyDocument: trustDoc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) },
        }),
        expect: { severity: 'medium', title: 'Trust policy of role app changed' },
      },
    ],
    noMatch: [
      {
        name: 'a role for a Lambda function (service trust only)',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'CreateRole',
          awsRegion: 'us-east-1',
          requestParameters: { roleName: 'fn-exec', assumeRolePolicyDocument: trustDoc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) },
        }),
      },
      {
        name: 'a role trusting an account listed in knownAccounts, with an external id',
        config: { rules: { 'iam-trust-policy-change': { options: { knownAccounts: ['444455556666'] } } } },
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'CreateRole',
          awsRegion: 'us-east-1',
          requestParameters: {
            roleName: 'org-audit',
            assumeRolePolicyDocument: trustDoc([
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::444455556666:root' },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'sts:ExternalId': 'audit-7f3a' } },
              },
            ]),
          },
        }),
      },
      {
        name: 'CloudFormation updating a trust policy, with AWS service callers allow-listed',
        config: { rules: { 'iam-trust-policy-change': { options: { allowAwsServices: ['*.amazonaws.com'] } } } },
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'UpdateAssumeRolePolicy',
          awsRegion: 'us-east-1',
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
          requestParameters: { roleName: 'app', policyDocument: trustDoc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) },
        }),
      },
    ],
  },
});
