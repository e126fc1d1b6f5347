import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import type { RuleContext } from './engine/context';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, adjust, attempt, param } from './lib/record';

const IAM = 'iam.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});
type Options = z.infer<typeof Options>;

/** Why this creation is more suspicious than usual (name outside the pattern, caller outside the networks). */
function concerns(record: CloudTrailRecord, ctx: RuleContext<Options>): string[] {
  const out: string[] = [];
  const name = param(record, 'userName');
  const pattern = ctx.userNamePattern;
  if (pattern && name !== undefined && !pattern.test(name)) out.push(`name "${name}" breaks the naming pattern ${ctx.settings.iamUserNamePattern}`);
  // Only an address can be outside the networks; a service name or an unparseable value is not judged here.
  if (ctx.source.kind === 'ip' && ctx.sourceAllowed === false) out.push(`created from ${ctx.source.value}, outside the allowed networks`);
  return out;
}

const createUser = (userName: string, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({
    eventSource: IAM,
    eventName: 'CreateUser',
    awsRegion: 'us-east-1',
    requestParameters: { userName, tags: [{ key: 'team', value: 'payments' }] },
    responseElements: {
      user: {
        path: '/',
        userName,
        userId: 'AIDAEXAMPLEUSERID0001',
        arn: `arn:aws:iam::111122223333:user/${userName}`,
        createDate: 'Mar 12, 2025, 10:15:00 AM',
      },
    },
    ...extra,
  });

export default defineRule({
  id: 'iam-user-created',
  title: 'IAM user created',
  description:
    'A new IAM user is a new set of long-term credentials (a password, access keys) that outlives any session: a ' +
    'classic persistence step (Stratus iam-create-admin-user). Teams that use Identity Center rarely create IAM ' +
    'users at all. The alert is more severe when the name breaks the configured `iamUserNamePattern`, or when the ' +
    'call came from outside `allowedSourceCidrs` (both optional); root creating a user is more severe still.',
  severity: 'medium',
  categories: ['iam-user-created'],
  references: [
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/',
    'https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_iam_backdoor_users_keys.yml',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_users_create.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_iam_create_user.yml',
  ],
  falsePositives: [
    'Onboarding through an identity pipeline or infrastructure as code (allow-list its principal ARN).',
    'A service account for a third-party tool that cannot use roles (name it by the pattern).',
  ],
  runbook:
    '1. Ask the creator (alert "Who") why the user exists; check its policies (`aws iam list-attached-user-policies`, ' +
    '`list-user-policies`), keys and login profile. ' +
    '2. If unexpected: deactivate its access keys, delete its login profile, detach its policies, then delete the user; ' +
    'treat the creator as compromised and review its other calls.',
  events: [{ source: IAM, names: ['CreateUser'] }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, concerns(record, ctx).length);
  },

  alertTitle(record, ctx) {
    const name = param(record, 'userName') ?? 'unknown';
    const c = concerns(record, ctx);
    return attempt(ctx, `IAM user ${name} created by ${ctx.actor.display}${viaService(record)}${c.length > 0 ? ` — ${c[0]}` : ''}`);
  },

  // One incident per creator: a script creating five users is one alert with a count of five.
  dedupKey(_record, ctx) {
    return actorKey(ctx);
  },

  alertContext(record, ctx) {
    return {
      userName: param(record, 'userName') ?? null,
      ...(ctx.settings.iamUserNamePattern !== undefined ? { namePattern: ctx.settings.iamUserNamePattern } : {}),
      concerns: concerns(record, ctx),
    };
  },

  examples: {
    match: [
      {
        name: 'an IAM user creates another user (Stratus iam-create-admin-user)',
        record: createUser('malicious-iam-user'),
        expect: { severity: 'medium', title: 'IAM user malicious-iam-user created by alice', dedupKey: 'arn:aws:iam::111122223333:user/alice' },
      },
      {
        name: 'a name outside the naming pattern is more severe',
        config: { iamUserNamePattern: 'svc-[a-z0-9-]+' },
        record: createUser('backup2'),
        expect: { severity: 'high', title: 'breaks the naming pattern' },
      },
      {
        name: 'outside the pattern and from outside the allowed networks',
        config: { iamUserNamePattern: 'svc-[a-z0-9-]+', allowedSourceCidrs: ['198.51.100.0/24'] },
        record: createUser('backup2'),
        expect: { severity: 'critical' },
      },
      {
        name: 'a failed attempt is reported one level lower',
        record: createUser('svc-reporting', {
          responseElements: null,
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/svc-reporting',
        }),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
      {
        name: 'CloudFormation creating a user for a stack is reported (not allow-listed by default)',
        record: createUser('svc-stack-user', {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userAgent: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
        expect: { title: 'via cloudformation.amazonaws.com' },
      },
    ],
    noMatch: [
      {
        name: 'CloudFormation creating a user when CloudFormation is allow-listed',
        config: { rules: { 'iam-user-created': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: createUser('svc-stack-user', {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userAgent: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'the onboarding role allow-listed by principal',
        config: { rules: { 'iam-user-created': { allow: { principals: ['arn:aws:iam::111122223333:role/identity-pipeline'] } } } },
        record: createUser('svc-batch', { userIdentity: identities.assumedRole('identity-pipeline', 'run-42') }),
      },
      {
        name: 'creating a group is not creating a user',
        record: exampleRecord({ eventSource: IAM, eventName: 'CreateGroup', awsRegion: 'us-east-1', requestParameters: { groupName: 'auditors' } }),
      },
      {
        name: 'an Identity Center user created in the identity store (not IAM)',
        record: exampleRecord({
          eventSource: 'sso-directory.amazonaws.com',
          eventName: 'CreateUser',
          requestParameters: { identityStoreId: 'd-1234567890', userName: 'dana@example.com' },
        }),
      },
    ],
  },
});
