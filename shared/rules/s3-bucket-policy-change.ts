import { z } from 'zod';
import type { Severity } from '../alerts/schema';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { analyzePolicy, maxSeverity, safeParsePolicyDocument } from '../policy';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { accountRelation, knownAccountsOption } from './lib/accounts';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepStrings, deepValues } from './lib/deep';
import { findingFacts } from './lib/policy-docs';
import { actorKey, adjust, asArray, attempt, highest, isObject, param, shift } from './lib/record';

const S3 = 's3.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  knownAccounts: knownAccountsOption(),
  shortExpirationDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(7)
    .describe('A lifecycle rule expiring every object of the bucket within this many days is high (data destruction).'),
});
type Options = z.infer<typeof Options>;

const EVENTS = [
  'PutBucketAcl',
  'PutBucketPolicy',
  'PutBucketCors',
  'PutBucketLifecycle',
  'PutBucketReplication',
  'DeleteBucketPolicy',
  'DeleteBucketCors',
  'DeleteBucketLifecycle',
  'DeleteBucketReplication',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'PutAccountPublicAccessBlock',
  'DeleteAccountPublicAccessBlock',
] as const;

const PUBLIC_GROUPS = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;
const PUBLIC_CANNED = new Set(['public-read', 'public-read-write', 'authenticated-read']);
const WRITE_PERMISSIONS = new Set(['WRITE', 'WRITE_ACP', 'FULL_CONTROL']);

interface Finding {
  severity: Severity;
  reason: string;
}

/** What the change does, as the worst finding (undefined: an ordinary change at the base severity). */
function assess(record: CloudTrailRecord, ctx: RuleContext<Options>, base: Severity): Finding | undefined {
  const p = record.requestParameters ?? {};
  switch (record.eventName) {
    case 'PutBucketPolicy': {
      const parsed = safeParsePolicyDocument(p.bucketPolicy ?? p.policy);
      if (!parsed.ok) return undefined;
      const findings = analyzePolicy(parsed.document, {
        kind: 'resource',
        ...(/^\d{12}$/.test(ctx.account) ? { accountId: ctx.account } : {}),
        knownAccounts: [...ctx.options.knownAccounts],
      });
      const publicGrant = findings.find((f) => f.ruleId === 'principal-wildcard' && f.severity !== 'low' && f.severity !== 'info');
      if (publicGrant) {
        const writes = parsed.document.Statement.some(
          (s) => s.Effect === 'Allow' && (Array.isArray(s.Action) ? s.Action : [s.Action ?? '']).some((a) => /^(s3:)?(\*|Put|Delete|Replicate)/i.test(a) || a === '*'),
        );
        return { severity: writes ? 'critical' : 'high', reason: `bucket policy open to everyone (Principal "*")${writes ? ' with write access' : ''}` };
      }
      const worst = maxSeverity(findings);
      const external = findings.find((f) => f.ruleId === 'principal-unknown-account');
      if (external) return { severity: highest(worst, 'high'), reason: `bucket policy grants external ${external.subjects.join(', ')}` };
      return worst && worst !== 'info' && worst !== 'low' ? { severity: worst, reason: findings.find((f) => f.severity === worst)!.message } : undefined;
    }
    case 'PutBucketAcl': {
      const grants = deepValues(p, (k) => k === 'Grant').flatMap((g) => (Array.isArray(g) ? g : [g])).filter(isObject);
      const publicGrants = grants.filter((g) => PUBLIC_GROUPS.test(JSON.stringify(g.Grantee ?? {})));
      const canned = deepStrings(p, ['x-amz-acl']).concat(asArray(p['x-amz-acl']).map(String)).filter((c) => PUBLIC_CANNED.has(c));
      if (publicGrants.length === 0 && canned.length === 0) return undefined;
      const write = publicGrants.some((g) => WRITE_PERMISSIONS.has(String(g.Permission))) || canned.includes('public-read-write');
      return { severity: write ? 'critical' : 'high', reason: `ACL grants ${write ? 'write' : 'read'} access to everyone${canned.length > 0 ? ` (${canned[0]})` : ''}` };
    }
    case 'PutBucketPublicAccessBlock':
    case 'PutAccountPublicAccessBlock': {
      const config = deepValues(p, (k) => k === 'PublicAccessBlockConfiguration').find(isObject) ?? {};
      const off = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'].filter((k) => config[k] === false || config[k] === 'false');
      if (off.length === 0) return { severity: shift(base, -2), reason: 'public access block fully on' };
      const account = record.eventName === 'PutAccountPublicAccessBlock';
      return { severity: account ? 'critical' : 'high', reason: `${account ? 'account-wide ' : ''}public access block weakened: ${off.join(', ')} off` };
    }
    case 'DeleteBucketPublicAccessBlock':
      return { severity: 'high', reason: 'public access block removed from the bucket' };
    case 'DeleteAccountPublicAccessBlock':
      return { severity: 'critical', reason: 'account-wide public access block removed' };
    case 'PutBucketLifecycle': {
      const rules = deepValues(p, (k) => k === 'Rule').flatMap((r) => (Array.isArray(r) ? r : [r])).filter(isObject);
      for (const rule of rules) {
        if (rule.Status !== 'Enabled') continue;
        const days = Number((isObject(rule.Expiration) && rule.Expiration.Days) ?? NaN);
        const prefix = [rule.Prefix, isObject(rule.Filter) ? rule.Filter.Prefix : undefined].find((v) => typeof v === 'string');
        const wholeBucket = (prefix === undefined || prefix === '') && !(isObject(rule.Filter) && (rule.Filter.Tag || rule.Filter.And));
        if (Number.isFinite(days) && days <= ctx.options.shortExpirationDays && wholeBucket) {
          return { severity: 'high', reason: `every object expires after ${days} day${days === 1 ? '' : 's'}` };
        }
      }
      return { severity: shift(base, -1), reason: 'lifecycle rules changed' };
    }
    case 'PutBucketReplication': {
      const accounts = deepStrings(p, ['Account']).filter((a) => /^\d{12}$/.test(a));
      const external = accounts.filter((a) => accountRelation(a, ctx, ctx.options.knownAccounts) === 'external');
      if (external.length > 0) return { severity: 'high', reason: `objects replicated to external account ${external.join(', ')}` };
      return undefined;
    }
    case 'PutBucketCors': {
      const rules = deepValues(p, (k) => k === 'CORSRule').flatMap((r) => (Array.isArray(r) ? r : [r])).filter(isObject);
      const anyOrigin = rules.some((r) => (Array.isArray(r.AllowedOrigin) ? r.AllowedOrigin : [r.AllowedOrigin]).includes('*'));
      return anyOrigin ? { severity: base, reason: 'CORS allows any origin' } : { severity: shift(base, -1), reason: 'CORS rules changed' };
    }
    default:
      // Deleting a policy, CORS, lifecycle or replication configuration takes access away.
      return { severity: shift(base, -1), reason: `${record.eventName.replace(/^DeleteBucket/, '').toLowerCase()} configuration deleted` };
  }
}

