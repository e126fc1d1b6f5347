import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { DetectionConfigInput } from '../config/detection';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { shiftSeverity } from './engine/severity';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller } from './lib/aws-callers';
import { adjust, principalKey } from './lib/record';
import { consoleLogin } from './lib/signin-example';

const Options = z.strictObject({
  awsOwnedIps: z
    .enum(['alert', 'lower', 'ignore'])
    .default('lower')
    .describe(
      'Addresses in AWS’s published ranges (EC2, CloudShell, WorkSpaces …) are always labelled "AWS-owned: <service> <region>". ' +
        'alert: reported like any foreign address (an attacker on EC2 is still an attacker); lower: one level lower ' +
        '(CloudShell and WorkSpaces users are people on AWS addresses); ignore: not reported. Needs ip-ranges enrichment.',
    ),
  invalidSources: z
    .enum(['alert', 'ignore'])
    .default('alert')
    .describe(
      'A sourceIPAddress that is neither an address nor an AWS service name (08.1.250.216: a leading zero makes it invalid, ' +
        'and octal-reading parsers would see another address) cannot be checked. alert: reported one level below the ' +
        'base as "unparseable", never as a foreign IP; ignore: not reported.',
    ),
  includeWorkloads: z
    .boolean()
    .default(false)
    .describe(
      'Also check workloads: assumed-role sessions that are not people (CI, instance and Lambda roles). Web-identity token ' +
        'exchanges are never checked themselves; the role session they create is, as a workload.',
    ),
  includeFailed: z.boolean().default(true).describe('Also report calls that failed: a denied call from a stranger’s network is a probe.'),
  vpcEndpointCalls: z
    .enum(['allow', 'check'])
    .default('allow')
    .describe(
      'Calls through a VPC endpoint carry the caller’s private address. allow: they come from inside your VPC and are not ' +
        'checked; check: treated like any address (list your VPC CIDRs in allowedSourceCidrs then).',
    ),
  allowAwsServices: allowAwsServicesOption(['*'], 'Default "*": AWS services acting for a principal (invokedBy) are not checked.'),
});
type Options = z.infer<typeof Options>;

/**
 * What the source is, for this rule: a foreign address (maybe AWS-owned), an unparseable value, or nothing to say
 * (allowed address, service DNS name, `AWS Internal`, no source). Service names and `AWS Internal` are not IPs:
 * they say an AWS service made the call, and the allow-list is about networks.
 */
type Verdict = 'foreign' | 'foreign-aws' | 'invalid' | 'fine';

function verdictOf(record: CloudTrailRecord, ctx: RuleContext<Options>): Verdict {
  const source = ctx.source;
  if (source.kind === 'invalid') return ctx.options.invalidSources === 'alert' ? 'invalid' : 'fine';
  if (source.kind !== 'ip' || ctx.sourceAllowed !== false) return 'fine';
  if (record.vpcEndpointId !== undefined && ctx.options.vpcEndpointCalls === 'allow') return 'fine';
  if (source.aws) return ctx.options.awsOwnedIps === 'ignore' ? 'fine' : 'foreign-aws';
  return 'foreign';
}

const isSignIn = (record: CloudTrailRecord): boolean => record.eventName === 'ConsoleLogin';

const office: DetectionConfigInput = { allowedSourceCidrs: ['198.51.100.0/24', '2001:db8:1::/48'] };

