import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import { shiftSeverity } from './engine/severity';
import { defineRule } from './engine/types';

const CLOUDTRAIL = 'cloudtrail.amazonaws.com';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The trail an event is about, as a name ("main" from "arn:aws:cloudtrail:…:trail/main"). */
export function trailNameOf(record: CloudTrailRecord): string {
  const p = record.requestParameters ?? {};
  const raw = p.name ?? p.trailName ?? p.trailArn;
  if (typeof raw !== 'string' || raw === '') return 'unknown trail';
  const i = raw.indexOf(':trail/');
  return i >= 0 ? raw.slice(i + ':trail/'.length) : raw;
}

/**
 * How a PutEventSelectors call reduces what the trail records, as reasons people can read; empty when it does not
 * (e.g. it only adds data events). Basic selectors: management events off, read-only/write-only, excluded sources.
 * Advanced selectors: no selector logging the Management category, or one that filters it (readOnly, eventSource…).
 */
export function eventSelectorReductions(record: CloudTrailRecord): string[] {
  const p = record.requestParameters ?? {};
  const reasons: string[] = [];
  const basic = asArray(p.eventSelectors).filter(isObject);
  const advanced = asArray(p.advancedEventSelectors).filter(isObject);
  if (basic.length > 0) {
    const logsManagement = basic.filter((s) => s.includeManagementEvents !== false);
    if (logsManagement.length === 0) reasons.push('management events are no longer logged (includeManagementEvents: false)');
    else {
      if (logsManagement.every((s) => s.readWriteType !== undefined && s.readWriteType !== 'All')) {
        const types = [...new Set(logsManagement.map((s) => String(s.readWriteType)))].join(', ');
        reasons.push(`management events restricted to ${types}`);
      }
      const excluded = logsManagement.flatMap((s) => asArray(s.excludeManagementEventSources).map(String));
      if (excluded.length > 0) reasons.push(`management events of ${excluded.join(', ')} excluded`);
    }
  }
  if (advanced.length > 0) {
    const management = advanced.filter((s) =>
      asArray(s.fieldSelectors)
        .filter(isObject)
        .some((f) => f.field === 'eventCategory' && asArray(f.equals).includes('Management')),
    );
    if (management.length === 0) reasons.push('no advanced event selector logs management events');
    for (const s of management) {
      const filters = asArray(s.fieldSelectors)
        .filter(isObject)
        .filter((f) => f.field !== 'eventCategory')
        .map((f) => String(f.field));
      if (filters.length > 0) reasons.push(`management events filtered by ${[...new Set(filters)].join(', ')}`);
    }
  }
  if (basic.length === 0 && advanced.length === 0 && record.eventName === 'PutEventSelectors') {
    reasons.push('event selectors cleared');
  }
  return reasons;
}

/** UpdateTrail settings that reduce coverage or move the logs somewhere else. */
export function trailUpdateChanges(record: CloudTrailRecord): string[] {
  const p = record.requestParameters ?? {};
  const changes: string[] = [];
  if (p.isMultiRegionTrail === false) changes.push('no longer multi-region');
  if (p.includeGlobalServiceEvents === false) changes.push('global service events (IAM, STS) off');
  if (p.enableLogFileValidation === false) changes.push('log file validation off');
  if (p.isOrganizationTrail === false) changes.push('no longer an organization trail');
  if (typeof p.s3BucketName === 'string') changes.push(`logs now go to bucket ${p.s3BucketName}`);
  if (p.s3KeyPrefix !== undefined) changes.push(`S3 key prefix set to ${JSON.stringify(p.s3KeyPrefix)}`);
  if (p.kmsKeyId === '') changes.push('KMS encryption removed');
  if (p.cloudWatchLogsLogGroupArn === '') changes.push('CloudWatch Logs delivery removed');
  if (p.snsTopicName === '') changes.push('SNS notification removed');
  return changes;
}

