import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { shiftSeverity } from './engine/severity';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, at, attempt, callerUserName, param, str } from './lib/record';

const IAM = 'iam.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});
type Options = z.infer<typeof Options>;

type Target = { kind: 'root' } | { kind: 'self'; user: string } | { kind: 'other'; user: string };

/**
 * Whose key it is. Without `userName` the key is for the caller itself: root's own key when root calls, the IAM
 * user's own key otherwise. With `userName` it is that user's — "another user" unless the caller is that very user.
 */
export function keyTarget(record: CloudTrailRecord, ctx: RuleContext<unknown>): Target {
  const user = param(record, 'userName') ?? str(at(record.responseElements, 'accessKey', 'userName'));
  if (user === undefined) {
    if (ctx.actor.kind === 'root') return { kind: 'root' };
    return { kind: 'self', user: callerUserName(record, ctx) ?? ctx.actor.display };
  }
  return user === callerUserName(record, ctx) ? { kind: 'self', user } : { kind: 'other', user };
}

const createKey = (fields: Partial<CloudTrailRecord>, forUser?: string) =>
  exampleRecord({
    eventSource: IAM,
    eventName: 'CreateAccessKey',
    awsRegion: 'us-east-1',
    requestParameters: forUser ? { userName: forUser } : null,
    responseElements: {
      accessKey: {
        accessKeyId: 'AKIAI44QH8DHBEXAMPLE',
        status: 'Active',
        userName: forUser ?? 'alice',
        createDate: 'Mar 12, 2025, 10:15:00 AM',
      },
    },
    ...fields,
  });

export default defineRule({
  id: 'access-key-created',
  title: 'IAM access key created',
  description:
    'An access key is a long-term credential that works from anywhere until it is deleted. A key created by someone ' +
    'for another user is the classic backdoor (Stratus iam-backdoor-user, iam-create-admin-user): the attacker keeps ' +
    'access through an identity nobody watches. A root access key should never exist. A user creating a key for ' +
    'itself (rotation) is reported at a low level.',
  severity: 'medium',
  categories: ['access-key-created'],
  references: [
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-backdoor-user/',
    'https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_iam_backdoor_users_keys.yml',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_add-key.html',
    'https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-4',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_iam_user_key_created.yml',
  ],
  falsePositives: [
    'Users rotating their own keys (low severity; raise the threshold or allow-list if it is noise).',
    'An administrator issuing a key for a service account that cannot use a role (document it).',
  ],
  runbook:
    '1. Find the key (alert context `accessKeyId`) and its owner; ask the caller why it was created. ' +
    '2. If unexpected: `aws iam update-access-key --status Inactive` at once, then delete it; review what the key ' +
    'did (CloudTrail `userIdentity.accessKeyId`). For a root key: delete it and rotate the root password and MFA.',
  events: [{ source: IAM, names: ['CreateAccessKey'] }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    const target = keyTarget(record, ctx);
    let steps = target.kind === 'root' ? 2 : target.kind === 'other' ? 1 : -1;
    if (ctx.actor.kind === 'root' && target.kind !== 'root') steps += 1;
    if (!ctx.succeeded) steps -= 1;
    return shiftSeverity(base, steps);
  },

  alertTitle(record, ctx) {
    const target = keyTarget(record, ctx);
    const via = viaService(record);
    if (target.kind === 'root') return attempt(ctx, `Root access key created${via}`);
    if (target.kind === 'self') return attempt(ctx, `Access key created by ${target.user} for itself${via}`);
    return attempt(ctx, `Access key created for another user: ${target.user}, by ${ctx.actor.display}${via}`);
  },

  // Per caller and key owner: the same person minting keys for two users is two backdoors.
  dedupKey(record, ctx) {
    const target = keyTarget(record, ctx);
    return `${actorKey(ctx)}|${target.kind === 'root' ? 'root' : target.user}`;
  },

  alertContext(record, ctx) {
    const target = keyTarget(record, ctx);
    return {
      keyFor: target.kind === 'root' ? 'root' : target.user,
      forAnotherUser: target.kind === 'other',
      ...(str(at(record.responseElements, 'accessKey', 'accessKeyId')) ? { accessKeyId: at(record.responseElements, 'accessKey', 'accessKeyId') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'a key for another user (Stratus iam-backdoor-user)',
        record: createKey({}, 'stratus-red-team-backdoor-u-user'),
        expect: {
          severity: 'high',
          title: 'another user: stratus-red-team-backdoor-u-user',
          dedupKey: 'arn:aws:iam::111122223333:user/alice|stratus-red-team-backdoor-u-user',
        },
      },
      {
        name: 'root creates a root access key',
        record: createKey({ userIdentity: identities.root(), responseElements: { accessKey: { accessKeyId: 'AKIAI44QH8DHBEXAMPLE', status: 'Active' } } }),
        expect: { severity: 'critical', title: 'Root access key created' },
      },
      {
        name: 'a user rotating its own key is low',
        record: createKey({}),
        expect: { severity: 'low', title: 'by alice for itself' },
      },
      {
        name: 'a user naming itself explicitly is still its own key',
        record: createKey({}, 'alice'),
        expect: { severity: 'low' },
      },
      {
        name: 'a denied attempt for another user, by an assumed role',
        record: createKey(
          {
            userIdentity: identities.assumedRole('ci-runner', 'build-881'),
            responseElements: null,
            errorCode: 'AccessDenied',
            errorMessage: 'User: arn:aws:sts::111122223333:assumed-role/ci-runner/build-881 is not authorized to perform: iam:CreateAccessKey',
          },
          'deploy-bot',
        ),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'CloudFormation creating a key for a stack user, CloudFormation allow-listed',
        config: { rules: { 'access-key-created': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: createKey(
          {
            sourceIPAddress: 'cloudformation.amazonaws.com',
            userAgent: 'cloudformation.amazonaws.com',
            userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
          },
          'svc-legacy-ftp',
        ),
      },
      {
        name: 'deleting an access key',
        record: exampleRecord({ eventSource: IAM, eventName: 'DeleteAccessKey', requestParameters: { accessKeyId: 'AKIAI44QH8DHBEXAMPLE', userName: 'bob' } }),
      },
      {
        name: 'deactivating an access key',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'UpdateAccessKey',
          requestParameters: { accessKeyId: 'AKIAI44QH8DHBEXAMPLE', status: 'Inactive', userName: 'bob' },
        }),
      },
    ],
  },
});
