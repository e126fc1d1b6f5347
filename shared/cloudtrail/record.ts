import { z } from 'zod/mini';

/**
 * One CloudTrail record (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
 *
 * Lenient on purpose: only the fields rules read are typed, every object is loose (unknown fields pass through
 * untouched), and only eventTime/eventSource/eventName are required — a new eventVersion or a field AWS adds next
 * year never makes a record fail. A record that does fail (say `eventName: 42`) is counted and skipped by the
 * reader, never fatal to the file.
 *
 * zod/mini rather than zod: the same validation engine with a much smaller import, and this module is on the
 * Lambda's cold-start path.
 */
const str = z.optional(z.string());
const obj = z.record(z.string(), z.unknown());

export const SessionIssuer = z.looseObject({
  type: str,
  principalId: str,
  arn: str,
  accountId: str,
  userName: str,
});

export const SessionContext = z.looseObject({
  attributes: z.optional(
    z.looseObject({
      creationDate: str,
      /** "true" / "false" as strings in CloudTrail; booleans accepted too. */
      mfaAuthenticated: z.optional(z.union([z.string(), z.boolean()])),
    }),
  ),
  sessionIssuer: z.optional(SessionIssuer),
  webIdFederationData: z.optional(z.looseObject({ federatedProvider: str, attributes: z.optional(obj) })),
  sourceIdentity: str,
  ec2RoleDelivery: str,
});

export const UserIdentity = z.looseObject({
  /** Root, IAMUser, AssumedRole, FederatedUser, AWSAccount, AWSService, IdentityCenterUser, SAMLUser, WebIdentityUser, Unknown… */
  type: str,
  principalId: str,
  arn: str,
  accountId: str,
  accessKeyId: str,
  userName: str,
  /** The AWS service that made the call on the principal's behalf (e.g. cloudformation.amazonaws.com). */
  invokedBy: str,
  identityProvider: str,
  credentialId: str,
  sessionContext: z.optional(SessionContext),
  /** IAM Identity Center: the Identity Store user the call was made for. */
  onBehalfOf: z.optional(z.looseObject({ userId: str, identityStoreArn: str })),
});

export const CloudTrailRecord = z.looseObject({
  eventVersion: str,
  eventTime: z.string(),
  eventSource: z.string(),
  eventName: z.string(),
  awsRegion: str,
  eventID: str,
  /** AwsApiCall, AwsServiceEvent, AwsConsoleAction, AwsConsoleSignIn, AwsCloudTrailInsight, AwsVpceEvent. */
  eventType: str,
  eventCategory: str,
  managementEvent: z.optional(z.boolean()),
  /** Absent on many records: read-only-ness is then unknown (see `readOnlyOf`). */
  readOnly: z.optional(z.boolean()),
  recipientAccountId: str,
  sourceIPAddress: str,
  userAgent: str,
  errorCode: str,
  errorMessage: str,
  requestID: str,
  sharedEventID: str,
  vpcEndpointId: str,
  sessionCredentialFromConsole: z.optional(z.union([z.string(), z.boolean()])),
  userIdentity: z.optional(UserIdentity),
  requestParameters: z.optional(z.nullable(obj)),
  responseElements: z.optional(z.nullable(obj)),
  additionalEventData: z.optional(z.nullable(obj)),
});
export type CloudTrailRecord = z.infer<typeof CloudTrailRecord>;
export type UserIdentity = z.infer<typeof UserIdentity>;
