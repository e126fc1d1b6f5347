import { beforeAll, describe, expect, it } from 'vitest';
import { type CfnResource, type CfnTemplate, packagedTemplate } from '../../support/template';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

describe('ipSpaceChanged in the packaged CloudFormation template', () => {
  let t: CfnTemplate;
  const res = (id: string): CfnResource => {
    const r = t.Resources[id];
    if (!r) throw new Error(`resource ${id} missing`);
    return r;
  };
  beforeAll(async () => {
    t = await packagedTemplate();
  }, 300_000);

  it('subscribes the function to AWS\'s AmazonIpSpaceChanged topic in us-east-1, and lets only that topic invoke it', () => {
    expect(res('IpSpaceChangedSnsSubscriptionAmazonIpSpaceChanged').Properties).toEqual({
      TopicArn: 'arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged',
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': ['IpSpaceChangedLambdaFunction', 'Arn'] },
      Region: 'us-east-1',
    });
    expect(res('IpSpaceChangedLambdaPermissionAmazonIpSpaceChangedSNS').Properties).toMatchObject({
      Principal: 'sns.amazonaws.com',
      SourceArn: 'arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged',
    });
  });

  it('runs an hourly backstop check', () => {
    expect(res('IpSpaceChangedEventsRuleSchedule1').Properties).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['IpSpaceChangedLambdaFunction', 'Arn'] } }],
    });
  });

  it('retries twice and then sends the event to an encrypted failure queue with an alarm', () => {
    expect(res('IpSpaceChangedLambdaEvConf').Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['IpSpaceChangedFailures', 'Arn'] } } },
    });
    expect(res('IpSpaceChangedFailures').Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    expect(res('IpSpaceChangedFailuresAlarm').Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      AlarmActions: [{ Ref: 'AlertsTopic' }],
    });
  });

  it('gives the function the bucket name, its runtime and its own role', () => {
    const fn = res('IpSpaceChangedLambdaFunction').Properties as { Environment: { Variables: Record<string, unknown> }; Role: unknown };
    expect(fn.Environment.Variables).toMatchObject({
      IP_RANGES_BUCKET: { Ref: 'IpRangesBucket' },
      ALERTS_TOPIC_ARN: { Ref: 'AlertsTopic' },
      STATE_TABLE_NAME: { Ref: 'StateTable' },
    });
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'functions/ip-space-changed/handler.handler' });
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['IpSpaceChangedIamRoleLambdaExecution', 'Arn'] });
  });

  it('keeps the snapshot bucket private, encrypted, versioned and TLS-only', () => {
    const bucket = res('IpRangesBucket');
    expect(bucket.Type).toBe('AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const policy = res('IpRangesBucketPolicy').Properties as { Bucket: unknown; PolicyDocument: { Statement: Statement[] } };
    expect(policy.Bucket).toEqual({ Ref: 'IpRangesBucket' });
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(t.Outputs).toHaveProperty('IpRangesBucketName');
  });

  it('grants least privilege: exactly these actions on these resources, nothing on "*"', () => {
    const role = res('IpSpaceChangedIamRoleLambdaExecution').Properties as { Policies: { PolicyDocument: { Statement: Statement[] } }[]; ManagedPolicyArns: unknown[] };
    expect(role.ManagedPolicyArns).toEqual([]);
    const statements = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(JSON.stringify(s.Resource)).not.toMatch(/^"\*"$|"\*"/);
      expect([s.Action].flat().some((a) => a.endsWith(':*') || a === '*')).toBe(false);
    }
    // Publishing to the alerts topic may need its KMS key (when alerts.yml encrypts it with the stack's own key):
    // then only through SNS, only that key.
    const isKms = (s: Statement) => [s.Action].flat().every((a) => a.startsWith('kms:'));
    for (const s of statements.filter(isKms)) {
      expect([s.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(s.Resource).toEqual({ 'Fn::GetAtt': ['AlertsTopicKey', 'Arn'] });
      expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } });
    }
    const grants = statements
      .filter((s) => ![s.Action].flat().some((a) => a.startsWith('logs:')) && !isKms(s))
      .map((s) => ({ actions: [s.Action].flat().sort(), resource: s.Resource, condition: s.Condition }));
    expect(grants).toEqual([
      { actions: ['s3:GetObject', 's3:PutObject'], resource: { 'Fn::Sub': '${IpRangesBucket.Arn}/ip-ranges/*' }, condition: undefined },
      { actions: ['s3:ListBucket'], resource: { 'Fn::GetAtt': ['IpRangesBucket', 'Arn'] }, condition: undefined },
      { actions: ['sns:Publish'], resource: { Ref: 'AlertsTopic' }, condition: undefined },
      {
        actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ip-space-alert#*'] } },
      },
      { actions: ['ssm:GetParameter'], resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/vigil/test/config' }, condition: undefined },
      { actions: ['sqs:SendMessage'], resource: { 'Fn::GetAtt': ['IpSpaceChangedFailures', 'Arn'] }, condition: undefined },
    ]);
  });
});
