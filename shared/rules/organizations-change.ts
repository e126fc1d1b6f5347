import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepString } from './lib/deep';
import { actorKey, adjust, attempt } from './lib/record';

const ORGS = 'organizations.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

/** CIS 4.15. */
const EVENTS = [
  'AcceptHandshake',
  'AttachPolicy',
  'CreateAccount',
  'CreateOrganizationalUnit',
  'CreatePolicy',
  'DeclineHandshake',
  'DeleteOrganization',
  'DeleteOrganizationalUnit',
  'DeletePolicy',
  'DetachPolicy',
  'DisablePolicyType',
  'EnablePolicyType',
  'InviteAccountToOrganization',
  'LeaveOrganization',
  'MoveAccount',
  'RemoveAccountFromOrganization',
  'UpdatePolicy',
  'UpdateOrganizationalUnit',
] as const;

/** Calls that remove accounts from the organization's guardrails (SCPs, the organization itself). */
const LOOSENS = new Set(['DeleteOrganization', 'RemoveAccountFromOrganization', 'DetachPolicy', 'DisablePolicyType', 'DeletePolicy', 'UpdatePolicy']);

const subjectOf = (record: CloudTrailRecord): string | undefined =>
  deepString(record.requestParameters, 'accountId') ??
  deepString(record.requestParameters, 'policyId') ??
  deepString(record.requestParameters, 'organizationalUnitId') ??
  deepString(record.requestParameters, 'handshakeId') ??
  deepString(record.requestParameters, 'name') ??
  deepString(record.requestParameters, 'id');

const orgCall = (eventName: string, requestParameters: Record<string, unknown> | null, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: ORGS, eventName, awsRegion: 'us-east-1', requestParameters, ...extra });

export default defineRule({
  id: 'organizations-change',
  title: 'AWS Organizations changed',
  description:
    'Changes to the organization (CIS 4.15): accounts created, invited, moved or removed, OUs, service control ' +
    'policies and handshakes. LeaveOrganization is critical even when it failed: an account trying to escape its ' +
    'SCPs and central logging (Stratus organizations-leave). Removing accounts, detaching, changing or deleting ' +
    'SCPs and disabling a policy type are high; the rest medium.',
  severity: 'medium',
  categories: ['organizations-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-15',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.organizations-leave/',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_cloudtrail_attempt_to_leave_org.yml',
  ],
  falsePositives: ['Account vending (Control Tower Account Factory, AFT): allow-list its role.'],
  runbook:
    '1. For LeaveOrganization: find who holds organizations:LeaveOrganization in that account and revoke it; make ' +
    'sure an SCP denies it. 2. For SCP changes: compare the policy with its reviewed version and restore it.',
  events: [{ source: ORGS, names: EVENTS }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    if (record.eventName === 'LeaveOrganization') return 'critical';
    return adjust(ctx, base, LOOSENS.has(record.eventName) ? 1 : 0);
  },

  alertTitle(record, ctx) {
    if (record.eventName === 'LeaveOrganization') {
      return `${ctx.succeeded ? 'Account left the organization' : 'Attempt to leave the organization (failed)'}: ${ctx.account}, by ${ctx.actor.display}`;
    }
    const subject = subjectOf(record);
    return attempt(ctx, `Organizations ${record.eventName}${subject ? ` ${subject}` : ''} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller: one person reorganising accounts or policies is one incident.
  dedupKey(_record, ctx) {
    return actorKey(ctx);
  },

  alertContext(record) {
    return { ...(subjectOf(record) ? { subject: subjectOf(record) } : {}) };
  },

  examples: {
    match: [
      {
        name: 'a failed LeaveOrganization is still critical (Stratus organizations-leave)',
        record: orgCall('LeaveOrganization', null, {
          userIdentity: identities.assumedRole('stratus-red-team-leave-org-role', 'aws-go-sdk-1722587398902687000'),
          errorCode: 'AccessDenied',
          errorMessage:
            'User: arn:aws:sts::111122223333:assumed-role/stratus-red-team-leave-org-role/aws-go-sdk-1722587398902687000 is not authorized to perform: organizations:LeaveOrganization on resource: *',
        }),
        expect: { severity: 'critical', title: 'Attempt to leave the organization (failed)', dedupKey: 'arn:aws:sts::111122223333:assumed-role/stratus-red-team-leave-org-role/aws-go-sdk-1722587398902687000' },
      },
      {
        name: 'an SCP detached from an OU is high',
        record: orgCall('DetachPolicy', { policyId: 'p-examplepolicyid111', targetId: 'ou-exam-ple1abcd' }),
        expect: { severity: 'high', title: 'DetachPolicy p-examplepolicyid111' },
      },
      {
        name: 'an account created is medium',
        record: orgCall('CreateAccount', { accountName: 'sandbox-7', email: 'HIDDEN_DUE_TO_SECURITY_REASONS' }),
        expect: { severity: 'medium' },
      },
    ],
    noMatch: [
      {
        name: 'describing the organization',
        record: orgCall('DescribeOrganization', null, { readOnly: true }),
      },
      {
        name: 'account vending through CloudFormation, allow-listed',
        config: { rules: { 'organizations-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: orgCall('MoveAccount', { accountId: '444455556666', sourceParentId: 'r-exam', destinationParentId: 'ou-exam-ple1abcd' }, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('aft-admin', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
