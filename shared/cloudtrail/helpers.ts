import { ipVersion } from '../ip-ranges/ip';
import type { CloudTrailRecord, UserIdentity } from './record';

/**
 * The questions every rule asks of a record, answered once, the same way everywhere. Pure functions of the record;
 * the rule context (shared/rules/context.ts) memoises them per record.
 */

/**
 * Did the call succeed? A failed call carries `errorCode` and/or `errorMessage`. A failed console sign-in is the
 * odd one out: it has only `errorMessage` ("Failed authentication") and `responseElements.ConsoleLogin: "Failure"`.
 */
export function succeeded(record: CloudTrailRecord): boolean {
  if (record.errorCode !== undefined || record.errorMessage !== undefined) return false;
  const response = record.responseElements;
  if (response && response.ConsoleLogin === 'Failure') return false;
  return true;
}

/** `readOnly` as CloudTrail says it: true, false, or undefined when the record does not say (many omit it). */
export const readOnlyOf = (record: CloudTrailRecord): boolean | undefined => record.readOnly;

const READ_ONLY_NAME = /^(?:Get|List|Describe|Head|Lookup|Search|BatchGet|Check|Validate|Estimate|Preview|Query|Scan|Select)[A-Z]/;

/**
 * `readOnly` when the record says so; otherwise a guess from the event name (Get…/List…/Describe… are reads). For
 * rules that must treat "unknown" somehow (off-hours: only changes matter).
 */
export function readOnlyOrGuess(record: CloudTrailRecord): boolean {
  return record.readOnly ?? READ_ONLY_NAME.test(record.eventName);
}

/** A console session: the sign-in itself, a console action, or an API call made with console credentials. */
export function isConsoleSession(record: CloudTrailRecord): boolean {
  return (
    record.eventType === 'AwsConsoleSignIn' ||
    record.eventType === 'AwsConsoleAction' ||
    record.sessionCredentialFromConsole === 'true' ||
    record.sessionCredentialFromConsole === true
  );
}

export type ActorKind =
  | 'root'
  | 'iam-user'
  | 'assumed-role'
  | 'identity-center'
  | 'federated-user'
  | 'saml-user'
  | 'web-identity-user'
  | 'aws-service'
  | 'aws-account'
  | 'unknown';

export interface Actor {
  kind: ActorKind;
  /** The principal's ARN when CloudTrail gives one (assumed roles: the session ARN). */
  arn?: string;
  /** For people: user name, role/session, service name — what an alert shows after "Who:". */
  display: string;
  accountId?: string;
  principalId?: string;
  /** Assumed roles and federated users: the role or user that issued the session. */
  sessionIssuer?: { type?: string; arn?: string; name?: string; accountId?: string };
  /** The role session name (the part after the role name in an assumed-role ARN). */
  sessionName?: string;
  /** The AWS service that made the call for the principal (`userIdentity.invokedBy`). */
  invokedBy?: string;
  /** MFA on the session, when CloudTrail records it. */
  mfa?: boolean;
  /** IAM Identity Center: the Identity Store user id. */
  identityStoreUserId?: string;
}

// Identity Center permission-set roles: arn:aws:iam::<acct>:role/aws-reserved/sso.amazonaws.com[/<region>]/AWSReservedSSO_<set>_<hex>
const SSO_ROLE = /:role\/aws-reserved\/sso\.amazonaws\.com\/(?:[a-z0-9-]+\/)?AWSReservedSSO_/;

const lastSegment = (arn: string | undefined): string | undefined => {
  if (!arn) return undefined;
  const slash = arn.lastIndexOf('/');
  return slash >= 0 ? arn.slice(slash + 1) : undefined;
};

function mfaOf(identity: UserIdentity): boolean | undefined {
  const mfa = identity.sessionContext?.attributes?.mfaAuthenticated;
  if (mfa === undefined) return undefined;
  return mfa === true || mfa === 'true';
}

