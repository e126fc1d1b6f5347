import { z } from 'zod';
import { Glob } from '../config/detection';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { type GlobList, globList } from './engine/patterns';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, awsServiceAllowed, awsServiceOf } from './lib/aws-callers';
import { adjust, principalKey } from './lib/record';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption(['*'], 'Default "*": denials of AWS services’ own calls (service-linked roles, invokedBy) are not alerts.'),
  ignoreEvents: z
    .array(Glob)
    .max(500)
    .default([])
    .describe('`eventSource:eventName` globs whose denials are expected noise, e.g. "ec2.amazonaws.com:Describe*" for a console team.'),
});
type Options = z.infer<typeof Options>;

/** CIS 4.1: `($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")`. */
export function isAuthorizationFailure(errorCode: string | undefined): boolean {
  return errorCode !== undefined && (errorCode.endsWith('UnauthorizedOperation') || errorCode.startsWith('AccessDenied'));
}

// Denials on these services (or these calls) are attempts on identities, secrets, logs or keys.
const SENSITIVE_SOURCES = new Set(
  ['iam', 'sts', 'organizations', 'cloudtrail', 'kms', 'secretsmanager', 'config', 'guardduty', 'securityhub', 'access-analyzer', 'sso', 'sso-directory', 'identitystore'].map(
    (s) => `${s}.amazonaws.com`,
  ),
);
const SENSITIVE_CALLS = new Set([
  'ec2.amazonaws.com:GetPasswordData',
  'ec2.amazonaws.com:DescribeInstanceAttribute',
  'ec2.amazonaws.com:ModifyInstanceAttribute',
  'ec2.amazonaws.com:ModifySnapshotAttribute',
  'ec2.amazonaws.com:ModifyImageAttribute',
  'ssm.amazonaws.com:GetParameter',
  'ssm.amazonaws.com:GetParameters',
  'ssm.amazonaws.com:GetParametersByPath',
  'ssm.amazonaws.com:SendCommand',
  'ssm.amazonaws.com:StartSession',
  's3.amazonaws.com:PutBucketPolicy',
  's3.amazonaws.com:DeleteBucketPolicy',
  'lambda.amazonaws.com:UpdateFunctionCode20150331v2',
  'lambda.amazonaws.com:AddPermission20150331v2',
]);

const sensitive = (record: CloudTrailRecord): boolean =>
  SENSITIVE_SOURCES.has(record.eventSource) || SENSITIVE_CALLS.has(`${record.eventSource}:${record.eventName}`);

const ignoreLists = new WeakMap<readonly string[], GlobList>();
function ignored(record: CloudTrailRecord, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return false;
  let list = ignoreLists.get(patterns);
  if (!list) ignoreLists.set(patterns, (list = globList(patterns)));
  return list.matches(`${record.eventSource}:${record.eventName}`);
}

function awsSelfCall(record: CloudTrailRecord, ctx: RuleContext<Options>): boolean {
  const service = awsServiceOf(record);
  return service !== undefined && awsServiceAllowed(ctx.options.allowAwsServices, service);
}

const denied = (fields: Partial<CloudTrailRecord> & Pick<CloudTrailRecord, 'eventSource' | 'eventName'>, code = 'AccessDenied') =>
  exampleRecord({
    errorCode: code,
    errorMessage: `User: ${String(fields.userIdentity?.arn ?? 'arn:aws:iam::111122223333:user/alice')} is not authorized to perform: ${fields.eventSource.split('.')[0]}:${fields.eventName}`,
    ...fields,
  });

