import { z } from 'zod';
import { Glob } from '../config/detection';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import { type GlobList, globList } from './engine/patterns';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { adjust, attempt, principalKey } from './lib/record';

/**
 * Services whose calls are recorded in one fixed region whatever the account uses (us-east-1 for IAM, the STS
 * global endpoint, Organizations, CloudFront, Route 53; us-west-2 for Global Accelerator): a region check on them
 * says nothing.
 */
export const GLOBAL_SERVICES = [
  'iam.amazonaws.com',
  'sts.amazonaws.com',
  'organizations.amazonaws.com',
  'account.amazonaws.com',
  'signin.amazonaws.com',
  'cloudfront.amazonaws.com',
  'route53.amazonaws.com',
  'route53domains.amazonaws.com',
  'globalaccelerator.amazonaws.com',
  'shield.amazonaws.com',
  'waf.amazonaws.com',
  'health.amazonaws.com',
  'support.amazonaws.com',
  'trustedadvisor.amazonaws.com',
  'billingconsole.amazonaws.com',
  'ce.amazonaws.com',
  'budgets.amazonaws.com',
  'notifications.amazonaws.com',
  'uxc.amazonaws.com',
];

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption(['*'], 'Default "*": AWS’s own calls in other regions (service-linked roles, AwsServiceEvents) are not alerts.'),
  globalServices: z
    .array(Glob)
    .max(200)
    .default(GLOBAL_SERVICES)
    .describe('Event sources (globs) recorded in one fixed region whatever the account uses (IAM, STS global endpoint, Organizations …): never checked.'),
  includeReadOnly: z.boolean().default(false).describe('Also report reads (reconnaissance of regions nobody looks at).'),
});
type Options = z.infer<typeof Options>;

// Calls that start compute or create long-lived footholds: what cryptominers and persistence do in a region nobody watches.
const LAUNCHES = new Set([
  'RunInstances',
  'RequestSpotInstances',
  'RequestSpotFleet',
  'CreateFleet',
  'CreateLaunchTemplate',
  'CreateAutoScalingGroup',
  'CreateFunction20150331',
  'CreateCluster',
  'CreateService',
  'RunTask',
  'CreateNotebookInstance',
  'CreateTrainingJob',
  'CreateStack',
  'CreateDBInstance',
  'CreateUser',
  'ImportKeyPair',
  'CreateKeyPair',
]);

const globalLists = new WeakMap<readonly string[], GlobList>();
function isGlobal(record: CloudTrailRecord, patterns: readonly string[]): boolean {
  let list = globalLists.get(patterns);
  if (!list) globalLists.set(patterns, (list = globList(patterns)));
  return list.matches(record.eventSource);
}

const call = (eventSource: string, eventName: string, awsRegion: string, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource, eventName, awsRegion, ...extra });

const frankfurt = { expectedRegions: ['eu-central-1', 'eu-west-1'] };

export default defineRule({
  id: 'unused-region',
  title: 'Activity in a region the account does not use',
  description:
    'A change (a call that is not read-only) in a region outside the profile’s `expectedRegions`. Attackers launch ' +
    'miners and hide footholds where nobody looks; compute launches and key pairs there are high. Global services ' +
    '(IAM, STS global endpoint, Organizations, CloudFront, Route 53 …) are recorded in a fixed region and are not ' +
    'checked; AWS’s own calls are excluded by default. Failed calls are reported one level lower. Inactive until ' +
    '`expectedRegions` is configured.',
  severity: 'medium',
  categories: ['unused-region'],
  references: [
    'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html#example-scp-deny-region',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_cloudtrail_region_enabled.yml',
    'https://attack.mitre.org/techniques/T1535/',
  ],
  falsePositives: [
    'A team starting to use a new region (add it to the profile’s expectedRegions).',
    'Global-service calls recorded in a region not in globalServices (add the event source).',
  ],
  runbook:
    '1. List what the principal did in that region (the alert’s event names; CloudTrail Event history in that region). ' +
    '2. If unexpected: terminate what was launched, delete key pairs and functions created there, and consider an SCP ' +
    'that denies unused regions.',
  events: 'all',
  requires: ['expectedRegions'],
  options: Options,

  match(record, ctx) {
    // A Set lookup first: almost every record is in an expected region.
    if (ctx.regionExpected !== false || record.awsRegion === undefined) return false;
    if (!ctx.options.includeReadOnly && ctx.readOnlyOrGuess) return false;
    if (isGlobal(record, ctx.options.globalServices)) return false;
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    const steps = LAUNCHES.has(record.eventName) ? 1 : ctx.readOnlyOrGuess ? -1 : 0;
    return adjust(ctx, base, steps);
  },

  alertTitle(record, ctx) {
    return attempt(ctx, `Activity in unused region ${record.awsRegion}: ${record.eventName} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per principal and region: everything one identity does in one unused region is one incident.
  dedupKey(record, ctx) {
    return `${principalKey(ctx)}|${record.awsRegion}`;
  },

  alertContext(record, ctx) {
    return { region: record.awsRegion, expectedRegions: ctx.settings.expectedRegions ?? [] };
  },

  examples: {
    match: [
      {
        name: 'instances launched in São Paulo by an account that uses Frankfurt and Ireland',
        config: frankfurt,
        record: call('ec2.amazonaws.com', 'RunInstances', 'sa-east-1', {
          requestParameters: { instancesSet: { items: [{ imageId: 'ami-0abcdef1234567890', minCount: 1, maxCount: 20 }] }, instanceType: 'c5.24xlarge' },
        }),
        expect: { severity: 'high', title: 'Activity in unused region sa-east-1: RunInstances', dedupKey: 'arn:aws:iam::111122223333:user/alice|sa-east-1' },
      },
      {
        name: 'a bucket created in an unused region',
        config: frankfurt,
        record: call('s3.amazonaws.com', 'CreateBucket', 'ap-southeast-2', { requestParameters: { bucketName: 'tmp-exfil-4411', Host: 'tmp-exfil-4411.s3.ap-southeast-2.amazonaws.com' } }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a denied launch by an assumed role is one level lower',
        config: frankfurt,
        record: call('ec2.amazonaws.com', 'RunInstances', 'us-west-2', {
          userIdentity: identities.assumedRole('ci-runner', 'build-9'),
          errorCode: 'Client.UnauthorizedOperation',
          errorMessage: 'You are not authorized to perform this operation.',
        }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'a change in an expected region',
        config: frankfurt,
        record: call('ec2.amazonaws.com', 'RunInstances', 'eu-central-1'),
      },
      {
        name: 'a read in an unused region',
        config: frankfurt,
        record: call('ec2.amazonaws.com', 'DescribeInstances', 'us-east-1', { readOnly: true }),
      },
      {
        name: 'IAM, recorded in us-east-1 whatever the account uses',
        config: frankfurt,
        record: call('iam.amazonaws.com', 'CreateRole', 'us-east-1'),
      },
      {
        name: 'an AWS service event in another region',
        config: frankfurt,
        record: call('kms.amazonaws.com', 'RotateKey', 'us-east-1', {
          eventType: 'AwsServiceEvent',
          sourceIPAddress: 'kms.amazonaws.com',
          userIdentity: identities.awsService('kms.amazonaws.com'),
        }),
      },
    ],
  },
});