/** Who made the call, classified. */
export function actorOf(record: CloudTrailRecord): Actor {
  const id = record.userIdentity;
  if (!id) return { kind: 'unknown', display: 'unknown' };
  const base = {
    ...(id.arn !== undefined ? { arn: id.arn } : {}),
    ...(id.accountId !== undefined ? { accountId: id.accountId } : {}),
    ...(id.principalId !== undefined ? { principalId: id.principalId } : {}),
    ...(id.invokedBy !== undefined ? { invokedBy: id.invokedBy } : {}),
  };
  const mfa = mfaOf(id);
  const withMfa = mfa === undefined ? {} : { mfa };
  const issuer = id.sessionContext?.sessionIssuer;
  const sessionIssuer = issuer
    ? {
        ...(issuer.type !== undefined ? { type: issuer.type } : {}),
        ...(issuer.arn !== undefined ? { arn: issuer.arn } : {}),
        ...(issuer.userName !== undefined ? { name: issuer.userName } : {}),
        ...(issuer.accountId !== undefined ? { accountId: issuer.accountId } : {}),
      }
    : undefined;

  switch (id.type) {
    case 'Root':
      return { kind: 'root', ...base, ...withMfa, display: `root (${id.accountId ?? 'unknown account'})` };
    case 'IAMUser':
      return { kind: 'iam-user', ...base, ...withMfa, display: id.userName ?? lastSegment(id.arn) ?? 'IAM user' };
    case 'AssumedRole': {
      const sessionName = lastSegment(id.arn);
      const roleName = issuer?.userName ?? lastSegment(issuer?.arn);
      const isSso = issuer?.arn !== undefined && SSO_ROLE.test(issuer.arn);
      return {
        kind: isSso ? 'identity-center' : 'assumed-role',
        ...base,
        ...withMfa,
        ...(sessionIssuer ? { sessionIssuer } : {}),
        ...(sessionName !== undefined ? { sessionName } : {}),
        display: isSso
          ? `${sessionName ?? 'unknown'} (Identity Center: ${roleName ?? 'unknown permission set'})`
          : `${roleName ?? 'unknown role'}/${sessionName ?? 'unknown session'}`,
      };
    }
    case 'IdentityCenterUser':
      return {
        kind: 'identity-center',
        ...base,
        ...withMfa,
        ...(id.onBehalfOf?.userId !== undefined ? { identityStoreUserId: id.onBehalfOf.userId } : {}),
        display: `Identity Center user ${id.onBehalfOf?.userId ?? id.principalId ?? 'unknown'}`,
      };
    case 'FederatedUser':
      return {
        kind: 'federated-user',
        ...base,
        ...withMfa,
        ...(sessionIssuer ? { sessionIssuer } : {}),
        display: `${lastSegment(id.arn) ?? id.principalId ?? 'unknown'} (federated by ${sessionIssuer?.name ?? 'unknown'})`,
      };
    case 'SAMLUser':
      return { kind: 'saml-user', ...base, ...withMfa, display: `${id.userName ?? id.principalId ?? 'unknown'} (SAML)` };
    case 'WebIdentityUser':
      return {
        kind: 'web-identity-user',
        ...base,
        ...withMfa,
        display: `${id.userName ?? id.principalId ?? 'unknown'} (${id.identityProvider ?? 'web identity'})`,
      };
    case 'AWSService':
      return { kind: 'aws-service', ...base, display: id.invokedBy ?? 'AWS service' };
    case 'AWSAccount':
      return { kind: 'aws-account', ...base, display: `account ${id.accountId ?? id.principalId ?? 'unknown'}` };
    default:
      return { kind: 'unknown', ...base, display: id.arn ?? id.principalId ?? id.type ?? 'unknown' };
  }
}

/**
 * Whether the call was made by AWS itself rather than by a principal acting directly: an AWS service principal, a
 * call invoked by a service on the principal's behalf (`invokedBy`), or an `AwsServiceEvent`.
 */
export function isAwsServiceCall(record: CloudTrailRecord): boolean {
  const id = record.userIdentity;
  return record.eventType === 'AwsServiceEvent' || id?.type === 'AWSService' || id?.invokedBy !== undefined;
}

/**
 * A person rather than a workload: root, IAM users, Identity Center and federated sessions, and assumed roles used
 * from the console or with MFA or a source identity. Other assumed-role sessions (EC2 instance profiles, Lambda
 * execution roles, CI roles) are workloads. A heuristic, documented as such; allow-lists correct it per principal.
 */
export function isHumanActor(actor: Actor, record: CloudTrailRecord): boolean {
  switch (actor.kind) {
    case 'root':
    case 'iam-user':
    case 'identity-center':
    case 'federated-user':
    case 'saml-user':
    case 'web-identity-user':
      return actor.invokedBy === undefined;
    case 'assumed-role':
      return (
        actor.invokedBy === undefined &&
        (isConsoleSession(record) || actor.mfa === true || record.userIdentity?.sessionContext?.sourceIdentity !== undefined)
      );
    default:
      return false;
  }
}

export type SourceKind = 'ip' | 'aws-service' | 'aws-internal' | 'invalid' | 'none';

export interface Source {
  kind: SourceKind;
  /** `sourceIPAddress` as written (also for service names and invalid values). */
  value: string;
  /** For `kind: 'ip'`. */
  family?: 'ipv4' | 'ipv6';
}

/**
 * What `sourceIPAddress` holds: an IPv4/IPv6 address; an AWS service's DNS name (`cloudformation.amazonaws.com`)
 * when a service called on a principal's behalf; `AWS Internal`; or something else — e.g. `08.1.250.216`, which has
 * a leading-zero octet and is not an address (some parsers would read it as octal; vigil's strict parser refuses).
 */
export function sourceOf(record: CloudTrailRecord): Source {
  const value = record.sourceIPAddress;
  if (value === undefined || value === '') return { kind: 'none', value: '' };
  const version = ipVersion(value);
  if (version === 4) return { kind: 'ip', value, family: 'ipv4' };
  if (version === 6) return { kind: 'ip', value, family: 'ipv6' };
  if (value === 'AWS Internal') return { kind: 'aws-internal', value };
  if (/^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$/.test(value)) return { kind: 'aws-service', value };
  return { kind: 'invalid', value };
}
