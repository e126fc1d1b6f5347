import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { identities } from './engine/example-record';
import { shiftSeverity } from './engine/severity';
import { defineRule } from './engine/types';
import { failedIamUser, consoleLogin } from './lib/signin-example';

const SIGNIN = 'signin.amazonaws.com';

const Options = z.strictObject({
  groupBy: z
    .enum(['user', 'source', 'user-and-source'])
    .default('user')
    .describe(
      'What one incident (dedup key) is: user (failures against one user name: a brute force; unknown names are all recorded ' +
        'as HIDDEN_DUE_TO_SECURITY_REASONS, so a spray of made-up names groups too), source (failures from one address: a ' +
        'spray over real user names) or user-and-source.',
    ),
});
type Options = z.infer<typeof Options>;

const targetOf = (record: CloudTrailRecord, ctx: RuleContext<unknown>): string =>
  ctx.actor.kind === 'root' ? 'root' : (record.userIdentity?.userName ?? record.userIdentity?.arn ?? 'unknown user');

export default defineRule({
  id: 'console-login-failure',
  title: 'Failed console sign-ins',
  description:
    'Failed console authentication (CIS 4.6): a password guessed or sprayed. One or two failures are people ' +
    'mistyping, so an alert is raised from the third failure with the same grouping key in one log file ' +
    '(`threshold`, configurable per profile; CIS itself alarms on one). Failures against root are high. ' +
    'An unknown user name is recorded by AWS as HIDDEN_DUE_TO_SECURITY_REASONS.',
  severity: 'medium',
  categories: ['console-login-failure'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-6',
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html',
    'https://attack.mitre.org/techniques/T1110/',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_login_failed.yml',
  ],
  falsePositives: ['A user who forgot a changed password (a handful of failures, then success).'],
  runbook:
    '1. Look at the source address and the user name(s). ' +
    '2. If it is not the user: make sure the user has MFA, block the address if it persists (WAF does not cover the ' +
    'console; use an SCP with aws:SourceIp for IAM users), and watch for a success from the same address.',
  events: [{ source: SIGNIN, names: ['ConsoleLogin'] }],
  options: Options,
  threshold: 3,

  match(_record, ctx) {
    return !ctx.succeeded;
  },

  severityFor(_record, ctx, base) {
    return ctx.actor.kind === 'root' ? shiftSeverity(base, 1) : base;
  },

  alertTitle(record, ctx) {
    const target = targetOf(record, ctx);
    const who = target === 'root' ? 'root' : target === 'HIDDEN_DUE_TO_SECURITY_REASONS' ? 'unknown user names' : `IAM user ${target}`;
    return `Failed console sign-ins for ${who} from ${record.sourceIPAddress ?? 'an unknown source'}`;
  },

  dedupKey(record, ctx) {
    const target = targetOf(record, ctx);
    const source = record.sourceIPAddress ?? 'unknown';
    switch (ctx.options.groupBy) {
      case 'source':
        return source;
      case 'user-and-source':
        return `${target}|${source}`;
      default:
        return target;
    }
  },

  alertContext(record, ctx) {
    return { targetUser: targetOf(record, ctx), reason: record.errorMessage ?? 'Failure', groupBy: ctx.options.groupBy };
  },

  examples: {
    match: [
      {
        name: 'a failed sign-in (threshold 1, as in CIS)',
        config: { rules: { 'console-login-failure': { threshold: 1 } } },
        record: consoleLogin(failedIamUser('alice'), { success: false }),
        expect: { severity: 'medium', title: 'for IAM user alice from 203.0.113.10', dedupKey: 'alice' },
      },
      {
        name: 'a failed root sign-in is high',
        config: { rules: { 'console-login-failure': { threshold: 1 } } },
        record: consoleLogin(identities.root(), { success: false }),
        expect: { severity: 'high', title: 'for root' },
      },
      {
        name: 'an unknown user name, grouped by source',
        config: { rules: { 'console-login-failure': { threshold: 1, options: { groupBy: 'source' } } } },
        record: consoleLogin(failedIamUser('HIDDEN_DUE_TO_SECURITY_REASONS'), { success: false, errorMessage: 'No username found in supplied account' }),
        expect: { title: 'unknown user names', dedupKey: '203.0.113.10' },
      },
    ],
    noMatch: [
      {
        name: 'one failure stays under the default threshold of 3',
        record: consoleLogin(failedIamUser('alice'), { success: false }),
      },
      {
        name: 'a successful sign-in',
        config: { rules: { 'console-login-failure': { threshold: 1 } } },
        record: consoleLogin(identities.iamUser('alice'), { success: true, mfa: true }),
      },
      {
        name: 'a failed API call is not a console sign-in',
        config: { rules: { 'console-login-failure': { threshold: 1 } } },
        record: { ...consoleLogin(identities.iamUser('alice'), { success: false }), eventSource: 'sts.amazonaws.com', eventName: 'GetSessionToken', eventType: 'AwsApiCall' },
      },
    ],
  },
});
