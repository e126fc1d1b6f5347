import { z } from 'zod';
import { Glob } from '../config/detection';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import { type GlobList, globList } from './engine/patterns';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepString } from './lib/deep';
import { actorKey, adjust, attempt, param } from './lib/record';

const S3 = 's3.amazonaws.com';

const Options = z.strictObject({
  trailBuckets: z
    .array(Glob)
    .min(1)
    .max(100)
    .default(['aws-cloudtrail-logs-*', '*cloudtrail*'])
    .describe(
      'The buckets your trails deliver to (globs over the bucket name). The default matches the names the CloudTrail console ' +
        'creates (aws-cloudtrail-logs-<account>-<id>) and buckets named "…cloudtrail…"; list your own.',
    ),
  allowAwsServices: allowAwsServicesOption([]),
});

const bucketLists = new WeakMap<readonly string[], GlobList>();
function isTrailBucket(bucket: string | undefined, patterns: readonly string[]): boolean {
  if (bucket === undefined) return false;
  let list = bucketLists.get(patterns);
  if (!list) bucketLists.set(patterns, (list = globList(patterns)));
  return list.matches(bucket);
}

/** How the change weakens the log archive, or undefined for a harmless one (versioning enabled). */
function weakening(record: CloudTrailRecord): string | undefined {
  switch (record.eventName) {
    case 'DeleteBucket':
      return 'the trail bucket deleted: new log files cannot be delivered';
    case 'PutBucketLifecycle':
      return 'lifecycle rules set: log files may expire';
    case 'DeleteBucketLifecycle':
      return 'lifecycle rules removed (retention changed)';
    case 'PutBucketVersioning': {
      const status = deepString(record.requestParameters, 'Status');
      return status === 'Enabled' ? undefined : `versioning ${status ?? 'changed'}: overwritten or deleted logs are not kept`;
    }
    case 'PutBucketPolicy':
      return 'bucket policy replaced: CloudTrail may no longer be allowed to write, or others to read';
    case 'DeleteBucketPolicy':
      return 'bucket policy deleted: CloudTrail can no longer deliver';
    case 'PutBucketAcl':
      return 'bucket ACL changed';
    default:
      return `${record.eventName}`;
  }
}

const s3Call = (eventName: string, bucketName: string, extra: Record<string, unknown> = {}, fields: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: S3, eventName, requestParameters: { bucketName, Host: `${bucketName}.s3.eu-central-1.amazonaws.com`, ...extra }, ...fields });

export default defineRule({
  id: 'cloudtrail-bucket-change',
  title: 'CloudTrail log bucket changed',
  description:
    'The bucket a trail delivers to is the audit archive: a lifecycle rule that expires logs, suspended ' +
    'versioning, a replaced or deleted bucket policy (CloudTrail can no longer write) or a deleted bucket all ' +
    'destroy or stop the record without touching the trail itself. Deleting the bucket is critical; the other ' +
    'changes high (versioning being enabled is not reported). The trail buckets are configured by name pattern.',
  severity: 'high',
  categories: ['cloudtrail-tamper'],
  references: [
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-lifecycle-rule/',
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_cloudtrail_short_lifecycle.yml',
  ],
  falsePositives: ['Planned retention changes on the log archive (allow-list the owning team’s deployment role).'],
  runbook:
    '1. Check that the trail still delivers (`aws cloudtrail get-trail-status`: LatestDeliveryError). ' +
    '2. Restore the bucket policy / versioning / lifecycle from the reviewed configuration; treat the caller as ' +
    'compromised if the change was not planned.',
  events: [
    {
      source: S3,
      names: ['PutBucketLifecycle', 'DeleteBucketLifecycle', 'PutBucketVersioning', 'PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl', 'DeleteBucket'],
    },
  ],
  options: Options,

  match(record, ctx) {
    return isTrailBucket(param(record, 'bucketName'), ctx.options.trailBuckets) && weakening(record) !== undefined && notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, record.eventName === 'DeleteBucket' ? 1 : 0);
  },

  alertTitle(record, ctx) {
    return attempt(ctx, `CloudTrail bucket ${param(record, 'bucketName')}: ${weakening(record)}, by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and bucket.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${param(record, 'bucketName')}`;
  },

  alertContext(record) {
    return { bucket: param(record, 'bucketName'), change: weakening(record) };
  },

  examples: {
    match: [
      {
        name: 'a one-day expiration on the trail bucket (Stratus cloudtrail-lifecycle-rule)',
        record: s3Call('PutBucketLifecycle', 'aws-cloudtrail-logs-111122223333-3f2a1b0c', {
          lifecycle: '',
          LifecycleConfiguration: { Rule: { ID: 'nuke-cloudtrail-logs-after-1-day', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } } },
        }),
        expect: { severity: 'high', title: 'lifecycle rules set', dedupKey: 'arn:aws:iam::111122223333:user/alice|aws-cloudtrail-logs-111122223333-3f2a1b0c' },
      },
      {
        name: 'versioning suspended on a configured trail bucket',
        config: { rules: { 'cloudtrail-bucket-change': { options: { trailBuckets: ['org-audit-logs'] } } } },
        record: s3Call('PutBucketVersioning', 'org-audit-logs', { versioning: '', VersioningConfiguration: { Status: 'Suspended', xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' } }),
        expect: { title: 'versioning Suspended' },
      },
      {
        name: 'the trail bucket deleted is critical',
        record: s3Call('DeleteBucket', 'my-cloudtrail-archive'),
        expect: { severity: 'critical' },
      },
      {
        name: 'a denied policy deletion',
        record: s3Call('DeleteBucketPolicy', 'aws-cloudtrail-logs-111122223333-3f2a1b0c', { policy: '' }, { errorCode: 'AccessDenied', errorMessage: 'Access Denied' }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'a lifecycle rule on an ordinary bucket',
        record: s3Call('PutBucketLifecycle', 'build-artifacts', { LifecycleConfiguration: { Rule: { Status: 'Enabled', Expiration: { Days: 30 } } } }),
      },
      {
        name: 'versioning enabled on the trail bucket',
        record: s3Call('PutBucketVersioning', 'aws-cloudtrail-logs-111122223333-3f2a1b0c', { VersioningConfiguration: { Status: 'Enabled' } }),
      },
      {
        name: 'CloudFormation maintaining the log bucket, allow-listed',
        config: { rules: { 'cloudtrail-bucket-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: s3Call('PutBucketPolicy', 'aws-cloudtrail-logs-111122223333-3f2a1b0c', {}, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
