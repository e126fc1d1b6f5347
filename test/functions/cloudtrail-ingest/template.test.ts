import { beforeAll, describe, expect, it } from 'vitest';
import { EXISTING_BUCKET_PARAMS } from '../../security/stack-checks';
import { type CfnResource, type CfnTemplate, packagedTemplate, resourcesOfType } from '../../support/template';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function roleStatements(t: CfnTemplate, roleId: string): Statement[] {
  const role = t.Resources[roleId]!;
  const policies = (role.Properties!.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? [];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

describe('CloudTrail delivery path in the packaged template', () => {
  let t: CfnTemplate;
  const r = (id: string): CfnResource => {
    const res = t.Resources[id];
    if (!res) throw new Error(`resource ${id} missing`);
    return res;
  };
  beforeAll(async () => {
    t = await packagedTemplate();
  }, 300_000);

  it('has the queue with a bounded redrive to its dead-letter queue, encrypted, visibility ≥ 6× the timeout', () => {
    const queue = r('CloudTrailQueue').Properties!;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['CloudTrailDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 });
    expect(queue.SqsManagedSseEnabled).toBe(true);
    const fn = r('CloudtrailIngestLambdaFunction').Properties!;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (fn.Timeout as number));
    expect(r('CloudTrailDeadLetterQueue').Properties!.MessageRetentionPeriod).toBe(1209600);
    expect(r('CloudTrailDeadLetterAlarm').Properties!.AlarmActions).toEqual([{ Ref: 'AlertsTopic' }]);
  });

  it('admits only the CloudTrail bucket of the expected account to the queue', () => {
    const statements = (r('CloudTrailQueuePolicy').Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements).toHaveLength(1);
    const s = statements[0]! as Statement & { Principal: unknown };
    expect(s.Principal).toEqual({ Service: 's3.amazonaws.com' });
    expect(s.Action).toBe('sqs:SendMessage');
    expect(JSON.stringify(s.Condition!.ArnEquals)).toContain('aws:SourceArn');
    expect(JSON.stringify(s.Condition!.ArnEquals)).toContain('vigil-test-cloudtrail-${AWS::AccountId}-${AWS::Region}');
    expect(JSON.stringify(s.Condition!.StringEquals)).toContain('aws:SourceAccount');
  });

  it('maps the queue to the function with ReportBatchItemFailures', () => {
    const mappings = resourcesOfType(t, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => JSON.stringify(m.Properties!.EventSourceArn) === JSON.stringify({ 'Fn::GetAtt': ['CloudTrailQueue', 'Arn'] }),
    );
    expect(mappings).toHaveLength(1);
    const props = mappings[0]![1].Properties!;
    expect(props.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(props.FunctionName).toEqual({ 'Fn::GetAtt': ['CloudtrailIngestLambdaFunction', 'Arn'] });
    expect(props.BatchSize).toBe(10);
  });

  it('notifies the queue of new .json.gz objects of the bucket it creates (and creates bucket and trail only then)', () => {
    const bucket = r('CloudTrailBucket');
    expect(bucket.Condition).toBe('CreateCloudTrailBucket');
    expect([bucket.DependsOn].flat()).toEqual(['CloudTrailQueuePolicy']);
    expect(bucket.DeletionPolicy).toBe('Retain');
    const notification = (bucket.Properties!.NotificationConfiguration as { QueueConfigurations: unknown[] }).QueueConfigurations;
    expect(notification).toEqual([
      {
        Event: 's3:ObjectCreated:*',
        Queue: { 'Fn::GetAtt': ['CloudTrailQueue', 'Arn'] },
        Filter: { S3Key: { Rules: [{ Name: 'suffix', Value: '.json.gz' }] } },
      },
    ]);
    expect(bucket.Properties!.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true, RestrictPublicBuckets: true });
    expect(r('CloudTrailTrail')).toMatchObject({ Condition: 'CreateCloudTrail', Properties: { IsMultiRegionTrail: true, EnableLogFileValidation: true } });
    // Packaged without parameters: the new-bucket mode.
    expect(t.Conditions!.CreateCloudTrailBucket).toEqual({ 'Fn::Equals': ['', ''] });
    expect((t.Outputs!.CloudTrailBucketNotification as { Condition: string }).Condition).toBe('UseExistingCloudTrailBucket');
  });

  it('has the state table with TTL for the exactly-once records', () => {
    const table = r('StateTable').Properties!;
    expect(table.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    const env = (r('CloudtrailIngestLambdaFunction').Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.STATE_TABLE_NAME).toEqual({ Ref: 'StateTable' });
    expect(env.ALERTS_TOPIC_ARN).toEqual({ Ref: 'AlertsTopic' });
    expect(env.IP_RANGES_BUCKET).toEqual({ Ref: 'IpRangesBucket' });
    expect(env.VIGIL_CONFIG_PARAMETER).toBe('/vigil/test/config');
  });

  it('gives the function its own least-privilege role', () => {
    const fn = r('CloudtrailIngestLambdaFunction');
    expect(fn.Properties!.Role).toEqual({ 'Fn::GetAtt': ['CloudtrailIngestIamRoleLambdaExecution', 'Arn'] });
    const statements = roleStatements(t, 'CloudtrailIngestIamRoleLambdaExecution');
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const a of actionsOf(s)) expect(a, 'no wildcard actions').not.toMatch(/\*/);
      expect(JSON.stringify(s.Resource), 'no wildcard resources').not.toBe('"*"');
    }
    const byAction = (action: string) => statements.filter((s) => actionsOf(s).includes(action));
    expect(byAction('sns:Publish').map((s) => s.Resource)).toEqual([{ Ref: 'AlertsTopic' }]);
    const dynamo = byAction('dynamodb:PutItem');
    expect(dynamo).toHaveLength(1);
    expect(dynamo[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['published#*'] } });
    expect(actionsOf(dynamo[0]!).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    const reads = JSON.stringify(byAction('s3:GetObject').map((s) => s.Resource));
    expect(reads).toContain('/*AWSLogs/*');
    expect(reads).toContain('/ip-ranges/*');
    expect(byAction('s3:PutObject')).toEqual([]);
    expect(byAction('sqs:ReceiveMessage').map((s) => s.Resource)).toEqual([[{ 'Fn::GetAtt': ['CloudTrailQueue', 'Arn'] }]]);
    expect(JSON.stringify(byAction('ssm:GetParameter').map((s) => s.Resource))).toContain('parameter/vigil/test/config');
    // No other function's role grants anything on the CloudTrail queue or bucket. (The framework's default role, which
    // listed every SQS event source, is not deployed: infra/plugins/no-default-role.cjs, test/security.)
    for (const [, fn] of resourcesOfType(t, 'AWS::Lambda::Function')) {
      const roleId = (fn.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      if (roleId === 'CloudtrailIngestIamRoleLambdaExecution') continue;
      expect(JSON.stringify(roleStatements(t, roleId))).not.toMatch(/CloudTrailQueue|-cloudtrail-/);
    }
  });
});

describe('CloudTrail delivery path with an existing bucket', () => {
  it('packages with --param cloudTrailBucket: no bucket or trail created, queue policy for that bucket, notification output', async () => {
    // The same deploy mode the security tests check (shared packaging cache).
    const t = await packagedTemplate(EXISTING_BUCKET_PARAMS);
    expect(t.Conditions!.CreateCloudTrailBucket).toEqual({ 'Fn::Equals': ['org-trail-logs', ''] });
    const condition = JSON.stringify(
      (t.Resources.CloudTrailQueuePolicy!.Properties!.PolicyDocument as { Statement: Statement[] }).Statement[0]!.Condition,
    );
    expect(condition).toContain('arn:${AWS::Partition}:s3:::org-trail-logs');
    expect(condition).toContain('210987654321');
    expect(JSON.stringify(t.Outputs!.CloudTrailBucketNotification)).toContain('s3:ObjectCreated:*');
    expect(t.Resources.CloudTrailKmsDecryptPolicy).toMatchObject({
      Condition: 'HasCloudTrailKmsKey',
      Properties: { Roles: [{ Ref: 'CloudtrailIngestIamRoleLambdaExecution' }] },
    });
    const fnEnv = (t.Resources.CloudtrailIngestLambdaFunction!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(fnEnv.CLOUDTRAIL_BUCKET).toBe('org-trail-logs');
  }, 300_000);
});