export default defineRule({
  id: 'unauthorized-api-call',
  title: 'Unauthorized API calls',
  description:
    'Calls denied by IAM (CIS 4.1): errorCode `*UnauthorizedOperation` (EC2 writes `Client.UnauthorizedOperation`) ' +
    'or `AccessDenied*`. Someone is trying things their credentials do not allow — a stolen key being explored, a ' +
    'scanner, or a misconfigured workload. Denials of AWS services’ own calls are excluded (configurable). All ' +
    'denials of one principal (every session of one role counts as one) in one log file are one alert with a count, ' +
    'so a scanner yields one alert. Denials on identity, secrets, logging and key services are high, other writes ' +
    'medium, other reads low; the alert takes the highest.',
  severity: 'medium',
  categories: ['unauthorized-api-call'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.credential-access.ec2-get-password-data/',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_unauthorized_api_call.yml',
  ],
  falsePositives: [
    'Console users opening pages they lack permissions for (reads: low; raise the threshold for their profile, or ignoreEvents).',
    'A workload deployed with a too-narrow policy (fix the policy; the count shows how often).',
  ],
  runbook:
    '1. Look at the principal, the event names (alert context `eventNames`) and the count. ' +
    '2. Many different calls in a short time from one principal is enumeration: check where its credentials are ' +
    'used from (source IP, user agent), and rotate or revoke them if that is not the expected place.',
  events: 'all',
  options: Options,

  match(record, ctx) {
    // One string test for nearly every record; everything else only for denials.
    if (!isAuthorizationFailure(record.errorCode)) return false;
    return !awsSelfCall(record, ctx) && !ignored(record, ctx.options.ignoreEvents);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, sensitive(record) ? 1 : ctx.readOnlyOrGuess ? -1 : 0, { failed: 0 });
  },

  alertTitle(record, ctx) {
    return `Unauthorized API calls by ${ctx.actor.sessionIssuer?.name ?? ctx.actor.display}: ${record.eventName} (${record.errorCode})`;
  },

  // Per principal: a role's sessions are one principal, so a scanner that rotates session names is still one alert.
  dedupKey(_record, ctx) {
    return principalKey(ctx);
  },

  alertContext(record) {
    return { errorCode: record.errorCode, deniedAction: `${record.eventSource.replace(/\.amazonaws\.com$/, '')}:${record.eventName}` };
  },

  examples: {
    match: [
      {
        name: 'EC2 GetPasswordData denied to an assumed role (Client.UnauthorizedOperation, Stratus ec2-get-password-data)',
        record: denied(
          {
            eventSource: 'ec2.amazonaws.com',
            eventName: 'GetPasswordData',
            readOnly: true,
            userIdentity: identities.assumedRole('stratus-red-team-ec2-get-password-data-role', 'aws-go-sdk-1722375070115152000'),
            requestParameters: { instanceId: 'i-0abcdef1234567890' },
          },
          'Client.UnauthorizedOperation',
        ),
        expect: { severity: 'high', title: 'GetPasswordData (Client.UnauthorizedOperation)', dedupKey: 'arn:aws:iam::111122223333:role/stratus-red-team-ec2-get-password-data-role' },
      },
      {
        name: 'LeaveOrganization denied (AccessDenied, Stratus organizations-leave)',
        record: denied({ eventSource: 'organizations.amazonaws.com', eventName: 'LeaveOrganization', userIdentity: identities.assumedRole('leave-org-role', 'aws-go-sdk-1') }),
        expect: { severity: 'high' },
      },
      {
        name: 'a denied write elsewhere is medium',
        record: denied({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', requestParameters: { instanceType: 'p2.xlarge' } }, 'Client.UnauthorizedOperation'),
        expect: { severity: 'medium' },
      },
      {
        name: 'a denied read is low (AccessDeniedException)',
        record: denied({ eventSource: 'dynamodb.amazonaws.com', eventName: 'DescribeTable', readOnly: true, requestParameters: { tableName: 'orders' } }, 'AccessDeniedException'),
        expect: { severity: 'low' },
      },
    ],
    noMatch: [
      {
        name: 'a failure that is not an authorization error (Stratus DeleteLoginProfile, EntityTemporarilyUnmodifiableException)',
        record: exampleRecord({
          eventSource: 'iam.amazonaws.com',
          eventName: 'DeleteLoginProfile',
          requestParameters: { userName: 'stratus-red-team-login-profile-user' },
          errorCode: 'EntityTemporarilyUnmodifiableException',
          errorMessage: 'Login Profile for User stratus-red-team-login-profile-user cannot be modified while login profile is being created.',
        }),
      },
      {
        name: 'an AWS service’s own denied call (service-linked role via invokedBy)',
        record: denied({
          eventSource: 'kms.amazonaws.com',
          eventName: 'Decrypt',
          readOnly: true,
          sourceIPAddress: 'autoscaling.amazonaws.com',
          userIdentity: identities.assumedRole('AWSServiceRoleForAutoScaling', 'AutoScaling', { invokedBy: 'autoscaling.amazonaws.com' }),
        }),
      },
      {
        name: 'a successful call',
        record: exampleRecord({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' }),
      },
      {
        name: 'an ignored event pattern',
        config: { rules: { 'unauthorized-api-call': { options: { ignoreEvents: ['ec2.amazonaws.com:Describe*'] } } } },
        record: denied({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', readOnly: true }, 'Client.UnauthorizedOperation'),
      },
    ],
  },
});
