import { z } from 'zod';
import type { CloudTrailRecord } from '../../cloudtrail/record';
import { Glob } from '../../config/detection';
import { type GlobList, globList } from '../engine/patterns';

/**
 * AWS's own callers, handled deliberately. A record is "made by AWS" when:
 *
 * - the principal is an AWS service (`userIdentity.type: AWSService`), or an `AwsServiceEvent`;
 * - a service acted for a principal (`userIdentity.invokedBy`, e.g. CloudFormation creating a user for a stack);
 * - the source is a service's DNS name (`sourceIPAddress: cloudformation.amazonaws.com`) or `AWS Internal`;
 * - the principal is a service-linked role session (`…:role/aws-service-role/sso.amazonaws.com/AWSServiceRoleForSSO`).
 *
 * Rules never drop these silently: each rule has an `allowAwsServices` option (globs over the service name, e.g.
 * `cloudformation.amazonaws.com`, `sso.amazonaws.com`, `AWS Internal`, `*`) with a documented default. A caller on
 * the list is not alerted on; any other AWS caller is alerted on and the alert says "via <service>".
 */

const SERVICE_DNS = /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$/;
const SERVICE_LINKED_ROLE = /:role\/aws-service-role\/([^/]+)\//;

// Most rules ask this of the same record one after another: the last answer is kept (records are never mutated).
let lastRecord: CloudTrailRecord | undefined;
let lastService: string | undefined;

/** The AWS service behind a record, or undefined when a principal called directly. */
export function awsServiceOf(record: CloudTrailRecord): string | undefined {
  if (record !== lastRecord) {
    lastService = serviceBehind(record);
    lastRecord = record;
  }
  return lastService;
}

function serviceBehind(record: CloudTrailRecord): string | undefined {
  const id = record.userIdentity;
  if (id?.invokedBy !== undefined && id.invokedBy !== '') return id.invokedBy;
  if (id?.type === 'AWSService') return id.invokedBy ?? record.sourceIPAddress ?? 'AWS service';
  if (record.eventType === 'AwsServiceEvent') return record.eventSource;
  const source = record.sourceIPAddress;
  if (source !== undefined) {
    if (source === 'AWS Internal') return source;
    // Most sources are IP addresses: a cheap suffix test spares them the regular expression.
    if ((source.endsWith('.amazonaws.com') || source.endsWith('.amazonaws.com.cn')) && SERVICE_DNS.test(source)) return source;
  }
  const issuer = id?.sessionContext?.sessionIssuer?.arn;
  if (issuer !== undefined) {
    const m = SERVICE_LINKED_ROLE.exec(issuer);
    if (m) return m[1];
  }
  return undefined;
}

/** The option every pack rule carries: AWS callers that are not alerted on (globs over the service name). */
export const allowAwsServicesOption = (defaults: readonly string[], why?: string) =>
  z
    .array(Glob)
    .max(200)
    .default([...defaults])
    .describe(
      'AWS callers whose calls are not alerted on: service names as globs (cloudformation.amazonaws.com, "AWS Internal", "*" for all); ' +
        'any other AWS caller is alerted on with "via <service>".' +
        (why ? ` ${why}` : ''),
    );

// Options objects live as long as the engine; compile each list once.
const compiled = new WeakMap<readonly string[], GlobList>();

export function awsServiceAllowed(patterns: readonly string[], service: string): boolean {
  if (patterns.length === 0) return false;
  let list = compiled.get(patterns);
  if (!list) {
    list = globList(patterns);
    compiled.set(patterns, list);
  }
  return list.matches(service);
}

/**
 * For `match`: false when the record was made by an allow-listed AWS caller. Cheap when no AWS service is involved
 * (a few field checks).
 */
export function notAllowedAwsCaller(record: CloudTrailRecord, allow: readonly string[]): boolean {
  const service = awsServiceOf(record);
  return service === undefined || !awsServiceAllowed(allow, service);
}

/** Alert context and title suffix for a record made by an AWS service that is not allow-listed. */
export function viaService(record: CloudTrailRecord): string {
  const service = awsServiceOf(record);
  return service === undefined ? '' : ` (via ${service})`;
}
