import { z } from 'zod';
import type { Severity } from '../alerts/schema';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { managedPolicyRisk } from '../policy';
import type { AttachedTo } from '../policy/schema';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { type DocumentAnalysis, analyzeDocumentText, findingFacts, worstFinding } from './lib/policy-docs';
import { actorKey, adjust, attempt, callerUserName, highest, param, shift } from './lib/record';

const IAM = 'iam.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

/** CIS 4.4's sixteen events plus the default-version, boundary changes (the trust policy has its own rule). */
const EVENTS = [
  'PutUserPolicy',
  'PutGroupPolicy',
  'PutRolePolicy',
  'DeleteUserPolicy',
  'DeleteGroupPolicy',
  'DeleteRolePolicy',
  'CreatePolicy',
  'DeletePolicy',
  'CreatePolicyVersion',
  'DeletePolicyVersion',
  'AttachUserPolicy',
  'AttachGroupPolicy',
  'AttachRolePolicy',
  'DetachUserPolicy',
  'DetachGroupPolicy',
  'DetachRolePolicy',
  'SetDefaultPolicyVersion',
  'PutUserPermissionsBoundary',
  'PutRolePermissionsBoundary',
  'DeleteUserPermissionsBoundary',
  'DeleteRolePermissionsBoundary',
] as const;

type Kind = 'put-inline' | 'delete-inline' | 'create-policy' | 'delete-policy' | 'create-version' | 'delete-version' | 'attach' | 'detach' | 'set-default' | 'put-boundary' | 'delete-boundary';

function kindOf(eventName: string): Kind {
  if (/^Put(User|Group|Role)Policy$/.test(eventName)) return 'put-inline';
  if (/^Delete(User|Group|Role)Policy$/.test(eventName)) return 'delete-inline';
  if (/^Attach(User|Group|Role)Policy$/.test(eventName)) return 'attach';
  if (/^Detach(User|Group|Role)Policy$/.test(eventName)) return 'detach';
  if (/^Put(User|Role)PermissionsBoundary$/.test(eventName)) return 'put-boundary';
  if (/^Delete(User|Role)PermissionsBoundary$/.test(eventName)) return 'delete-boundary';
  switch (eventName) {
    case 'CreatePolicy':
      return 'create-policy';
    case 'DeletePolicy':
      return 'delete-policy';
    case 'CreatePolicyVersion':
      return 'create-version';
    case 'DeletePolicyVersion':
      return 'delete-version';
    default:
      return 'set-default';
  }
}

const lastSegment = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/** The principal or policy changed: `user/alice`, `group/admins`, `role/deploy`, `policy/ReadBilling`. */
export function policyTarget(record: CloudTrailRecord): string {
  const user = param(record, 'userName');
  if (user !== undefined) return `user/${user}`;
  const group = param(record, 'groupName');
  if (group !== undefined) return `group/${group}`;
  const role = param(record, 'roleName');
  if (role !== undefined) return `role/${role}`;
  const arn = param(record, 'policyArn');
  if (arn !== undefined) return `policy/${lastSegment(arn)}`;
  const name = param(record, 'policyName');
  return name !== undefined ? `policy/${name}` : 'unknown';
}

const attachedTo = (record: CloudTrailRecord): AttachedTo =>
  param(record, 'userName') !== undefined ? 'user' : param(record, 'groupName') !== undefined ? 'group' : param(record, 'roleName') !== undefined ? 'role' : 'unknown';

/** The caller changing its own permissions: an IAM user on itself, a role session on its own role. */
function selfChange(record: CloudTrailRecord, ctx: RuleContext<unknown>): boolean {
  const user = param(record, 'userName');
  if (user !== undefined && user === callerUserName(record, ctx)) return true;
  const role = param(record, 'roleName');
  return role !== undefined && ctx.actor.kind !== 'iam-user' && ctx.actor.sessionIssuer?.name === role;
}

/** The analysis of the document the request carries, for the events that carry one. */
function documentOf(record: CloudTrailRecord): DocumentAnalysis | undefined {
  const kind = kindOf(record.eventName);
  if (kind !== 'put-inline' && kind !== 'create-policy' && kind !== 'create-version') return undefined;
  return analyzeDocumentText(record.requestParameters?.policyDocument, { kind: 'identity', attachedTo: attachedTo(record) });
}

/** A document that is not (yet) in force: a new managed policy, or a version not set as default. */
const notInForce = (record: CloudTrailRecord): boolean =>
  record.eventName === 'CreatePolicy' || (record.eventName === 'CreatePolicyVersion' && record.requestParameters?.setAsDefault !== true);

const attachedRisk = (record: CloudTrailRecord) => {
  const kind = kindOf(record.eventName);
  if (kind !== 'attach' && kind !== 'put-boundary') return undefined;
  const arn = param(record, kind === 'attach' ? 'policyArn' : 'permissionsBoundary');
  return arn ? managedPolicyRisk(arn) : undefined;
};