const bucketOf = (record: CloudTrailRecord): string =>
  param(record, 'bucketName') ?? (record.eventName.includes('Account') ? 'account-wide' : 'unknown bucket');

const s3Call = (eventName: string, requestParameters: Record<string, unknown>, extra: Partial<CloudTrailRecord> = {}) => {
  const bucket = typeof requestParameters.bucketName === 'string' ? requestParameters.bucketName : undefined;
  return exampleRecord({
    eventSource: S3,
    eventName,
    requestParameters: { ...requestParameters, ...(bucket ? { Host: `${bucket}.s3.eu-central-1.amazonaws.com` } : {}) },
    additionalEventData: { SignatureVersion: 'SigV4', AuthenticationMethod: 'AuthHeader', 'x-amz-id-2': 'EXAMPLEid2', bytesTransferredIn: 0, bytesTransferredOut: 0 },
    ...extra,
  });
};

export default defineRule({
  id: 's3-bucket-policy-change',
  title: 'S3 bucket policy, ACL or access configuration changed',
  description:
    'Changes to who can reach a bucket and what happens to its objects (CIS 4.8): bucket policies, ACLs, CORS, ' +
    'lifecycle and replication, and public access blocks (bucket and account). A policy or ACL that opens the ' +
    'bucket to everyone is high (critical with write access); a weakened or removed public access block is high ' +
    '(critical account-wide); a lifecycle rule that expires every object within `shortExpirationDays` and ' +
    'replication to an external account are high. Deletions of configuration are low. Bucket policies are analysed ' +
    'with vigil’s policy analyzer (external accounts, missing encryption conditions …).',
  severity: 'medium',
  categories: ['s3-bucket-policy-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-8',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.s3-backdoor-bucket-policy/',
    'https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_cloudtrail_short_lifecycle.yml',
  ],
  falsePositives: [
    'Static website buckets that are public on purpose (allow-list the deployment principal, or accept the alert).',
    'Infrastructure as code maintaining bucket policies (allow-list its principal or CloudFormation).',
  ],
  runbook:
    '1. Read the change (alert context `change`, policy findings). ' +
    '2. If unplanned: restore the policy/ACL/public access block, then check S3 server access logs or CloudTrail data ' +
    'events for reads by strangers since firstSeen.',
  events: [{ source: S3, names: EVENTS }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, assess(record, ctx, base)?.severity ?? base);
  },

  alertTitle(record, ctx) {
    const finding = assess(record, ctx, 'medium');
    const bucket = bucketOf(record);
    const what = finding ? finding.reason : `${record.eventName}`;
    return attempt(ctx, `S3 ${bucket === 'account-wide' ? 'account' : `bucket ${bucket}`}: ${what}, by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and bucket: a policy, ACL and public-access-block change made together is one exposure.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${bucketOf(record)}`;
  },

  alertContext(record, ctx) {
    const p = record.requestParameters ?? {};
    const parsed = record.eventName === 'PutBucketPolicy' ? safeParsePolicyDocument(p.bucketPolicy ?? p.policy) : undefined;
    return {
      bucket: bucketOf(record),
      change: assess(record, ctx, 'medium')?.reason ?? record.eventName,
      ...(parsed?.ok
        ? { findings: findingFacts(analyzePolicy(parsed.document, { kind: 'resource', knownAccounts: [...ctx.options.knownAccounts] })) }
        : parsed
          ? { documentError: parsed.error }
          : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'a bucket policy letting everyone read objects is high',
        record: s3Call('PutBucketPolicy', {
          bucketName: 'customer-exports',
          policy: '',
          bucketPolicy: {
            Version: '2012-10-17',
            Statement: [{ Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::customer-exports/*' }],
          },
        }),
        expect: { severity: 'high', title: 'S3 bucket customer-exports: bucket policy open to everyone', dedupKey: 'arn:aws:iam::111122223333:user/alice|customer-exports' },
      },
      {
        name: 'a backdoor policy for an external account (Stratus s3-backdoor-bucket-policy)',
        record: s3Call('PutBucketPolicy', {
          bucketName: 'customer-exports',
          bucketPolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::193672423079:root' },
                Action: ['s3:GetObject', 's3:GetBucketLocation', 's3:ListBucket'],
                Resource: ['arn:aws:s3:::customer-exports/*', 'arn:aws:s3:::customer-exports'],
              },
            ],
          },
        }),
        expect: { severity: 'high', title: 'grants external arn:aws:iam::193672423079:root' },
      },
      {
        name: 'a public-read-write canned ACL is critical',
        record: s3Call('PutBucketAcl', { bucketName: 'uploads', acl: '', 'x-amz-acl': ['public-read-write'] }),
        expect: { severity: 'critical', title: 'ACL grants write access to everyone' },
      },
      {
        name: 'an ACL grant to AllUsers (READ)',
        record: s3Call('PutBucketAcl', {
          bucketName: 'uploads',
          acl: '',
          AccessControlPolicy: {
            xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/',
            Owner: { ID: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
            AccessControlList: {
              Grant: [
                { Grantee: { 'xsi:type': 'CanonicalUser', ID: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' }, Permission: 'FULL_CONTROL' },
                { Grantee: { 'xsi:type': 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' },
              ],
            },
          },
        }),
        expect: { severity: 'high' },
      },
      {
        name: 'the account-wide public access block removed is critical',
        record: s3Call('DeleteAccountPublicAccessBlock', { publicAccessBlock: '' }),
        expect: { severity: 'critical', title: 'S3 account: account-wide public access block removed' },
      },
      {
        name: 'a lifecycle rule expiring every object after one day',
        record: s3Call('PutBucketLifecycle', {
          bucketName: 'backups',
          lifecycle: '',
          LifecycleConfiguration: { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/', Rule: { ID: 'nuke', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } } },
        }),
        expect: { severity: 'high', title: 'every object expires after 1 day' },
      },
      {
        name: 'replication to an external account',
        record: s3Call('PutBucketReplication', {
          bucketName: 'backups',
          replication: '',
          ReplicationConfiguration: {
            Role: 'arn:aws:iam::111122223333:role/s3-replication',
            Rule: { ID: 'r1', Status: 'Enabled', Priority: 1, Filter: {}, Destination: { Bucket: 'arn:aws:s3:::drop-zone', Account: '999988887777' } },
          },
        }),
        expect: { severity: 'high' },
      },
      {
        name: 'a denied bucket policy deletion is informational',
        record: s3Call('DeleteBucketPolicy', { bucketName: 'customer-exports', policy: '' }, {
          errorCode: 'AccessDenied',
          errorMessage: 'Access Denied',
        }),
        expect: { severity: 'info', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'reading a bucket policy',
        record: s3Call('GetBucketPolicy', { bucketName: 'customer-exports', policy: '' }, { readOnly: true }),
      },
      {
        name: 'CloudFormation maintaining a policy, allow-listed',
        config: { rules: { 's3-bucket-policy-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: s3Call('PutBucketPolicy', { bucketName: 'site', bucketPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/*' }] } }, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'writing an object (a data event, not a configuration change)',
        record: s3Call('PutObject', { bucketName: 'uploads', key: 'a.txt' }, { managementEvent: false, eventCategory: 'Data' }),
      },
    ],
  },
});
