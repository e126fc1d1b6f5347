import { z } from 'zod';
import type { DetectionConfigInput } from '../config/detection';
import { exampleRecord, identities } from './engine/example-record';
import { shiftSeverity } from './engine/severity';
import { defineRule } from './engine/types';

const Options = z.strictObject({
  /**
   * Also report workloads (assumed-role sessions without console, MFA or source identity: CI jobs, instance
   * profiles, Lambda roles). Off by default: machines work at night.
   */
  includeWorkloads: z.boolean().default(false),
  /** Also report failed calls (default true: a failed change at 3 a.m. is interesting too). */
  includeFailed: z.boolean().default(true),
});

const berlin: DetectionConfigInput = {
  officeHours: { timezone: 'Europe/Berlin', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '18:00', holidays: ['2025-12-25'] },
};

export default defineRule({
  id: 'off-hours-api-call',
  title: 'Change made outside office hours',
  description:
    'A person changed something (a call that is not read-only) outside the configured office hours: evenings, ' +
    'weekends and holidays in the team’s timezone. Stolen credentials are often used when nobody is watching. ' +
    'Calls by AWS services on someone’s behalf, and by workloads (CI, instance roles), are not reported unless ' +
    'configured. Inactive until `officeHours` is configured.',
  severity: 'medium',
  categories: ['off-hours'],
  references: [
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html',
    'https://attack.mitre.org/techniques/T1078/004/',
  ],
  falsePositives: [
    'On-call engineers handling an incident at night (allow-list them, or give on-call a separate profile).',
    'Teams in other timezones sharing the account (put the account in a profile with their office hours).',
  ],
  runbook:
    '1. Ask the person (alert "Who") whether they were working at that time; check the on-call schedule. ' +
    '2. If nobody recognises the activity: revoke the sessions / disable the access key and review all calls of ' +
    'the principal between firstSeen and lastSeen (the alert lists the event names).',
  events: 'all',
  requires: ['officeHours'],
  options: Options,

  match(record, ctx) {
    // Cheapest tests first: most records are reads, and most of the rest are made by machines.
    if (ctx.readOnlyOrGuess) return false;
    if (ctx.awsServiceCall) return false;
    if (!ctx.options.includeWorkloads && !ctx.human) return false;
    if (!ctx.options.includeFailed && !ctx.succeeded) return false;
    const local = ctx.local;
    return local !== undefined && !local.withinOfficeHours;
  },

  severityFor(_record, ctx, base) {
    return ctx.actor.kind === 'root' ? shiftSeverity(base, 1) : base;
  },

  alertTitle(_record, ctx) {
    const local = ctx.local;
    const when = local ? ` (${local.weekday} ${local.date} ${local.time} ${local.timezone}${local.holiday ? ', holiday' : ''})` : '';
    return `Change outside office hours by ${ctx.actor.display}${when}`;
  },

  dedupKey(_record, ctx) {
    return ctx.actor.arn ?? ctx.actor.display;
  },

  alertContext(_record, ctx) {
    const local = ctx.local;
    return local
      ? { localTime: `${local.date} ${local.time}`, weekday: local.weekday, timezone: local.timezone, holiday: local.holiday }
      : {};
  },

  examples: {
    match: [
      {
        name: 'an IAM user deletes a bucket on Saturday night (Berlin)',
        config: berlin,
        record: exampleRecord({
          eventSource: 's3.amazonaws.com',
          eventName: 'DeleteBucket',
          eventTime: '2025-03-15T22:40:11Z',
          requestParameters: { bucketName: 'invoices', Host: 'invoices.s3.eu-central-1.amazonaws.com' },
        }),
        expect: { severity: 'medium', title: 'sat 2025-03-15 23:40 Europe/Berlin' },
      },
      {
        name: 'an Identity Center user changes a security group on a holiday',
        config: berlin,
        record: exampleRecord({
          eventSource: 'ec2.amazonaws.com',
          eventName: 'AuthorizeSecurityGroupIngress',
          eventTime: '2025-12-25T10:00:00Z',
          userIdentity: identities.ssoUser(),
          requestParameters: { groupId: 'sg-0123456789abcdef0' },
        }),
        expect: { title: 'holiday' },
      },
      {
        name: 'root at 06:30 local time on a Monday is more severe',
        config: berlin,
        record: exampleRecord({
          eventSource: 'iam.amazonaws.com',
          eventName: 'CreateAccessKey',
          eventTime: '2025-03-10T05:30:00Z',
          userIdentity: identities.root(),
        }),
        expect: { severity: 'high' },
      },
      {
        name: 'a failed change at night by an IAM user',
        config: berlin,
        record: exampleRecord({
          eventSource: 'iam.amazonaws.com',
          eventName: 'AttachUserPolicy',
          eventTime: '2025-03-12T23:05:00Z',
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:AttachUserPolicy',
        }),
      },
    ],
    noMatch: [
      {
        name: 'the same change during office hours',
        config: berlin,
        record: exampleRecord({ eventSource: 's3.amazonaws.com', eventName: 'DeleteBucket', eventTime: '2025-03-12T10:15:00Z' }),
      },
      {
        name: 'a read at night',
        config: berlin,
        record: exampleRecord({
          eventSource: 's3.amazonaws.com',
          eventName: 'ListBuckets',
          readOnly: true,
          eventTime: '2025-03-15T22:40:11Z',
        }),
      },
      {
        name: 'a read at night whose record omits readOnly (guessed from the name)',
        config: berlin,
        record: { ...exampleRecord({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', eventTime: '2025-03-15T22:40:11Z' }), readOnly: undefined },
      },
      {
        name: 'an AWS service acting at night',
        config: berlin,
        record: exampleRecord({
          eventSource: 'kms.amazonaws.com',
          eventName: 'RotateKey',
          eventTime: '2025-03-15T02:00:00Z',
          eventType: 'AwsServiceEvent',
          sourceIPAddress: 'kms.amazonaws.com',
          userIdentity: identities.awsService('kms.amazonaws.com'),
        }),
      },
      {
        name: 'a CI role deploying at night (a workload, not a person)',
        config: berlin,
        record: exampleRecord({
          eventSource: 'lambda.amazonaws.com',
          eventName: 'UpdateFunctionCode20150331v2',
          eventTime: '2025-03-15T01:12:00Z',
          userIdentity: identities.assumedRole('github-deploy', 'run-8812'),
        }),
      },
    ],
  },
});
