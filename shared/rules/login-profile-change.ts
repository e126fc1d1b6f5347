import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, adjust, attempt, callerUserName, param } from './lib/record';

const IAM = 'iam.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

/** The user whose console password is set, when it is not the caller's own. */
function otherUser(record: CloudTrailRecord, ctx: RuleContext<unknown>): string | undefined {
  const target = param(record, 'userName');
  if (target === undefined) return undefined; // no userName: the caller's own profile
  return target === callerUserName(record, ctx) ? undefined : target;
}

const profileCall = (eventName: 'CreateLoginProfile' | 'UpdateLoginProfile', userName: string | undefined, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({
    eventSource: IAM,
    eventName,
    awsRegion: 'us-east-1',
    requestParameters: userName === undefined ? { passwordResetRequired: false } : { userName, passwordResetRequired: false },
    responseElements:
      eventName === 'CreateLoginProfile'
        ? { loginProfile: { userName: userName ?? 'alice', createDate: 'Mar 12, 2025, 10:15:00 AM', passwordResetRequired: false } }
        : null,
    ...extra,
  });

export default defineRule({
  id: 'login-profile-change',
  title: 'Console password set for another user',
  description:
    'CreateLoginProfile or UpdateLoginProfile for a user other than the caller gives the caller (or whoever they ' +
    'tell) that user’s console access: a takeover of the identity (Stratus iam-create-user-login-profile, ' +
    'iam-update-user-login-profile). Users changing their own password are not reported. A password set with ' +
    '`passwordResetRequired: true` is one level lower: the owner must replace it at the next sign-in.',
  severity: 'high',
  categories: ['login-profile-change'],
  references: [
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-user-login-profile/',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.privilege-escalation.iam-update-user-login-profile/',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_admin-change-user.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_cloudtrail_loginprofilecreatedormodified.yml',
  ],
  falsePositives: [
    'A help-desk administrator resetting a forgotten password with passwordResetRequired (reported one level lower; allow-list the help-desk role if routine).',
  ],
  runbook:
    '1. Ask the caller why they set the password of that user. ' +
    '2. If unexpected: `aws iam delete-login-profile --user-name <user>`, check the user’s MFA devices and keys, and ' +
    'review console sign-ins of that user since firstSeen.',
  events: [{ source: IAM, names: ['CreateLoginProfile', 'UpdateLoginProfile'] }],
  options: Options,

  match(record, ctx) {
    return otherUser(record, ctx) !== undefined && notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    // With a reset required, the password the caller chose dies at the owner's next sign-in; without (false, or
    // absent on UpdateLoginProfile, which keeps the previous setting) the caller may keep using it.
    const resetRequired = record.requestParameters?.passwordResetRequired === true;
    return adjust(ctx, base, resetRequired ? -1 : 0);
  },

  alertTitle(record, ctx) {
    const verb = record.eventName === 'CreateLoginProfile' ? 'Console password created' : 'Console password changed';
    return attempt(ctx, `${verb} for another user: ${otherUser(record, ctx)}, by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and target user: one takeover of one identity.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${otherUser(record, ctx)}`;
  },

  alertContext(record, ctx) {
    return {
      targetUser: otherUser(record, ctx),
      ...(typeof record.requestParameters?.passwordResetRequired === 'boolean'
        ? { passwordResetRequired: record.requestParameters.passwordResetRequired }
        : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'CreateLoginProfile for another user (Stratus iam-create-user-login-profile)',
        record: profileCall('CreateLoginProfile', 'stratus-red-team-login-profile-user'),
        expect: {
          severity: 'high',
          title: 'created for another user: stratus-red-team-login-profile-user',
          dedupKey: 'arn:aws:iam::111122223333:user/alice|stratus-red-team-login-profile-user',
        },
      },
      {
        name: 'UpdateLoginProfile by an Identity Center administrator, reset required on next sign-in',
        record: profileCall('UpdateLoginProfile', 'bob', {
          userIdentity: identities.ssoUser(),
          requestParameters: { userName: 'bob', passwordResetRequired: true },
        }),
        expect: { severity: 'medium', title: 'changed for another user: bob' },
      },
      {
        name: 'a failed attempt (AccessDenied) is one level lower',
        record: profileCall('UpdateLoginProfile', 'admin', {
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:UpdateLoginProfile on resource: user admin',
        }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'a user updating its own login profile',
        record: profileCall('UpdateLoginProfile', 'alice'),
      },
      {
        name: 'a login profile without userName (the caller’s own)',
        record: profileCall('CreateLoginProfile', undefined),
      },
      {
        name: 'DeleteLoginProfile is not in this rule (the Stratus failed delete is not an authorization error either)',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'DeleteLoginProfile',
          requestParameters: { userName: 'stratus-red-team-login-profile-user' },
          errorCode: 'EntityTemporarilyUnmodifiableException',
          errorMessage: 'Login Profile for User stratus-red-team-login-profile-user cannot be modified while login profile is being created.',
        }),
      },
      {
        name: 'an AWS service allow-listed for this rule',
        config: { rules: { 'login-profile-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: profileCall('CreateLoginProfile', 'svc-console', {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
