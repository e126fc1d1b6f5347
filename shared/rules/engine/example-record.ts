import { createHash } from 'node:crypto';
import type { CloudTrailRecord, UserIdentity } from '../../cloudtrail/record';

/**
 * Builders for the inline examples of rule modules: a complete, realistic record from the few fields an example is
 * about. Documentation values only (account 111122223333, addresses from 203.0.113.0/24 and 2001:db8::/32).
 */

export const EXAMPLE_ACCOUNT = '111122223333';
export const EXAMPLE_OTHER_ACCOUNT = '444455556666';
export const EXAMPLE_IP = '203.0.113.10';
/** A Wednesday, 10:15 UTC: inside office hours for Europe/Berlin (11:15) and UTC. */
export const EXAMPLE_TIME = '2025-03-12T10:15:00Z';

const uuidFrom = (seed: string): string => {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export const identities = {
  iamUser(name = 'alice', account = EXAMPLE_ACCOUNT): UserIdentity {
    return {
      type: 'IAMUser',
      principalId: `AIDA${uuidFrom(name).replace(/-/g, '').slice(0, 16).toUpperCase()}`,
      arn: `arn:aws:iam::${account}:user/${name}`,
      accountId: account,
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      userName: name,
    };
  },
  root(account = EXAMPLE_ACCOUNT, mfa = false): UserIdentity {
    return {
      type: 'Root',
      principalId: account,
      arn: `arn:aws:iam::${account}:root`,
      accountId: account,
      accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
      sessionContext: { attributes: { creationDate: '2025-03-12T09:58:00Z', mfaAuthenticated: String(mfa) } },
    };
  },
  assumedRole(
    role = 'deploy',
    session = 'session-1',
    options: { account?: string; mfa?: boolean; invokedBy?: string; sourceIdentity?: string } = {},
  ): UserIdentity {
    const account = options.account ?? EXAMPLE_ACCOUNT;
    const roleId = `AROA${uuidFrom(role).replace(/-/g, '').slice(0, 16).toUpperCase()}`;
    return {
      type: 'AssumedRole',
      principalId: `${roleId}:${session}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
      accountId: account,
      accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
      ...(options.invokedBy ? { invokedBy: options.invokedBy } : {}),
      sessionContext: {
        attributes: { creationDate: '2025-03-12T09:58:00Z', mfaAuthenticated: String(options.mfa ?? false) },
        sessionIssuer: {
          type: 'Role',
          principalId: roleId,
          arn: `arn:aws:iam::${account}:role/${role}`,
          accountId: account,
          userName: role,
        },
        ...(options.sourceIdentity ? { sourceIdentity: options.sourceIdentity } : {}),
      },
    };
  },
  /** An IAM Identity Center (SSO) user working through a permission-set role. */
  ssoUser(email = 'dana@example.com', permissionSet = 'AdministratorAccess', account = EXAMPLE_ACCOUNT): UserIdentity {
    const role = `AWSReservedSSO_${permissionSet}_0123456789abcdef`;
    const roleId = `AROA${uuidFrom(role).replace(/-/g, '').slice(0, 16).toUpperCase()}`;
    return {
      type: 'AssumedRole',
      principalId: `${roleId}:${email}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${email}`,
      accountId: account,
      accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
      sessionContext: {
        attributes: { creationDate: '2025-03-12T09:58:00Z', mfaAuthenticated: 'false' },
        sessionIssuer: {
          type: 'Role',
          principalId: roleId,
          arn: `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/eu-central-1/${role}`,
          accountId: account,
          userName: role,
        },
      },
    };
  },
  awsService(service = 'cloudformation.amazonaws.com'): UserIdentity {
    return { type: 'AWSService', invokedBy: service };
  },
};

export type ExampleFields = Partial<CloudTrailRecord> & Pick<CloudTrailRecord, 'eventSource' | 'eventName'>;

/**
 * A complete management-event record: defaults for everything, then `fields` on top (shallow: pass a whole
 * `userIdentity`, e.g. `identities.root()`). eventID/requestID are derived from the content, so examples are stable.
 */
export function exampleRecord(fields: ExampleFields): CloudTrailRecord {
  const record: CloudTrailRecord = {
    eventVersion: '1.09',
    userIdentity: identities.iamUser(),
    eventTime: EXAMPLE_TIME,
    awsRegion: 'eu-central-1',
    sourceIPAddress: EXAMPLE_IP,
    userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8',
    requestParameters: null,
    responseElements: null,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: EXAMPLE_ACCOUNT,
    eventCategory: 'Management',
    ...fields,
  };
  const seed = JSON.stringify(record);
  return { ...record, eventID: fields.eventID ?? uuidFrom(`event:${seed}`), requestID: fields.requestID ?? uuidFrom(`req:${seed}`) };
}
