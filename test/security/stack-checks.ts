import type { CfnResource, CfnTemplate, StackParams } from '../support/template';

/**
 * The security properties of vigil's deployed stack (issue 8, docs/security.md "The deployed stack"), as checks over
 * a packaged CloudFormation template. Each check returns the problems it found, one line per problem, starting with
 * the logical id of the resource at fault — so a change that loosens a bucket, a queue, a function or a role fails
 * CI with the resource named. The checks look at every resource of a kind, not at a list of known names.
 *
 * A template is first reduced to what one deploy mode deploys (`deployed()`): resources whose Condition is false are
 * dropped and every `Fn::If` takes its branch, so "every bucket" means the buckets that mode creates.
 */

/** A deploy mode of the stack: the stage params given to `serverless package`, and what they must produce. */
export interface DeployMode {
  name: string;
  params: StackParams;
  /** The stack creates the CloudTrail bucket (and, here, the trail). */
  createsTrail: boolean;
  organizationId?: string;
  kmsKeyArn?: string;
  cloudTrailRetentionDays: number;
  logRetentionDays: number;
}

const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const LOG_ARCHIVE_KMS_KEY = 'arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The existing-bucket mode (an organization's log archive in another account); test/functions/cloudtrail-ingest too. */
export const EXISTING_BUCKET_PARAMS: StackParams = {
  cloudTrailBucket: 'org-trail-logs',
  cloudTrailBucketAccount: '210987654321',
  cloudTrailKmsKeyArn: LOG_ARCHIVE_KMS_KEY,
};

export const DEPLOY_MODES: DeployMode[] = [
  { name: 'default (new bucket and trail)', params: {}, createsTrail: true, cloudTrailRetentionDays: 365, logRetentionDays: 90 },
  {
    name: 'organization trail with SSE-KMS logs',
    // Every optional key and retention param set, so the conditional policies are checked too.
    params: {
      cloudTrailOrganizationId: 'o-a1b2c3d4e5',
      cloudTrailKmsKeyArn: KMS_KEY,
      cloudTrailRetentionDays: '400',
      logRetentionDays: '30',
      slackSecretKmsKeyArn: KMS_KEY,
    },
    createsTrail: true,
    organizationId: 'o-a1b2c3d4e5',
    kmsKeyArn: KMS_KEY,
    cloudTrailRetentionDays: 400,
    logRetentionDays: 30,
  },
  {
    name: 'existing bucket in another account',
    params: EXISTING_BUCKET_PARAMS,
    createsTrail: false,
    kmsKeyArn: LOG_ARCHIVE_KMS_KEY,
    cloudTrailRetentionDays: 365,
    logRetentionDays: 90,
  },
];

/**
 * The actions AWS authorizes only on `Resource: "*"` (no resource-level permissions) that vigil's roles need, with
 * the reason each is needed. Any other action on "*" is a problem. Each is also accepted, with the same reason, by a
 * `vigil policy lint` suppression next to the statement, and listed in docs/security.md.
 */
export const STAR_ONLY_ACTIONS: Readonly<Record<string, string>> = {
  'ec2:DescribeInstances': 'migration: find the instance, its AZ and its volumes',
  'ec2:DescribeVolumes': 'migration: the old and new volumes, their state and attachments',
  'ec2:DescribeSnapshots': 'migration: wait for the pre-migration snapshot',
  'ec2:DescribeVolumesModifications': 'migration: progress of an in-place volume modification',
  'ssm:DescribeInstanceInformation': 'migration: the SSM agent of the instance is online',
  'ssm:GetCommandInvocation': 'migration: output and status of the Run Command it sent',
  'logs:CreateLogDelivery': 'Step Functions execution logs (vended log delivery)',
  'logs:GetLogDelivery': 'Step Functions execution logs (vended log delivery)',
  'logs:UpdateLogDelivery': 'Step Functions execution logs (vended log delivery)',
  'logs:DeleteLogDelivery': 'Step Functions execution logs (vended log delivery)',
  'logs:ListLogDeliveries': 'Step Functions execution logs (vended log delivery)',
  'logs:PutResourcePolicy': 'Step Functions execution logs (log group resource policy for the delivery)',
  'logs:DescribeResourcePolicies': 'Step Functions execution logs (log group resource policy for the delivery)',
  'logs:DescribeLogGroups': 'Step Functions execution logs (the destination log group)',
  'xray:PutTraceSegments': 'Step Functions X-Ray tracing',
  'xray:PutTelemetryRecords': 'Step Functions X-Ray tracing',
  'xray:GetSamplingRules': 'Step Functions X-Ray tracing',
  'xray:GetSamplingTargets': 'Step Functions X-Ray tracing',
  'ssmmessages:CreateControlChannel': 'instance policy: the SSM agent command channel',
  'ssmmessages:CreateDataChannel': 'instance policy: the SSM agent command channel',
  'ssmmessages:OpenControlChannel': 'instance policy: the SSM agent command channel',
  'ssmmessages:OpenDataChannel': 'instance policy: the SSM agent command channel',
  'ec2messages:AcknowledgeMessage': 'instance policy: the SSM agent message channel',
  'ec2messages:DeleteMessage': 'instance policy: the SSM agent message channel',
  'ec2messages:FailMessage': 'instance policy: the SSM agent message channel',
  'ec2messages:GetEndpoint': 'instance policy: the SSM agent message channel',
  'ec2messages:GetMessages': 'instance policy: the SSM agent message channel',
  'ec2messages:SendReply': 'instance policy: the SSM agent message channel',
};

