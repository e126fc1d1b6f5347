import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, adjust, attempt, param } from './lib/record';

const KMS = 'kms.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

const keyOf = (record: CloudTrailRecord): string => {
  const id = param(record, 'keyId') ?? 'unknown key';
  return id.includes(':key/') ? id.slice(id.indexOf(':key/') + 5) : id;
};

const pendingDays = (record: CloudTrailRecord): number | undefined => {
  const v = record.requestParameters?.pendingWindowInDays ?? record.responseElements?.pendingWindowInDays;
  return typeof v === 'number' ? v : undefined;
};

const kmsCall = (eventName: string, requestParameters: Record<string, unknown>, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: KMS, eventName, requestParameters, ...extra });

export default defineRule({
  id: 'kms-key-disable',
  title: 'KMS key disabled or scheduled for deletion',
  description:
    'A customer managed KMS key disabled or scheduled for deletion (CIS 4.7): every volume, object, secret and ' +
    'snapshot encrypted under it becomes unreadable — an outage, or ransomware that holds the data hostage. A ' +
    'deletion scheduled with the minimum 7-day window is critical (the least time to notice).',
  severity: 'high',
  categories: ['kms-key-disable'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-7',
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-creating-cloudwatch-alarm.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_kms_cmk_loss.yml',
  ],
  falsePositives: ['Decommissioning a workload with its key (a stack deletion: allow-list CloudFormation if routine).'],
  runbook:
    '1. Cancel a scheduled deletion at once if unplanned (`aws kms cancel-key-deletion --key-id <id>`), then ' +
    '`enable-key`. 2. Find what the key protects (`aws kms list-aliases`, resources by key id) and ask the caller.',
  events: [{ source: KMS, names: ['DisableKey', 'ScheduleKeyDeletion'] }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    const days = pendingDays(record);
    return adjust(ctx, base, record.eventName === 'ScheduleKeyDeletion' && days !== undefined && days <= 7 ? 1 : 0);
  },

  alertTitle(record, ctx) {
    const days = pendingDays(record);
    const what =
      record.eventName === 'DisableKey' ? `KMS key ${keyOf(record)} disabled` : `KMS key ${keyOf(record)} scheduled for deletion${days !== undefined ? ` in ${days} days` : ''}`;
    return attempt(ctx, `${what} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and key.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${keyOf(record)}`;
  },

  alertContext(record) {
    return {
      keyId: param(record, 'keyId') ?? null,
      ...(pendingDays(record) !== undefined ? { pendingWindowInDays: pendingDays(record) } : {}),
      ...(typeof record.responseElements?.deletionDate === 'string' ? { deletionDate: record.responseElements.deletionDate } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'a key scheduled for deletion in 7 days is critical',
        record: kmsCall('ScheduleKeyDeletion', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 7 }, {
          responseElements: {
            keyId: 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            deletionDate: 'Mar 19, 2025, 12:00:00 AM',
            keyState: 'PendingDeletion',
            pendingWindowInDays: 7,
          },
        }),
        expect: { severity: 'critical', title: 'scheduled for deletion in 7 days', dedupKey: 'arn:aws:iam::111122223333:user/alice|1234abcd-12ab-34cd-56ef-1234567890ab' },
      },
      {
        name: 'a key disabled',
        record: kmsCall('DisableKey', { keyId: 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' }),
        expect: { severity: 'high', title: 'KMS key 1234abcd-12ab-34cd-56ef-1234567890ab disabled' },
      },
      {
        name: 'a denied deletion is one level lower',
        record: kmsCall('ScheduleKeyDeletion', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 30 }, {
          errorCode: 'AccessDeniedException',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:ScheduleKeyDeletion',
        }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'enabling a key',
        record: kmsCall('EnableKey', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }),
      },
      {
        name: 'AWS rotating the key (a service event)',
        record: kmsCall('RotateKey', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }, {
          eventType: 'AwsServiceEvent',
          userIdentity: identities.awsService('kms.amazonaws.com'),
          sourceIPAddress: 'kms.amazonaws.com',
        }),
      },
      {
        name: 'CloudFormation deleting a stack’s key, CloudFormation allow-listed',
        config: { rules: { 'kms-key-disable': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: kmsCall('ScheduleKeyDeletion', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 30 }, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
