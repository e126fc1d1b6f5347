import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepString } from './lib/deep';
import { actorKey, adjust, attempt } from './lib/record';

const DIRECTORY = 'sso-directory.amazonaws.com';
const SSO = 'sso.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

const EXTERNAL_IDP = [
  'CreateExternalIdPConfigurationForDirectory',
  'UpdateExternalIdPConfigurationForDirectory',
  'DeleteExternalIdPConfigurationForDirectory',
  'EnableExternalIdPConfigurationForDirectory',
  'DisableExternalIdPConfigurationForDirectory',
];
const DIRECTORY_ASSOCIATION = ['AssociateDirectory', 'DisassociateDirectory'];

const directoryOf = (record: CloudTrailRecord): string =>
  deepString(record.requestParameters, 'directoryId') ?? deepString(record.requestParameters, 'identityStoreId') ?? deepString(record.requestParameters, 'instanceArn') ?? 'identity source';

const describe: Record<string, string> = {
  CreateExternalIdPConfigurationForDirectory: 'external identity provider configured',
  UpdateExternalIdPConfigurationForDirectory: 'external identity provider configuration changed',
  DeleteExternalIdPConfigurationForDirectory: 'external identity provider configuration deleted',
  EnableExternalIdPConfigurationForDirectory: 'external identity provider enabled as identity source',
  DisableExternalIdPConfigurationForDirectory: 'external identity provider disabled (identity source switched back)',
  AssociateDirectory: 'directory associated as identity source',
  DisassociateDirectory: 'directory disassociated from the identity source',
};

const directoryCall = (eventName: string, requestParameters: Record<string, unknown>, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({
    eventSource: DIRECTORY,
    eventName,
    awsRegion: 'eu-central-1',
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
    sessionCredentialFromConsole: 'true',
    userIdentity: identities.ssoUser('dana@example.com', 'AdministratorAccess'),
    requestParameters,
    ...extra,
  });

export default defineRule({
  id: 'identity-center-idp-change',
  title: 'IAM Identity Center identity source changed',
  description:
    'IAM Identity Center trusts one identity source for every account of the organization. Pointing it at another ' +
    'external identity provider (or changing that provider’s SAML configuration), disabling it, or swapping the ' +
    'directory lets whoever controls the new source sign in as anyone with an assignment: persistence and ' +
    'privilege escalation across the whole organization. Every change is high; root higher.',
  severity: 'high',
  categories: ['idp-change'],
  references: [
    'https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_sso_idp_change.yml',
    'https://docs.aws.amazon.com/singlesignon/latest/userguide/manage-your-identity-source-change.html',
    'https://docs.aws.amazon.com/singlesignon/latest/userguide/logging-using-cloudtrail.html',
  ],
  falsePositives: ['A planned identity-provider migration or a certificate rotation of the external IdP.'],
  runbook:
    '1. Check the identity source in the Identity Center console (Settings → Identity source) against the intended one. ' +
    '2. If unplanned: switch it back, revoke active sessions (Identity Center → Users → sessions), and review ' +
    'sign-ins (`sso.amazonaws.com` Authenticate/Federate events) since firstSeen.',
  events: [
    { source: DIRECTORY, names: [...EXTERNAL_IDP, ...DIRECTORY_ASSOCIATION] },
    { source: SSO, names: DIRECTORY_ASSOCIATION },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(_record, ctx, base) {
    return adjust(ctx, base);
  },

  alertTitle(record, ctx) {
    return attempt(ctx, `IAM Identity Center: ${describe[record.eventName] ?? record.eventName} (${directoryOf(record)}) by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and directory: the steps of one switch (create, enable) are one change.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${directoryOf(record)}`;
  },

  alertContext(record) {
    return { directory: directoryOf(record), change: describe[record.eventName] ?? record.eventName };
  },

  examples: {
    match: [
      {
        name: 'a new external IdP enabled as the identity source',
        record: directoryCall('EnableExternalIdPConfigurationForDirectory', { directoryId: 'd-9067230f1a', externalIdPConfigurationId: 'eidp-0a1b2c3d4e' }),
        expect: {
          severity: 'high',
          title: 'external identity provider enabled as identity source (d-9067230f1a) by dana@example.com',
          dedupKey: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/dana@example.com|d-9067230f1a',
        },
      },
      {
        name: 'the external IdP’s configuration updated',
        record: directoryCall('UpdateExternalIdPConfigurationForDirectory', { directoryId: 'd-9067230f1a', externalIdPConfigurationId: 'eidp-0a1b2c3d4e' }),
      },
      {
        name: 'a directory disassociated through the SSO console API, by root',
        record: exampleRecord({ eventSource: SSO, eventName: 'DisassociateDirectory', userIdentity: identities.root(), requestParameters: { directoryId: 'd-9067230f1a' } }),
        expect: { severity: 'critical' },
      },
      {
        name: 'the Identity Center console acting for an administrator (invokedBy sso.amazonaws.com) is still a human change, reported',
        record: directoryCall('UpdateExternalIdPConfigurationForDirectory', { directoryId: 'd-9067230f1a', externalIdPConfigurationId: 'eidp-0a1b2c3d4e' }, {
          sourceIPAddress: 'sso.amazonaws.com',
          userIdentity: { ...identities.ssoUser('dana@example.com', 'AdministratorAccess'), invokedBy: 'sso.amazonaws.com' },
        }),
        expect: { title: '(via sso.amazonaws.com)' },
      },
      {
        name: 'a denied attempt',
        record: directoryCall('DisableExternalIdPConfigurationForDirectory', { directoryId: 'd-9067230f1a' }, {
          errorCode: 'AccessDeniedException',
          errorMessage: 'User is not authorized to perform sso-directory:DisableExternalIdPConfigurationForDirectory',
        }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'an Identity Center user created in the directory',
        record: directoryCall('CreateUser', { directoryId: 'd-9067230f1a', userName: 'erin@example.com' }),
      },
      {
        name: 'listing the external IdP configurations',
        record: directoryCall('ListExternalIdPConfigurationsForDirectory', { directoryId: 'd-9067230f1a' }, { readOnly: true }),
      },
    ],
  },
});