// ---------------------------------------------------------------------------------------------------------------
// Reading a template

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = <T = unknown>(v: unknown): T[] => (v === undefined ? [] : Array.isArray(v) ? (v as T[]) : [v as T]);
const props = (r: CfnResource): Obj => r.Properties ?? {};
const get = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), v);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const show = (v: unknown): string => JSON.stringify(v);

const NO_VALUE = Symbol('AWS::NoValue');

function literal(v: unknown, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${where}: condition operand is not a literal after packaging: ${show(v)}`);
}

function evaluateConditions(t: CfnTemplate): Map<string, boolean> {
  const defs = (t.Conditions ?? {}) as Obj;
  const values = new Map<string, boolean>();
  const evaluate = (expr: unknown, where: string): boolean => {
    if (!isObj(expr)) throw new Error(`${where}: unexpected condition ${show(expr)}`);
    const [[fn, arg]] = Object.entries(expr) as [[string, unknown]];
    const args = list(arg);
    switch (fn) {
      case 'Fn::Equals':
        return literal(args[0], where) === literal(args[1], where);
      case 'Fn::Not':
        return !evaluate(args[0], where);
      case 'Fn::And':
        return args.every((a) => evaluate(a, where));
      case 'Fn::Or':
        return args.some((a) => evaluate(a, where));
      case 'Condition':
        return named(String(arg));
      default:
        throw new Error(`${where}: unsupported condition function ${fn}`);
    }
  };
  const named = (name: string): boolean => {
    const known = values.get(name);
    if (known !== undefined) return known;
    if (!(name in defs)) throw new Error(`unknown condition ${name}`);
    const value = evaluate(defs[name], `Conditions.${name}`);
    values.set(name, value);
    return value;
  };
  for (const name of Object.keys(defs)) named(name);
  return values;
}

function resolveIfs(value: unknown, conditions: Map<string, boolean>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIfs(v, conditions)).filter((v) => v !== NO_VALUE);
  if (!isObj(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Ref' && value.Ref === 'AWS::NoValue') return NO_VALUE;
  if (keys.length === 1 && keys[0] === 'Fn::If') {
    const [name, yes, no] = value['Fn::If'] as [string, unknown, unknown];
    const chosen = conditions.get(name);
    if (chosen === undefined) throw new Error(`Fn::If on unknown condition ${name}`);
    return resolveIfs(chosen ? yes : no, conditions);
  }
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    const r = resolveIfs(v, conditions);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

/** What one deploy mode deploys: inactive resources and outputs dropped, every `Fn::If` resolved. */
export function deployed(t: CfnTemplate): CfnTemplate {
  const conditions = evaluateConditions(t);
  const active = (r: { Condition?: unknown }): boolean => r.Condition === undefined || conditions.get(String(r.Condition)) === true;
  const resources = Object.fromEntries(
    Object.entries(t.Resources)
      .filter(([, r]) => active(r))
      .map(([id, r]) => [id, resolveIfs(r, conditions) as CfnResource]),
  );
  const outputs = Object.fromEntries(
    Object.entries(t.Outputs ?? {})
      .filter(([, o]) => active(o as { Condition?: unknown }))
      .map(([id, o]) => [id, resolveIfs(o, conditions)]),
  );
  return { ...t, Resources: resources, Outputs: outputs };
}

const ofType = (t: CfnTemplate, type: string): [string, CfnResource][] => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

/** The logical id a `Ref`/`Fn::GetAtt` points at. */
function refId(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v.Ref === 'string') return v.Ref;
  const att = v['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  if (typeof att === 'string') return att.split('.')[0];
  return undefined;
}

/** A `Fn::Sub` (or plain string) as text, with the literal values of its variable map put in. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  const sub = get(v, 'Fn::Sub');
  if (typeof sub === 'string') return sub;
  if (Array.isArray(sub) && typeof sub[0] === 'string') {
    const vars = isObj(sub[1]) ? sub[1] : {};
    return sub[0].replace(/\$\{([^}!]+)\}/g, (m, name: string) => (typeof vars[name] === 'string' ? (vars[name] as string) : m));
  }
  return show(v);
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Obj;
}

const statementsOf = (doc: unknown): Statement[] => list<Statement>(get(doc, 'Statement'));
const actionsOf = (s: Statement): string[] => list<string>(s.Action);
const label = (s: Statement, i: number): string => `Statement[${i}]${s.Sid ? ` (${s.Sid})` : ''}`;
const conditionValue = (s: Statement, key: string): unknown[] =>
  Object.values(s.Condition ?? {}).flatMap((operator) => (isObj(operator) && key in operator ? [operator[key]] : []));

// ---------------------------------------------------------------------------------------------------------------
// Buckets

const bucketPolicies = (t: CfnTemplate, bucketId: string): [string, CfnResource][] =>
  ofType(t, 'AWS::S3::BucketPolicy').filter(([, p]) => refId(props(p).Bucket) === bucketId);

const admitsCloudTrail = (t: CfnTemplate, bucketId: string): boolean =>
  bucketPolicies(t, bucketId).some(([, p]) => show(props(p).PolicyDocument).includes('cloudtrail.amazonaws.com')) ||
  ofType(t, 'AWS::CloudTrail::Trail').some(([, trail]) => refId(props(trail).S3BucketName) === bucketId);

/** Every bucket: public access blocked, encrypted, ACLs off, TLS-only; the log bucket versioned with expiring logs. */
export function checkBuckets(t: CfnTemplate, mode: DeployMode): string[] {
  const problems: string[] = [];
  for (const [id, bucket] of ofType(t, 'AWS::S3::Bucket')) {
    const p = props(bucket);
    const pab = (p.PublicAccessBlockConfiguration ?? {}) as Obj;
    for (const flag of ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets']) {
      if (pab[flag] !== true) problems.push(`${id}: public access not fully blocked (PublicAccessBlockConfiguration.${flag} is ${show(pab[flag])})`);
    }
    const rules = list<Obj>(get(p, 'BucketEncryption', 'ServerSideEncryptionConfiguration'));
    if (rules.length === 0) problems.push(`${id}: no default encryption (BucketEncryption)`);
    for (const rule of rules) {
      const algorithm = get(rule, 'ServerSideEncryptionByDefault', 'SSEAlgorithm');
      if (!['AES256', 'aws:kms', 'aws:kms:dsse'].includes(String(algorithm))) problems.push(`${id}: unknown encryption ${show(algorithm)}`);
      if (String(algorithm).startsWith('aws:kms') && !get(rule, 'ServerSideEncryptionByDefault', 'KMSMasterKeyID')) {
        problems.push(`${id}: SSE-KMS without a key of ours (KMSMasterKeyID)`);
      }
    }
    if (!same(get(p, 'OwnershipControls', 'Rules'), [{ ObjectOwnership: 'BucketOwnerEnforced' }])) {
      problems.push(`${id}: ACLs not disabled (OwnershipControls ObjectOwnership must be BucketOwnerEnforced)`);
    }
    const tlsDeny = bucketPolicies(t, id)
      .flatMap(([, policy]) => statementsOf(props(policy).PolicyDocument))
      .some(
        (s) =>
          s.Effect === 'Deny' &&
          (s.Principal === '*' || same(s.Principal, { AWS: '*' })) &&
          actionsOf(s).includes('s3:*') &&
          list(s.Resource).length >= 2 &&
          list(s.Resource).some((r) => text(r).endsWith('/*') || show(r).includes('"/*"')) &&
          ['false', false].includes(get(s.Condition, 'Bool', 'aws:SecureTransport') as string | boolean),
      );
    if (!tlsDeny) problems.push(`${id}: no bucket policy statement denying s3:* on the bucket and its objects when aws:SecureTransport is false`);

    const lifecycle = list<Obj>(get(p, 'LifecycleConfiguration', 'Rules')).filter((r) => r.Status === 'Enabled');
    const versioned = get(p, 'VersioningConfiguration', 'Status') === 'Enabled';
    if (versioned && !lifecycle.some((r) => r.NoncurrentVersionExpiration !== undefined)) {
      problems.push(`${id}: versioned, but old versions never expire (no NoncurrentVersionExpiration rule)`);
    }

    if (admitsCloudTrail(t, id)) {
      if (!versioned) problems.push(`${id}: CloudTrail log bucket without versioning`);
      const expiry = lifecycle.filter((r) => r.ExpirationInDays !== undefined && r.Prefix === undefined && r.Filter === undefined);
      if (expiry.length !== 1 || Number(expiry[0]!.ExpirationInDays) !== mode.cloudTrailRetentionDays) {
        problems.push(`${id}: CloudTrail logs must expire after cloudTrailRetentionDays=${mode.cloudTrailRetentionDays} (whole-bucket rule), found ${show(expiry)}`);
      }
      if (bucket.DeletionPolicy !== 'Retain') problems.push(`${id}: audit logs must outlive the stack (DeletionPolicy: Retain)`);
      if (mode.kmsKeyArn !== undefined && !same(rules.map((r) => get(r, 'ServerSideEncryptionByDefault')), [{ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: mode.kmsKeyArn }])) {
        problems.push(`${id}: cloudTrailKmsKeyArn given but the bucket does not encrypt with it`);
      }
    }
  }
  return problems;
}

/**
 * The bucket policy of every CloudTrail log bucket of the stack: the cloudtrail.amazonaws.com service principal only,
 * source conditions, s3:GetBucketAcl on the bucket, s3:PutObject on AWSLogs/<account or organization>/* with the
 * bucket-owner-full-control ACL; and the trail itself.
 */
export function checkCloudTrail(t: CfnTemplate, mode: DeployMode): string[] {
  const problems: string[] = [];
  const logBuckets = ofType(t, 'AWS::S3::Bucket').filter(([id]) => admitsCloudTrail(t, id));
  const trails = ofType(t, 'AWS::CloudTrail::Trail');
  if (!mode.createsTrail) {
    if (logBuckets.length > 0 || trails.length > 0) problems.push(`existing-bucket mode must create no log bucket or trail, found ${[...logBuckets, ...trails].map(([id]) => id).join(', ')}`);
    return problems;
  }
  if (logBuckets.length !== 1) problems.push(`expected one CloudTrail log bucket, found ${logBuckets.map(([id]) => id).join(', ') || 'none'}`);
  if (trails.length !== 1) problems.push(`expected one trail, found ${trails.map(([id]) => id).join(', ') || 'none'}`);

  for (const [trailId, trail] of trails) {
    const p = props(trail);
    const expected: Obj = { IsLogging: true, IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, EnableLogFileValidation: true, IsOrganizationTrail: mode.organizationId !== undefined };
    for (const [key, value] of Object.entries(expected)) if (p[key] !== value) problems.push(`${trailId}: ${key} must be ${show(value)}, is ${show(p[key])}`);
    if (mode.kmsKeyArn !== undefined && p.KMSKeyId !== mode.kmsKeyArn) problems.push(`${trailId}: KMSKeyId must be the cloudTrailKmsKeyArn key`);
    const bucketId = refId(p.S3BucketName);
    if (!bucketId || !logBuckets.some(([id]) => id === bucketId)) problems.push(`${trailId}: does not write to the stack's log bucket`);
    const policyIds = bucketId ? bucketPolicies(t, bucketId).map(([id]) => id) : [];
    if (!policyIds.every((id) => list(trail.DependsOn).includes(id))) problems.push(`${trailId}: must depend on the bucket policy (${policyIds.join(', ')}), or CloudTrail's bucket check fails`);
  }

  const trailArns = trails.map(([, trail]) => `arn:\${AWS::Partition}:cloudtrail:\${AWS::Region}:\${AWS::AccountId}:trail/${String(props(trail).TrailName)}`);
  for (const [bucketId] of logBuckets) {
    const expectedPrefixes = ['${AWS::AccountId}', ...(mode.organizationId ? [mode.organizationId] : [])];
    const seenPrefixes: string[] = [];
    let aclCheck = false;
    for (const [policyId, policy] of bucketPolicies(t, bucketId)) {
      statementsOf(props(policy).PolicyDocument).forEach((s, i) => {
        const where = `${policyId} ${label(s, i)}`;
        if (s.Effect !== 'Allow') return;
        if (s.NotAction !== undefined || s.NotResource !== undefined || get(s, 'NotPrincipal') !== undefined) problems.push(`${where}: NotAction/NotResource/NotPrincipal in an Allow`);
        if (!same(s.Principal, { Service: 'cloudtrail.amazonaws.com' }) && !same(s.Principal, { Service: ['cloudtrail.amazonaws.com'] })) {
          problems.push(`${where}: only the cloudtrail.amazonaws.com service principal may be allowed, found ${show(s.Principal)}`);
        }
        const sourceAccount = conditionValue(s, 'aws:SourceAccount');
        const sourceArn = conditionValue(s, 'aws:SourceArn');
        if (!same(sourceAccount, [{ Ref: 'AWS::AccountId' }])) problems.push(`${where}: needs StringEquals aws:SourceAccount = the stack's account, found ${show(sourceAccount)}`);
        if (trailArns.length > 0 && !same(sourceArn.map(text), trailArns)) problems.push(`${where}: needs aws:SourceArn = the stack's trail ${trailArns.join(', ')}, found ${show(sourceArn)}`);
        const actions = actionsOf(s);
        if (same(actions, ['s3:GetBucketAcl'])) {
          aclCheck = true;
          if (refId(s.Resource) !== bucketId || text(s.Resource).includes('/')) problems.push(`${where}: s3:GetBucketAcl must be on the bucket itself`);
        } else if (same(actions, ['s3:PutObject'])) {
          const resource = text(s.Resource);
          const m = new RegExp(`^\\$\\{${bucketId}\\.Arn\\}/AWSLogs/([^/*]+)/\\*$`).exec(resource);
          if (!m) problems.push(`${where}: s3:PutObject must be on <bucket>/AWSLogs/<account or organization id>/*, is ${resource}`);
          else seenPrefixes.push(m[1]!);
          if (get(s.Condition, 'StringEquals', 's3:x-amz-acl') !== 'bucket-owner-full-control') problems.push(`${where}: s3:PutObject without StringEquals s3:x-amz-acl = bucket-owner-full-control`);
        } else {
          problems.push(`${where}: CloudTrail needs only s3:GetBucketAcl and s3:PutObject, found ${show(actions)}`);
        }
      });
    }
    if (!aclCheck) problems.push(`${bucketId}: no s3:GetBucketAcl statement for CloudTrail`);
    if (!same([...seenPrefixes].sort(), [...expectedPrefixes].sort())) problems.push(`${bucketId}: CloudTrail may write under AWSLogs/${show(seenPrefixes)}, expected ${show(expectedPrefixes)}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Queues, alarms and the alerts topic

/** Queues that receive what something else failed to process: redrive targets, Lambda failure destinations, DLQs. */
function deadLetterQueues(t: CfnTemplate): Map<string, string> {
  const dlqs = new Map<string, string>();
  for (const [id, r] of Object.entries(t.Resources)) {
    const targets = [
      get(props(r), 'RedrivePolicy', 'deadLetterTargetArn'),
      get(props(r), 'DestinationConfig', 'OnFailure', 'Destination'),
      get(props(r), 'DeadLetterConfig', 'TargetArn'),
    ];
    for (const target of targets) {
      const queue = refId(target);
      if (queue && t.Resources[queue]?.Type === 'AWS::SQS::Queue') dlqs.set(queue, id);
    }
  }
  return dlqs;
}

/** The stack's own alarms may notify the topic: the name pattern in the topic's key and topic policies. */
function alarmNamePrefixes(t: CfnTemplate, topicId: string): string[] {
  const keyId = refId(props(t.Resources[topicId]!).KmsMasterKeyId);
  const docs = [
    ...(keyId ? [props(t.Resources[keyId]!).KeyPolicy] : []),
    ...ofType(t, 'AWS::SNS::TopicPolicy')
      .filter(([, p]) => list(props(p).Topics).some((x) => refId(x) === topicId))
      .map(([, p]) => props(p).PolicyDocument),
  ];
  return docs.flatMap((doc) =>
    statementsOf(doc)
      .filter((s) => show(s.Principal).includes('cloudwatch.amazonaws.com'))
      .flatMap((s) => conditionValue(s, 'aws:SourceArn').map((v) => /:alarm:([^*]*)\*$/.exec(text(v))?.[1] ?? '(unparsed)')),
  );
}

/** Every queue has a DLQ; every DLQ has a depth alarm notifying the alerts topic; every queue is encrypted. */
export function checkQueues(t: CfnTemplate): string[] {
  const problems: string[] = [];
  const dlqs = deadLetterQueues(t);
  const topicIds = ofType(t, 'AWS::SNS::Topic').map(([id]) => id);
  for (const [id, queue] of ofType(t, 'AWS::SQS::Queue')) {
    const p = props(queue);
    if (p.SqsManagedSseEnabled !== true && p.KmsMasterKeyId === undefined) problems.push(`${id}: not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)`);
    if (!dlqs.has(id)) {
      const dlq = refId(get(p, 'RedrivePolicy', 'deadLetterTargetArn'));
      if (!dlq) problems.push(`${id}: no dead-letter queue (RedrivePolicy.deadLetterTargetArn)`);
      else if (!(Number(get(p, 'RedrivePolicy', 'maxReceiveCount')) >= 1)) problems.push(`${id}: RedrivePolicy without maxReceiveCount`);
      continue;
    }
    const alarms = ofType(t, 'AWS::CloudWatch::Alarm').filter(([, a]) => {
      const ap = props(a);
      const greaterThanZero =
        (ap.ComparisonOperator === 'GreaterThanThreshold' && Number(ap.Threshold) >= 0 && Number(ap.Threshold) < 1) ||
        (ap.ComparisonOperator === 'GreaterThanOrEqualToThreshold' && Number(ap.Threshold) > 0 && Number(ap.Threshold) <= 1);
      return (
        ap.Namespace === 'AWS/SQS' &&
        ap.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        same(ap.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }]) &&
        ap.Statistic === 'Maximum' &&
        greaterThanZero &&
        ap.ActionsEnabled !== false &&
        list(ap.AlarmActions).some((action) => topicIds.includes(refId(action) ?? ''))
      );
    });
    if (alarms.length === 0) {
      problems.push(
        `${id}: dead-letter queue of ${dlqs.get(id)} without an alarm on ApproximateNumberOfMessagesVisible > 0 (Maximum) whose AlarmActions notify the alerts topic`,
      );
    }
  }
  for (const [alarmId, alarm] of ofType(t, 'AWS::CloudWatch::Alarm')) {
    for (const action of list(props(alarm).AlarmActions)) {
      const topicId = refId(action);
      if (!topicId || !topicIds.includes(topicId)) continue;
      const name = props(alarm).AlarmName;
      const prefixes = alarmNamePrefixes(t, topicId);
      if (typeof name !== 'string' || prefixes.length === 0 || !prefixes.every((prefix) => name.startsWith(prefix))) {
        problems.push(`${alarmId}: AlarmName ${show(name)} is not admitted by ${topicId}'s key and topic policies (alarm:${prefixes.join('|')}*): its notifications would be refused`);
      }
    }
  }
  return problems;
}