export default defineRule({
  id: 'cloudtrail-tampering',
  title: 'CloudTrail logging stopped, deleted or reduced',
  description:
    'An attacker who gains access first blinds the defenders: StopLogging and DeleteTrail end the audit trail, ' +
    'UpdateTrail can send the logs to another bucket or drop regions and global events, and PutEventSelectors can ' +
    'silently stop recording management events while the trail still looks healthy. Failed attempts are reported ' +
    'too (at a lower severity): someone tried.',
  severity: 'high',
  categories: ['cloudtrail-tamper'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-5',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-stop/',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.defense-evasion.cloudtrail-event-selectors/',
    'https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_disable_logging.yml',
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html',
  ],
  falsePositives: [
    'Planned trail changes through infrastructure as code (allow-list the deployment role by principal ARN).',
    'A trail being replaced by an organization trail during an account migration.',
  ],
  runbook:
    '1. Check the trail now: `aws cloudtrail get-trail-status --name <trail>` and `get-event-selectors`; restore ' +
    'logging (`start-logging`, re-apply selectors) at once if it was not planned. ' +
    '2. Ask the actor (alert "Who") whether the change was planned; if not, treat their credentials as compromised: ' +
    'disable the access key or revoke the role sessions. ' +
    '3. Review what else the same principal and source IP did around firstSeen/lastSeen (other alerts, Event history).',
  events: [
    {
      source: CLOUDTRAIL,
      names: ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'],
    },
  ],

  match(record) {
    switch (record.eventName) {
      case 'StopLogging':
      case 'DeleteTrail':
      case 'UpdateTrail':
        return true;
      case 'PutEventSelectors':
        return eventSelectorReductions(record).length > 0;
      default:
        return false;
    }
  },

  severityFor(record, ctx, base) {
    const destructive = record.eventName === 'StopLogging' || record.eventName === 'DeleteTrail';
    if (!ctx.succeeded) return shiftSeverity(base, destructive ? 0 : -1);
    return destructive ? shiftSeverity(base, 1) : base;
  },

  alertTitle(record, ctx) {
    const trail = trailNameOf(record);
    const what: Record<string, string> = {
      StopLogging: `CloudTrail logging stopped on trail ${trail}`,
      DeleteTrail: `CloudTrail trail ${trail} deleted`,
      UpdateTrail: `CloudTrail trail ${trail} updated`,
      PutEventSelectors: `CloudTrail trail ${trail} no longer records all management events`,
    };
    const title = what[record.eventName] ?? `CloudTrail trail ${trail} changed`;
    return ctx.succeeded ? title : `Attempt failed: ${title}`;
  },

  dedupKey(record, ctx) {
    return `${ctx.actor.arn ?? ctx.actor.display}|${trailNameOf(record)}`;
  },

  alertContext(record) {
    return {
      trail: trailNameOf(record),
      ...(record.eventName === 'PutEventSelectors' ? { reductions: eventSelectorReductions(record) } : {}),
      ...(record.eventName === 'UpdateTrail' ? { changes: trailUpdateChanges(record) } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'StopLogging by an IAM user',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'StopLogging',
          requestParameters: { name: 'arn:aws:cloudtrail:eu-central-1:111122223333:trail/org-trail' },
        }),
        expect: { severity: 'critical', title: 'logging stopped on trail org-trail' },
      },
      {
        name: 'DeleteTrail by an assumed role',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'DeleteTrail',
          userIdentity: identities.assumedRole('ops-admin', 'mallory'),
          requestParameters: { name: 'main' },
        }),
        expect: { severity: 'critical', dedupKey: 'arn:aws:sts::111122223333:assumed-role/ops-admin/mallory|main' },
      },
      {
        name: 'PutEventSelectors that switches management events off (Stratus cloudtrail-event-selectors)',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'PutEventSelectors',
          requestParameters: {
            trailName: 'main',
            eventSelectors: [
              {
                readWriteType: 'ReadOnly',
                includeManagementEvents: false,
                dataResources: [{ type: 'AWS::S3::Object', values: [] }],
                excludeManagementEventSources: [],
              },
            ],
          },
        }),
        expect: { severity: 'high', title: 'no longer records all management events' },
      },
      {
        name: 'advanced event selectors that keep only data events',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'PutEventSelectors',
          requestParameters: {
            trailName: 'main',
            advancedEventSelectors: [
              {
                name: 'S3 data only',
                fieldSelectors: [
                  { field: 'eventCategory', equals: ['Data'] },
                  { field: 'resources.type', equals: ['AWS::S3::Object'] },
                ],
              },
            ],
          },
        }),
      },
      {
        name: 'a failed StopLogging attempt is still an alert, at the base severity',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'StopLogging',
          requestParameters: { name: 'main' },
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:StopLogging',
        }),
        expect: { severity: 'high', title: 'Attempt failed' },
      },
      {
        name: 'UpdateTrail redirecting the logs to another bucket',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'UpdateTrail',
          requestParameters: { name: 'main', s3BucketName: 'attacker-bucket', isMultiRegionTrail: false },
        }),
        expect: { severity: 'high' },
      },
    ],
    noMatch: [
      {
        name: 'StartLogging (turning logging back on)',
        record: exampleRecord({ eventSource: CLOUDTRAIL, eventName: 'StartLogging', requestParameters: { name: 'main' } }),
      },
      {
        name: 'PutEventSelectors that adds data events and keeps all management events',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'PutEventSelectors',
          requestParameters: {
            trailName: 'main',
            eventSelectors: [
              {
                readWriteType: 'All',
                includeManagementEvents: true,
                dataResources: [{ type: 'AWS::S3::Object', values: ['arn:aws:s3:::payroll/'] }],
                excludeManagementEventSources: [],
              },
            ],
          },
        }),
      },
      {
        name: 'advanced selectors that log management and data events',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'PutEventSelectors',
          requestParameters: {
            trailName: 'main',
            advancedEventSelectors: [
              { name: 'Management', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] },
              { name: 'S3', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }] },
            ],
          },
        }),
      },
      {
        name: 'reading the trail status',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'GetTrailStatus',
          readOnly: true,
          requestParameters: { name: 'main' },
        }),
      },
      {
        name: 'creating a new trail',
        record: exampleRecord({
          eventSource: CLOUDTRAIL,
          eventName: 'CreateTrail',
          requestParameters: { name: 'second-trail', s3BucketName: 'audit-logs', isMultiRegionTrail: true },
        }),
      },
    ],
  },
});
