import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, adjust, at, attempt, param, str } from './lib/record';

const CONFIG = 'config.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

const STOPS = new Set(['StopConfigurationRecorder', 'DeleteDeliveryChannel', 'DeleteConfigurationRecorder']);

const nameOf = (record: CloudTrailRecord): string =>
  param(record, 'configurationRecorderName') ??
  param(record, 'deliveryChannelName') ??
  str(at(record.requestParameters, 'configurationRecorder', 'name')) ??
  str(at(record.requestParameters, 'deliveryChannel', 'name')) ??
  'default';

/** A recorder that no longer records every resource type (or global ones such as IAM). */
function narrowedRecording(record: CloudTrailRecord): string | undefined {
  if (record.eventName !== 'PutConfigurationRecorder') return undefined;
  const group = at(record.requestParameters, 'configurationRecorder', 'recordingGroup');
  if (at(group, 'allSupported') === false) return 'records only selected resource types';
  if (at(group, 'includeGlobalResourceTypes') === false) return 'no longer records global resources (IAM)';
  return undefined;
}

const configCall = (eventName: string, requestParameters: Record<string, unknown>, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: CONFIG, eventName, requestParameters, ...extra });

export default defineRule({
  id: 'config-change',
  title: 'AWS Config recording or delivery changed',
  description:
    'AWS Config records the history of every resource; stopping the recorder or deleting the delivery channel ' +
    'leaves no trace of later changes (CIS 4.9). Stops and deletions are high; a recorder reconfigured to record ' +
    'fewer resource types is high; other recorder and delivery-channel updates are medium.',
  severity: 'medium',
  categories: ['config-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-9',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_config_service_disabled_deleted.yml',
    'https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html',
  ],
  falsePositives: [
    'AWS Control Tower or an organization conformance pack managing Config (allow-list AWSControlTowerExecution or the StackSets role).',
  ],
  runbook:
    '1. Check the recorder: `aws configservice describe-configuration-recorder-status`; restart it if unplanned ' +
    '(`start-configuration-recorder`) and restore the delivery channel. 2. Review what changed while it was off.',
  events: [
    { source: CONFIG, names: ['StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel', 'PutConfigurationRecorder', 'DeleteConfigurationRecorder'] },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, STOPS.has(record.eventName) || narrowedRecording(record) ? 1 : 0);
  },

  alertTitle(record, ctx) {
    const narrowed = narrowedRecording(record);
    return attempt(ctx, `AWS Config ${record.eventName} (${nameOf(record)}) by ${ctx.actor.display}${viaService(record)}${narrowed ? `: ${narrowed}` : ''}`);
  },

  // Per caller: stopping the recorder and deleting its channel are one act.
  dedupKey(_record, ctx) {
    return actorKey(ctx);
  },

  alertContext(record) {
    return { name: nameOf(record), ...(narrowedRecording(record) ? { narrowed: narrowedRecording(record) } : {}) };
  },

  examples: {
    match: [
      {
        name: 'the recorder stopped',
        record: configCall('StopConfigurationRecorder', { configurationRecorderName: 'default' }),
        expect: { severity: 'high', title: 'AWS Config StopConfigurationRecorder (default)', dedupKey: 'arn:aws:iam::111122223333:user/alice' },
      },
      {
        name: 'the recorder narrowed to selected types',
        record: configCall('PutConfigurationRecorder', {
          configurationRecorder: { name: 'default', roleARN: 'arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig', recordingGroup: { allSupported: false, includeGlobalResourceTypes: false, resourceTypes: ['AWS::S3::Bucket'] } },
        }),
        expect: { severity: 'high', title: 'records only selected resource types' },
      },
      {
        name: 'the delivery channel re-pointed',
        record: configCall('PutDeliveryChannel', { deliveryChannel: { name: 'default', s3BucketName: 'config-bucket-111122223333', configSnapshotDeliveryProperties: { deliveryFrequency: 'TwentyFour_Hours' } } }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a denied channel deletion',
        record: configCall('DeleteDeliveryChannel', { deliveryChannelName: 'default' }, {
          errorCode: 'AccessDeniedException',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: config:DeleteDeliveryChannel',
        }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'starting the recorder',
        record: configCall('StartConfigurationRecorder', { configurationRecorderName: 'default' }),
      },
      {
        name: 'Control Tower via CloudFormation StackSets, allow-listed',
        config: { rules: { 'config-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: configCall('PutConfigurationRecorder', { configurationRecorder: { name: 'aws-controltower-BaselineConfigRecorder' } }, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('AWSControlTowerExecution', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
