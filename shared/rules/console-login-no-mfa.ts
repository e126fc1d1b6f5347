import type { CloudTrailRecord } from '../cloudtrail/record';
import { identities } from './engine/example-record';
import { shiftSeverity } from './engine/severity';
import { defineRule } from './engine/types';
import { actorKey } from './lib/record';
import { consoleLogin } from './lib/signin-example';

const SIGNIN = 'signin.amazonaws.com';

/**
 * Only IAM users and root sign in with a password that MFA protects. A federated sign-in (SAML, Identity Center)
 * is an AssumedRole identity whose MFA happened at the identity provider, so `MFAUsed: No` on it means nothing.
 */
const passwordIdentity = (record: CloudTrailRecord): boolean =>
  (record.userIdentity?.type === 'IAMUser' || record.userIdentity?.type === 'Root') && record.additionalEventData?.SamlProviderArn === undefined;

export default defineRule({
  id: 'console-login-no-mfa',
  title: 'Console sign-in without MFA',
  description:
    'A successful console sign-in by an IAM user or root with `MFAUsed: No` (CIS 4.2): a password alone opened ' +
    'the console, so a phished or reused password is enough (Stratus console-login-without-mfa). Federated ' +
    'sign-ins (SAML, IAM Identity Center) are not reported: their MFA happens at the identity provider and ' +
    'CloudTrail cannot see it. Root without MFA is critical.',
  severity: 'medium',
  categories: ['console-login-no-mfa'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-2',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.initial-access.console-login-without-mfa/',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_login_without_mfa.py',
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html',
  ],
  falsePositives: ['Break-glass users kept without MFA on purpose (allow-list them, and monitor them separately).'],
  runbook:
    '1. Ask the user whether they signed in (time and source IP in the alert). ' +
    '2. Enforce MFA for the user (a policy denying everything without aws:MultiFactorAuthPresent), or move the user ' +
    'to Identity Center. If the sign-in was not theirs: reset the password, and review the session’s calls.',
  events: [{ source: SIGNIN, names: ['ConsoleLogin'] }],

  match(record, ctx) {
    return ctx.succeeded && passwordIdentity(record) && record.additionalEventData?.MFAUsed === 'No';
  },

  severityFor(_record, ctx, base) {
    return ctx.actor.kind === 'root' ? shiftSeverity(base, 2) : base;
  },

  alertTitle(_record, ctx) {
    return ctx.actor.kind === 'root' ? 'Root signed in to the console without MFA' : `Console sign-in without MFA by IAM user ${ctx.actor.display}`;
  },

  // Per user: repeated sign-ins of one user in one file are one finding.
  dedupKey(_record, ctx) {
    return actorKey(ctx);
  },

  alertContext(record) {
    return { mfaUsed: 'No', ...(typeof record.additionalEventData?.LoginTo === 'string' ? { loginTo: record.additionalEventData.LoginTo.split('?')[0] } : {}) };
  },

  examples: {
    match: [
      {
        name: 'an IAM user signs in with a password only (Stratus console-login-without-mfa)',
        record: consoleLogin(identities.iamUser('stratus-red-team-nmfalu'), { success: true, mfa: false }),
        expect: { severity: 'medium', title: 'by IAM user stratus-red-team-nmfalu', dedupKey: 'arn:aws:iam::111122223333:user/stratus-red-team-nmfalu' },
      },
      {
        name: 'root without MFA is critical',
        record: consoleLogin(identities.root(), { success: true, mfa: false }),
        expect: { severity: 'critical', title: 'Root signed in' },
      },
    ],
    noMatch: [
      {
        name: 'an IAM user with MFA',
        record: consoleLogin(identities.iamUser('alice'), { success: true, mfa: true }),
      },
      {
        name: 'a failed sign-in (its own rule)',
        record: consoleLogin(identities.iamUser('alice'), { success: false, mfa: false }),
      },
      {
        name: 'a SAML-federated sign-in (MFA happens at the identity provider)',
        record: consoleLogin(identities.assumedRole('Admin', 'dana@example.com'), { success: true, mfa: false, saml: 'arn:aws:iam::111122223333:saml-provider/Okta' }),
      },
      {
        name: 'an Identity Center sign-in through a permission-set role',
        record: consoleLogin(identities.ssoUser(), { success: true, mfa: false }),
      },
    ],
  },
});