function severityOf(record: CloudTrailRecord, ctx: RuleContext<unknown>, base: Severity): Severity {
  const kind = kindOf(record.eventName);
  let severity: Severity = base;
  switch (kind) {
    case 'delete-inline':
    case 'detach':
    case 'delete-policy':
    case 'delete-version':
      severity = shift(base, -1); // less access, not more (still audited: it can break guardrails or workloads)
      break;
    case 'delete-boundary':
      severity = shift(base, 1); // a guardrail removed: the principal's policies now apply in full
      break;
    case 'put-boundary':
      severity = attachedRisk(record) ? base : shift(base, -1);
      break;
    case 'attach':
      severity = highest(base, attachedRisk(record)?.severity);
      break;
    case 'put-inline':
    case 'create-policy':
    case 'create-version': {
      const doc = documentOf(record);
      const docSeverity = doc?.severity && notInForce(record) ? shift(doc.severity, -1) : doc?.severity;
      severity = highest(base, docSeverity);
      break;
    }
    default:
      break;
  }
  const grantsMore = kind === 'attach' || kind === 'put-inline' || kind === 'create-version' || kind === 'set-default' || kind === 'delete-boundary';
  return adjust(ctx, severity, grantsMore && selfChange(record, ctx) ? 1 : 0);
}

function describe(record: CloudTrailRecord): string {
  const target = policyTarget(record);
  const [type, name] = [target.slice(0, target.indexOf('/')), target.slice(target.indexOf('/') + 1)];
  const policyName = param(record, 'policyName') ?? lastSegment(param(record, 'policyArn') ?? 'unknown');
  switch (kindOf(record.eventName)) {
    case 'put-inline':
      return `Inline policy ${policyName} put on ${type} ${name}`;
    case 'delete-inline':
      return `Inline policy ${policyName} deleted from ${type} ${name}`;
    case 'attach':
      return `${policyName} attached to ${type} ${name}`;
    case 'detach':
      return `${policyName} detached from ${type} ${name}`;
    case 'create-policy':
      return `Managed policy ${policyName} created`;
    case 'delete-policy':
      return `Managed policy ${policyName} deleted`;
    case 'create-version':
      return `New version of policy ${policyName}${record.requestParameters?.setAsDefault === true ? ' (set as default)' : ''}`;
    case 'delete-version':
      return `Version ${param(record, 'versionId') ?? '?'} of policy ${policyName} deleted`;
    case 'set-default':
      return `Policy ${policyName} rolled to version ${param(record, 'versionId') ?? '?'}`;
    case 'put-boundary':
      return `Permissions boundary ${lastSegment(param(record, 'permissionsBoundary') ?? 'unknown')} set on ${type} ${name}`;
    case 'delete-boundary':
      return `Permissions boundary removed from ${type} ${name}`;
  }
}