/** Every topic: encrypted with a customer managed key of the stack that CloudWatch alarms and every publisher may use. */
export function checkTopics(t: CfnTemplate): string[] {
  const problems: string[] = [];
  const grants = identityStatements(t);
  for (const [id, topic] of ofType(t, 'AWS::SNS::Topic')) {
    const keyId = refId(props(topic).KmsMasterKeyId);
    const key = keyId ? t.Resources[keyId] : undefined;
    if (!keyId || key?.Type !== 'AWS::KMS::Key') {
      problems.push(`${id}: must be encrypted with a customer managed key of the stack (KmsMasterKeyId ${show(props(topic).KmsMasterKeyId)}); CloudWatch alarms cannot use an AWS managed key`);
      continue;
    }
    if (props(key).EnableKeyRotation !== true) problems.push(`${keyId}: key rotation off`);
    const cloudWatch = statementsOf(props(key).KeyPolicy).filter((s) => s.Effect === 'Allow' && same(s.Principal, { Service: 'cloudwatch.amazonaws.com' }));
    const keyActions = cloudWatch.flatMap(actionsOf);
    if (!keyActions.includes('kms:Decrypt') || !keyActions.some((a) => a.startsWith('kms:GenerateDataKey'))) {
      problems.push(`${keyId}: the key policy must let cloudwatch.amazonaws.com use the key (kms:Decrypt, kms:GenerateDataKey*) for alarms to notify ${id}`);
    }
    if (cloudWatch.some((s) => conditionValue(s, 'aws:SourceAccount').length === 0)) problems.push(`${keyId}: the CloudWatch statement needs an aws:SourceAccount condition`);
    const topicPolicies = ofType(t, 'AWS::SNS::TopicPolicy').filter(([, p]) => list(props(p).Topics).some((x) => refId(x) === id));
    const statements = topicPolicies.flatMap(([, p]) => statementsOf(props(p).PolicyDocument));
    if (topicPolicies.length > 0 && !statements.some((s) => s.Effect === 'Allow' && same(s.Principal, { Service: 'cloudwatch.amazonaws.com' }) && actionsOf(s).includes('sns:Publish'))) {
      problems.push(`${id}: its topic policy replaces the default one and does not let cloudwatch.amazonaws.com publish`);
    }
    if (!statements.some((s) => s.Effect === 'Deny' && same(get(s.Condition, 'Bool', 'aws:SecureTransport'), 'false'))) problems.push(`${id}: no topic policy statement denying publishes without TLS`);
    // Every role that may publish must also get a data key of the topic's key, through SNS.
    for (const [roleId, roleStatements] of grants) {
      const publishes = roleStatements.some((s) => s.Effect === 'Allow' && actionsOf(s).includes('sns:Publish') && list(s.Resource).some((r) => refId(r) === id));
      if (!publishes) continue;
      const keyUse = roleStatements.filter((s) => s.Effect === 'Allow' && list(s.Resource).some((r) => refId(r) === keyId)).flatMap(actionsOf);
      if (!keyUse.includes('kms:GenerateDataKey') || !keyUse.includes('kms:Decrypt')) {
        problems.push(`${roleId}: publishes to ${id} but may not use its key ${keyId} (kms:GenerateDataKey, kms:Decrypt): every publish would fail`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Functions

/** Every function: its own role, a log group with the configured retention, a timeout, and a place for failures. */
export function checkFunctions(t: CfnTemplate, mode: DeployMode): string[] {
  const problems: string[] = [];
  if (t.Resources.IamRoleLambdaExecution) problems.push(`IamRoleLambdaExecution: the framework's shared default role is deployed; every function must have its own`);
  const functions = ofType(t, 'AWS::Lambda::Function');
  const roleUsers = new Map<string, string[]>();
  const use = (roleId: string | undefined, user: string): void => {
    if (roleId) roleUsers.set(roleId, [...(roleUsers.get(roleId) ?? []), user]);
  };
  for (const [id, fn] of functions) use(refId(props(fn).Role), id);
  for (const [id, sm] of ofType(t, 'AWS::StepFunctions::StateMachine')) use(refId(props(sm).RoleArn), id);

  for (const [id, fn] of functions) {
    const p = props(fn);
    const roleId = refId(p.Role);
    if (!roleId || t.Resources[roleId]?.Type !== 'AWS::IAM::Role') problems.push(`${id}: Role is not a role of the stack (${show(p.Role)})`);
    else if ((roleUsers.get(roleId) ?? []).length !== 1) problems.push(`${id}: shares its role ${roleId} with ${roleUsers.get(roleId)!.filter((u) => u !== id).join(', ')}`);
    else {
      const trust = statementsOf(props(t.Resources[roleId]!).AssumeRolePolicyDocument);
      if (!trust.every((s) => same(s.Principal, { Service: ['lambda.amazonaws.com'] }) || same(s.Principal, { Service: 'lambda.amazonaws.com' }))) {
        problems.push(`${roleId}: the role of ${id} must trust lambda.amazonaws.com only`);
      }
    }

    const logGroups = ofType(t, 'AWS::Logs::LogGroup').filter(([, g]) => props(g).LogGroupName === `/aws/lambda/${String(p.FunctionName)}`);
    if (logGroups.length !== 1) problems.push(`${id}: no log group /aws/lambda/${String(p.FunctionName)} in the stack (Lambda would create one that never expires)`);
    for (const [groupId, group] of logGroups) {
      if (Number(props(group).RetentionInDays) !== mode.logRetentionDays) problems.push(`${groupId}: RetentionInDays ${show(props(group).RetentionInDays)}, expected logRetentionDays=${mode.logRetentionDays}`);
      if (!list(fn.DependsOn).includes(groupId)) problems.push(`${id}: must depend on its log group ${groupId}, or a first invocation may create it without retention`);
    }

    const timeout = Number(p.Timeout);
    if (!(timeout >= 1 && timeout <= 900)) problems.push(`${id}: no explicit Timeout (1-900 s)`);
    for (const [, mapping] of ofType(t, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => refId(props(m).FunctionName) === id)) {
      const queueId = refId(props(mapping).EventSourceArn);
      const queue = queueId ? t.Resources[queueId] : undefined;
      if (queue?.Type !== 'AWS::SQS::Queue') continue;
      const visibility = Number(props(queue).VisibilityTimeout ?? 30);
      if (visibility < 6 * timeout) problems.push(`${queueId}: VisibilityTimeout ${visibility} s is less than 6x the timeout of ${id} (${timeout} s): messages would be handed out twice`);
    }

    // Asynchronous invocations (SNS, EventBridge) are retried by Lambda, then must land somewhere that alarms.
    const asyncSources = ofType(t, 'AWS::Lambda::Permission').filter(
      ([, perm]) => refId(props(perm).FunctionName) === id && ['sns.amazonaws.com', 'events.amazonaws.com', 's3.amazonaws.com'].includes(String(props(perm).Principal)),
    );
    if (asyncSources.length > 0) {
      const onFailure = ofType(t, 'AWS::Lambda::EventInvokeConfig').some(
        ([, c]) => refId(props(c).FunctionName) === id && get(props(c), 'DestinationConfig', 'OnFailure', 'Destination') !== undefined,
      );
      if (!onFailure && get(p, 'DeadLetterConfig', 'TargetArn') === undefined) problems.push(`${id}: invoked asynchronously but failed events go nowhere (destinations.onFailure or a DLQ)`);
    }
  }
  for (const [id, group] of ofType(t, 'AWS::Logs::LogGroup')) {
    if (props(group).RetentionInDays === undefined) problems.push(`${id}: log group without RetentionInDays (logs kept forever)`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// IAM

interface IdentityPolicy {
  where: string;
  roles: string[];
  document: unknown;
}

/** Every identity policy of the stack: role inline policies, AWS::IAM::Policy and AWS::IAM::ManagedPolicy. */
function identityPolicies(t: CfnTemplate): IdentityPolicy[] {
  const out: IdentityPolicy[] = [];
  for (const [id, role] of ofType(t, 'AWS::IAM::Role')) {
    list<Obj>(props(role).Policies).forEach((p, i) => out.push({ where: `${id} Policies[${i}]`, roles: [id], document: p.PolicyDocument }));
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, policy] of ofType(t, type)) {
      out.push({ where: id, roles: list(props(policy).Roles).flatMap((r) => refId(r) ?? []), document: props(policy).PolicyDocument });
    }
  }
  return out;
}

/** Role logical id → every identity statement that applies to it. */
function identityStatements(t: CfnTemplate): Map<string, Statement[]> {
  const byRole = new Map<string, Statement[]>();
  for (const policy of identityPolicies(t)) {
    for (const role of policy.roles) byRole.set(role, [...(byRole.get(role) ?? []), ...statementsOf(policy.document)]);
  }
  return byRole;
}

/** No `Action: "*"` (or any action wildcard), no `Resource: "*"` outside STAR_ONLY_ACTIONS, no managed policies. */
export function checkIam(t: CfnTemplate): string[] {
  const problems: string[] = [];
  for (const { where, document } of identityPolicies(t)) {
    if (get(document, 'Version') !== '2012-10-17') problems.push(`${where}: policy Version must be 2012-10-17`);
    statementsOf(document).forEach((s, i) => {
      const at = `${where} ${label(s, i)}`;
      if (s.Effect !== 'Allow') return;
      if (s.NotAction !== undefined) problems.push(`${at}: Allow with NotAction`);
      if (s.NotResource !== undefined) problems.push(`${at}: Allow with NotResource`);
      const actions = actionsOf(s);
      for (const action of actions) if (action.includes('*')) problems.push(`${at}: wildcard action ${show(action)}`);
      const resources = list(s.Resource);
      if (resources.includes('*')) {
        const notAllowed = actions.filter((a) => !Object.hasOwn(STAR_ONLY_ACTIONS, a));
        if (notAllowed.length > 0) problems.push(`${at}: Resource "*" for ${notAllowed.join(', ')} (only actions AWS authorizes on "*" alone may use it: STAR_ONLY_ACTIONS)`);
      }
      for (const r of resources) {
        const arn = text(r);
        if (/^arn:[^:]*:s3:::(\/|$)/.test(arn.replace('${AWS::Partition}', 'aws'))) problems.push(`${at}: S3 ARN without a bucket name (${arn})`);
      }
    });
  }
  for (const [id, role] of ofType(t, 'AWS::IAM::Role')) {
    if (list(props(role).ManagedPolicyArns).length > 0) problems.push(`${id}: managed policies attached (${show(props(role).ManagedPolicyArns)}); grant what the role needs inline`);
    for (const s of statementsOf(props(role).AssumeRolePolicyDocument)) {
      const principal = s.Principal;
      if (!isObj(principal) || Object.keys(principal).some((k) => k !== 'Service')) problems.push(`${id}: trust policy admits ${show(principal)}; only AWS service principals may assume vigil's roles`);
    }
  }
  return problems;
}

/** The actions of STAR_ONLY_ACTIONS that some statement of the template uses on "*". */
export function starActionsUsed(t: CfnTemplate): Set<string> {
  return new Set(
    identityPolicies(t)
      .flatMap(({ document }) => statementsOf(document))
      .filter((s) => s.Effect === 'Allow' && list(s.Resource).includes('*'))
      .flatMap(actionsOf),
  );
}

/** All checks, for one deploy mode's template (already `deployed()`). */
export function checkStack(t: CfnTemplate, mode: DeployMode): string[] {
  return [...checkBuckets(t, mode), ...checkCloudTrail(t, mode), ...checkQueues(t), ...checkTopics(t), ...checkFunctions(t, mode), ...checkIam(t)];
}