export default defineRule({
  id: 'foreign-source-ip',
  title: 'Call from outside the allowed networks',
  description:
    'A person’s call from a source address outside the profile’s `allowedSourceCidrs` (offices, VPN egress, CI ' +
    'NAT addresses): stolen keys and sessions are used from somewhere else. A console sign-in from outside is one ' +
    'level higher, a read one level lower. Addresses in AWS’s published ranges are labelled "AWS-owned: EC2 us-west-2" and treated ' +
    'per `awsOwnedIps`. Service DNS names (`cloudformation.amazonaws.com`) and `AWS Internal` are not addresses ' +
    'and are never reported. A value that is not a valid address (`08.1.250.216`) is reported as unparseable at low ' +
    'severity, not as a foreign IP. Inactive until `allowedSourceCidrs` is configured.',
  severity: 'medium',
  categories: ['foreign-source-ip'],
  references: [
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-ip.html',
    'https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html',
    'https://attack.mitre.org/techniques/T1078/004/',
  ],
  falsePositives: [
    'People travelling or working from home without the VPN (add the VPN egress; give remote teams their own profile).',
    'CloudShell and WorkSpaces users (AWS-owned addresses; see awsOwnedIps).',
  ],
  runbook:
    '1. Ask the person whether they are working from that address (alert source, AWS owner if any). ' +
    '2. If not: revoke the sessions / disable the key at once and review every call from that address ' +
    '(CloudTrail lookup by sourceIPAddress).',
  events: 'all',
  requires: ['allowedSourceCidrs'],
  options: Options,

  match(record, ctx) {
    const verdict = verdictOf(record, ctx);
    if (verdict === 'fine') return false;
    // A web-identity token exchange (GitHub Actions, Cognito app users) is judged through the role session it
    // creates (a workload, checked with includeWorkloads): the token, not a network, authenticated it.
    if (ctx.actor.kind === 'web-identity-user') return false;
    if (!ctx.options.includeWorkloads && !ctx.human) return false;
    if (!ctx.options.includeFailed && !ctx.succeeded) return false;
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    const verdict = verdictOf(record, ctx);
    if (verdict === 'invalid') return shiftSeverity(base, -1);
    let steps = isSignIn(record) ? (ctx.succeeded ? 1 : 0) : ctx.readOnlyOrGuess ? -1 : 0;
    if (verdict === 'foreign-aws' && ctx.options.awsOwnedIps === 'lower') steps -= 1;
    // A failed call from a stranger's network is a probe, as telling as a successful one: not lowered.
    return adjust(ctx, base, steps, { failed: 0 });
  },

  alertTitle(record, ctx) {
    const source = ctx.source;
    const who = ctx.actor.display;
    if (verdictOf(record, ctx) === 'invalid') {
      return `Unparseable source address "${source.value}" for ${who} (not an IP; not checked against the allowed networks)`;
    }
    const where = `${source.value}${source.aws ? ` (AWS-owned: ${source.aws.label})` : ''}`;
    if (isSignIn(record)) return `${ctx.succeeded ? 'Console sign-in' : 'Failed console sign-in'} from outside the allowed networks: ${where}, ${who}`;
    const failed = ctx.succeeded ? '' : ` (failed: ${record.errorCode ?? 'error'})`;
    return `Call from outside the allowed networks: ${where} by ${who}${failed}`;
  },

  // Per principal (all sessions of a role) and address: one stolen credential used from one place is one incident.
  dedupKey(_record, ctx) {
    return `${principalKey(ctx)}|${ctx.source.value}`;
  },

  alertContext(record, ctx) {
    const verdict = verdictOf(record, ctx);
    return {
      verdict: verdict === 'invalid' ? 'unparseable source address' : verdict === 'foreign-aws' ? 'AWS-owned address outside the allowed networks' : 'outside the allowed networks',
      ...(ctx.source.aws ? { awsOwnedIps: ctx.options.awsOwnedIps } : {}),
      ...(!ctx.enrichment && verdict !== 'invalid' ? { note: 'ip-ranges enrichment is off: AWS-owned addresses are not recognised' } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'an IAM user deleting a bucket from a foreign address',
        config: office,
        record: exampleRecord({ eventSource: 's3.amazonaws.com', eventName: 'DeleteBucket', sourceIPAddress: '192.0.2.77', requestParameters: { bucketName: 'invoices' } }),
        expect: { severity: 'medium', title: 'Call from outside the allowed networks: 192.0.2.77 by alice', dedupKey: 'arn:aws:iam::111122223333:user/alice|192.0.2.77' },
      },
      {
        name: 'a console sign-in from outside is high',
        config: office,
        record: consoleLogin(identities.iamUser('alice'), { success: true, mfa: true }, { sourceIPAddress: '192.0.2.77' }),
        expect: { severity: 'high', title: 'Console sign-in from outside' },
      },
      {
        name: 'an invalid address (leading zero, as in anonymised logs) is reported as unparseable, low',
        config: office,
        record: exampleRecord({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'DeleteTrail', sourceIPAddress: '08.1.250.216', requestParameters: { name: 'main' } }),
        expect: { severity: 'low', title: 'Unparseable source address "08.1.250.216"' },
      },
      {
        name: 'a denied read from an IPv6 address outside the office /48 (failures are not lowered: a probe)',
        config: office,
        record: exampleRecord({
          eventSource: 'secretsmanager.amazonaws.com',
          eventName: 'GetSecretValue',
          readOnly: true,
          sourceIPAddress: '2001:db8:ffff::5',
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: secretsmanager:GetSecretValue',
        }),
        expect: { severity: 'low', title: '(failed: AccessDenied)' },
      },
    ],
    noMatch: [
      {
        name: 'a call from the office network',
        config: office,
        record: exampleRecord({ eventSource: 's3.amazonaws.com', eventName: 'DeleteBucket', sourceIPAddress: '198.51.100.23' }),
      },
      {
        name: 'an AWS service acting for a user (source is a service DNS name, not an IP)',
        config: office,
        record: exampleRecord({
          eventSource: 'iam.amazonaws.com',
          eventName: 'CreateRole',
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: { ...identities.iamUser('alice'), invokedBy: 'cloudformation.amazonaws.com' },
        }),
      },
      {
        name: '"AWS Internal" is not an address',
        config: office,
        record: exampleRecord({ eventSource: 'ec2.amazonaws.com', eventName: 'CreateTags', sourceIPAddress: 'AWS Internal' }),
      },
      {
        name: 'a workload (instance role) on a foreign address is not checked by default',
        config: office,
        record: exampleRecord({ eventSource: 's3.amazonaws.com', eventName: 'PutObject', sourceIPAddress: '192.0.2.77', userIdentity: identities.assumedRole('app-instance', 'i-0abcdef1234567890') }),
      },
      {
        name: 'a GitHub Actions runner exchanging its OIDC token (judged through the role session it creates)',
        config: office,
        record: exampleRecord({
          eventSource: 'sts.amazonaws.com',
          eventName: 'AssumeRoleWithWebIdentity',
          readOnly: true,
          sourceIPAddress: '192.0.2.44',
          userIdentity: {
            type: 'WebIdentityUser',
            principalId: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com:sts.amazonaws.com:repo:acme/app:ref:refs/heads/main',
            userName: 'repo:acme/app:ref:refs/heads/main',
            identityProvider: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
          },
        }),
      },
      {
        name: 'a call through a VPC endpoint (private address)',
        config: office,
        record: exampleRecord({ eventSource: 's3.amazonaws.com', eventName: 'PutObject', sourceIPAddress: '10.0.12.34', vpcEndpointId: 'vpce-0a1b2c3d4e5f60718' }),
      },
    ],
  },
});