const putPolicy = (eventName: string, target: Record<string, string>, document: unknown, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({
    eventSource: IAM,
    eventName,
    awsRegion: 'us-east-1',
    requestParameters: { ...target, policyName: 'inline-access', policyDocument: JSON.stringify(document, null, 2) },
    ...extra,
  });

const attach = (eventName: string, target: Record<string, string>, policyArn: string, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({ eventSource: IAM, eventName, awsRegion: 'us-east-1', requestParameters: { ...target, policyArn }, ...extra });

export default defineRule({
  id: 'iam-policy-change',
  title: 'IAM policy changed',
  description:
    'Every change to IAM permissions (CIS 4.4: inline and managed policies put, created, versioned, attached, ' +
    'detached, deleted; plus SetDefaultPolicyVersion and permissions boundaries). Documents in the request are ' +
    'analysed: Allow of "*" on "*" is critical, NotAction with Allow, privilege-escalation actions, s3:PutObject ' +
    'without an encryption condition, missing conditions on user policies and hard-coded Availability Zones raise ' +
    'the severity to the worst finding. Attaching AdministratorAccess (or another admin-equivalent managed policy) ' +
    'is high; granting oneself more is one level higher; removals are one level lower, except removing a ' +
    'permissions boundary, which is higher. Trust policies have their own rule (iam-trust-policy-change).',
  severity: 'medium',
  categories: ['iam-policy-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-4',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.iam-create-admin-user/',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_iam_policy_modified.yml',
    'https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/',
  ],
  falsePositives: [
    'Deployments through infrastructure as code (allow-list the deployment role, or CloudFormation via allowAwsServices).',
    'Administrators granting access through a reviewed change (the severity says how much was granted).',
  ],
  runbook:
    '1. Read the alert context: target, policy, findings of the document. ' +
    '2. Ask the caller whether the change was planned and reviewed. ' +
    '3. If not: revert it (detach / delete the inline policy / set the previous default version), and review what ' +
    'the target principal did since firstSeen; treat the caller as compromised.',
  events: [{ source: IAM, names: EVENTS }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return severityOf(record, ctx, base);
  },

  alertTitle(record, ctx) {
    const doc = documentOf(record);
    const worst = doc ? worstFinding(doc.findings) : undefined;
    const risk = attachedRisk(record);
    const why = worst && worst.severity !== 'info' && worst.severity !== 'low' ? `: ${worst.message}` : risk ? `: ${risk.reason}` : '';
    const self = selfChange(record, ctx) ? ' (on itself)' : '';
    return attempt(ctx, `${describe(record)} by ${ctx.actor.display}${self}${viaService(record)}${why}`);
  },

  // Per caller and changed principal/policy: several statements or policies given to one user in one go are one
  // incident; the same caller changing another role is another.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${policyTarget(record)}`;
  },

  alertContext(record, ctx) {
    const doc = documentOf(record);
    const risk = attachedRisk(record);
    return {
      target: policyTarget(record),
      ...(param(record, 'policyArn') ? { policyArn: param(record, 'policyArn') } : {}),
      ...(param(record, 'policyName') ? { policyName: param(record, 'policyName') } : {}),
      ...(param(record, 'permissionsBoundary') ? { permissionsBoundary: param(record, 'permissionsBoundary') } : {}),
      ...(risk ? { managedPolicyRisk: risk } : {}),
      ...(doc ? { findings: findingFacts(doc.findings), ...(doc.error ? { documentError: doc.error } : {}) } : {}),
      ...(notInForce(record) ? { inForce: false } : {}),
      selfChange: selfChange(record, ctx),
    };
  },

  examples: {
    match: [
      {
        name: 'AdministratorAccess attached to a new user (Stratus iam-create-admin-user)',
        record: attach('AttachUserPolicy', { userName: 'malicious-iam-user' }, 'arn:aws:iam::aws:policy/AdministratorAccess'),
        expect: {
          severity: 'high',
          title: 'AdministratorAccess attached to user malicious-iam-user',
          dedupKey: 'arn:aws:iam::111122223333:user/alice|user/malicious-iam-user',
        },
      },
      {
        name: 'an inline Allow of * on * is critical',
        record: putPolicy('PutRolePolicy', { roleName: 'app' }, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }),
        expect: { severity: 'critical', title: 'Allow of "*" on "*"' },
      },
      {
        name: 'an Allow with NotAction on every resource is high',
        record: putPolicy('PutGroupPolicy', { groupName: 'developers' }, {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', NotAction: ['iam:*', 'organizations:*'], Resource: '*' }],
        }),
        expect: { severity: 'high', title: 'NotAction' },
      },
      {
        name: 'a user granting itself a policy is one level higher',
        record: attach('AttachUserPolicy', { userName: 'alice' }, 'arn:aws:iam::111122223333:policy/ReadBilling'),
        expect: { severity: 'high', title: '(on itself)' },
      },
      {
        name: 'a role session attaching PowerUserAccess to its own role',
        record: attach('AttachRolePolicy', { roleName: 'ci-runner' }, 'arn:aws:iam::aws:policy/PowerUserAccess', {
          userIdentity: identities.assumedRole('ci-runner', 'build-17'),
        }),
        expect: { severity: 'critical' },
      },
      {
        name: 'a scoped managed policy version set as default (medium: the CIS baseline)',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'CreatePolicyVersion',
          awsRegion: 'us-east-1',
          requestParameters: {
            policyArn: 'arn:aws:iam::111122223333:policy/ReadReports',
            setAsDefault: true,
            policyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports-bucket/*' }],
            }),
          },
        }),
        expect: { severity: 'medium', title: 'set as default' },
      },
      {
        name: 'removing a permissions boundary is high',
        record: exampleRecord({ eventSource: IAM, eventName: 'DeleteRolePermissionsBoundary', awsRegion: 'us-east-1', requestParameters: { roleName: 'app' } }),
        expect: { severity: 'high', title: 'Permissions boundary removed from role app' },
      },
      {
        name: 'a denied detach is informational (removal, and nothing changed)',
        record: attach('DetachRolePolicy', { roleName: 'audit' }, 'arn:aws:iam::aws:policy/SecurityAudit', {
          errorCode: 'AccessDenied',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:DetachRolePolicy',
        }),
        expect: { severity: 'info', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'reading a policy',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'GetPolicyVersion',
          readOnly: true,
          requestParameters: { policyArn: 'arn:aws:iam::111122223333:policy/ReadReports', versionId: 'v2' },
        }),
      },
      {
        name: 'CloudFormation deploying a stack, CloudFormation allow-listed',
        config: { rules: { 'iam-policy-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: attach('AttachRolePolicy', { roleName: 'app-function' }, 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole', {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userAgent: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'the Terraform role allow-listed by principal',
        config: { rules: { 'iam-policy-change': { allow: { principals: ['arn:aws:iam::111122223333:role/terraform-apply'] } } } },
        record: attach('AttachRolePolicy', { roleName: 'app' }, 'arn:aws:iam::111122223333:policy/app-access', {
          userIdentity: identities.assumedRole('terraform-apply', 'tf-run-9'),
        }),
      },
      {
        name: 'the trust policy (its own rule)',
        record: exampleRecord({
          eventSource: IAM,
          eventName: 'UpdateAssumeRolePolicy',
          requestParameters: { roleName: 'app', policyDocument: '{"Version":"2012-10-17","Statement":[]}' },
        }),
      },
    ],
  },
});
