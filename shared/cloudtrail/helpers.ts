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

function setMfa(actor: Actor, identity: UserIdentity): void {
  const mfa = mfaOf(identity);
  if (mfa !== undefined) actor.mfa = mfa;
}

function sessionIssuerOf(issuer: NonNullable<NonNullable<UserIdentity['sessionContext']>['sessionIssuer']>): NonNullable<Actor['sessionIssuer']> {
  const out: NonNullable<Actor['sessionIssuer']> = {};
  if (issuer.type !== undefined) out.type = issuer.type;
  if (issuer.arn !== undefined) out.arn = issuer.arn;
  if (issuer.userName !== undefined) out.name = issuer.userName;
  if (issuer.accountId !== undefined) out.accountId = issuer.accountId;
  return out;
}

/**
 * Who made the call, classified. Built field by field into one object (no spreads of partial objects): it runs for
 * most records, and the temporary objects were a measurable share of the engine's garbage.
 */
export function actorOf(record: CloudTrailRecord): Actor {
  const id = record.userIdentity;
  if (!id) return { kind: 'unknown', display: 'unknown' };
  const actor: Actor = { kind: 'unknown', display: '' };
  if (id.arn !== undefined) actor.arn = id.arn;
  if (id.accountId !== undefined) actor.accountId = id.accountId;
  if (id.principalId !== undefined) actor.principalId = id.principalId;
  if (id.invokedBy !== undefined) actor.invokedBy = id.invokedBy;
  const issuer = id.sessionContext?.sessionIssuer;
  // People and their sessions carry an MFA flag; AWS services, accounts and unknown types do not.
  switch (id.type) {
    case 'Root':
      setMfa(actor, id);
      actor.kind = 'root';
      actor.display = `root (${id.accountId ?? 'unknown account'})`;
      break;
    case 'IAMUser':
      setMfa(actor, id);
      actor.kind = 'iam-user';
      actor.display = id.userName ?? lastSegment(id.arn) ?? 'IAM user';
      break;
    case 'AssumedRole': {
      setMfa(actor, id);
      const sessionName = lastSegment(id.arn);
      const roleName = issuer?.userName ?? lastSegment(issuer?.arn);
      const isSso = issuer?.arn !== undefined && SSO_ROLE.test(issuer.arn);
      actor.kind = isSso ? 'identity-center' : 'assumed-role';
      if (issuer) actor.sessionIssuer = sessionIssuerOf(issuer);
      if (sessionName !== undefined) actor.sessionName = sessionName;
      actor.display = isSso
        ? `${sessionName ?? 'unknown'} (Identity Center: ${roleName ?? 'unknown permission set'})`
        : `${roleName ?? 'unknown role'}/${sessionName ?? 'unknown session'}`;
      break;
    }
    case 'IdentityCenterUser':
      setMfa(actor, id);
      actor.kind = 'identity-center';
      if (id.onBehalfOf?.userId !== undefined) actor.identityStoreUserId = id.onBehalfOf.userId;
      actor.display = `Identity Center user ${id.onBehalfOf?.userId ?? id.principalId ?? 'unknown'}`;
      break;
    case 'FederatedUser':
      setMfa(actor, id);
      actor.kind = 'federated-user';
      if (issuer) actor.sessionIssuer = sessionIssuerOf(issuer);
      actor.display = `${lastSegment(id.arn) ?? id.principalId ?? 'unknown'} (federated by ${actor.sessionIssuer?.name ?? 'unknown'})`;
      break;
    case 'SAMLUser':
      setMfa(actor, id);
      actor.kind = 'saml-user';
      actor.display = `${id.userName ?? id.principalId ?? 'unknown'} (SAML)`;
      break;
    case 'WebIdentityUser':
      setMfa(actor, id);
      actor.kind = 'web-identity-user';
      actor.display = `${id.userName ?? id.principalId ?? 'unknown'} (${id.identityProvider ?? 'web identity'})`;
      break;
    case 'AWSService':
      actor.kind = 'aws-service';
      actor.display = id.invokedBy ?? 'AWS service';
      break;
    case 'AWSAccount':
      actor.kind = 'aws-account';
      actor.display = `account ${id.accountId ?? id.principalId ?? 'unknown'}`;
      break;
    default:
      actor.display = id.arn ?? id.principalId ?? id.type ?? 'unknown';
  }
  return actor;
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

// The last answer of `eventTimeMs`: several rules (and the office clock) ask for the time of the same record in a row.
let lastTimeText = '';
let lastTimeMs = Number.NaN;

/**
 * `eventTime` in epoch milliseconds (NaN when it is not a time), as `Date.parse` would say. CloudTrail writes
 * `2024-07-31T12:46:41Z`; that shape is read digit by digit (about a third of `Date.parse`'s cost, which matters
 * once per rule match on the hot path), anything else goes to `Date.parse`.
 */
export function eventTimeMs(text: string): number {
  if (text === lastTimeText) return lastTimeMs;
  lastTimeText = text;
  return (lastTimeMs = parseEventTime(text));
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysInMonth = (year: number, month: number): number =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1]!;

/** The decimal digit at `i`, or NaN (which makes every comparison below fail, so Date.parse decides). */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : Number.NaN;
}

function parseEventTime(s: string): number {
  if (s.length !== 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(19) !== 90) {
    return Date.parse(s);
  }
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return Date.parse(s);
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  // Anything unusual (month 13, Feb 30, 24:00, a year Date.UTC would read as 19xx) is Date.parse's to judge, so both
  // paths agree on every input.
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59)) return Date.parse(s);
  if (day > 28 && day > daysInMonth(year, month)) return Date.parse(s);
  return (((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second) * 1000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), without calling into Date. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}
