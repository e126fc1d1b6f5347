import { beforeAll, describe, expect, it } from 'vitest';
import { type CfnResource, type CfnTemplate, packagedTemplate } from '../../support/template';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('alert notifier in the packaged CloudFormation template', () => {
  let t: CfnTemplate;
  let fn: CfnResource;
  let statements: Statement[];

  beforeAll(async () => {
    t = await packagedTemplate();
    fn = t.Resources.AlertNotifierLambdaFunction as CfnResource;
    const role = t.Resources.AlertNotifierIamRoleLambdaExecution as CfnResource;
    const policies = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    statements = policies.flatMap((p) => p.PolicyDocument.Statement);
  }, 300_000);

  it('has a queue with a DLQ and a bounded redrive, both encrypted and retained 14 days', () => {
    const queue = t.Resources.AlertNotifierQueue as CfnResource;
    const dlq = t.Resources.AlertNotifierDLQ as CfnResource;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(dlq.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['AlertNotifierDLQ', 'Arn'] },
      maxReceiveCount: 30,
    });
    for (const q of [queue, dlq]) {
      expect(q.Properties?.SqsManagedSseEnabled).toBe(true);
      expect(q.Properties?.MessageRetentionPeriod).toBe(1209600);
    }
    // Visibility timeout ≥ 6 × the function timeout.
    expect(Number(queue.Properties?.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * Number(fn.Properties?.Timeout));
  });

  it('subscribes the queue to the alerts topic (no raw delivery, only vigil severities, with a redrive to the DLQ)', () => {
    const sub = t.Resources.AlertNotifierSubscription as CfnResource;
    expect(sub.Type).toBe('AWS::SNS::Subscription');
    expect(sub.Properties).toMatchObject({
      TopicArn: { Ref: 'AlertsTopic' },
      Protocol: 'sqs',
      Endpoint: { 'Fn::GetAtt': ['AlertNotifierQueue', 'Arn'] },
      RawMessageDelivery: false,
      FilterPolicyScope: 'MessageAttributes',
      FilterPolicy: { severity: ['info', 'low', 'medium', 'high', 'critical'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['AlertNotifierDLQ', 'Arn'] } },
    });
  });

  it('the queue policy admits only the alerts topic, over TLS', () => {
    const policy = t.Resources.AlertNotifierQueuePolicy as CfnResource;
    const doc = policy.Properties?.PolicyDocument as { Statement: (Statement & { Principal: unknown })[] };
    const allows = doc.Statement.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Principal: { Service: 'sns.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Condition: { ArnEquals: { 'aws:SourceArn': { Ref: 'AlertsTopic' } } },
    });
    expect(doc.Statement.find((s) => s.Effect === 'Deny')?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('the function reads batches with partial failures, at most two at a time', () => {
    const mapping = t.Resources.AlertNotifierEventSourceMappingSQSAlertNotifierQueue as CfnResource;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['AlertNotifierQueue', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('may read exactly one Slack secret parameter (by name, never its value)', () => {
    const env = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.SLACK_SECRET_PARAMETER).toBe('/vigil/test/slack');
    const ssmReads = statements.filter((s) => actions(s).some((a) => a.startsWith('ssm:')));
    expect(ssmReads.every((s) => actions(s).length === 1 && actions(s)[0] === 'ssm:GetParameter')).toBe(true);
    const slack = ssmReads.find((s) => JSON.stringify(s.Resource).includes('/vigil/test/slack'));
    expect(slack?.Resource).toEqual({
      'Fn::Sub': ['arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${name}', { name: '/vigil/test/slack' }],
    });
    // The other read is the configuration document; no wildcard anywhere.
    expect(ssmReads).toHaveLength(2);
    expect(JSON.stringify(ssmReads)).not.toContain('*');
    // No Slack URL or token anywhere in the template.
    const whole = JSON.stringify(t);
    expect(whole).not.toMatch(/hooks\.slack\.com|xox[bp]-/);
  });

  it('kms:Decrypt only when a customer managed key is configured, and only via SSM', () => {
    const kms = t.Resources.AlertNotifierSlackSecretKeyPolicy as CfnResource;
    expect(kms.Condition).toBe('AlertNotifierHasSlackSecretKey');
    expect(t.Conditions?.AlertNotifierHasSlackSecretKey).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    const statement = (kms.Properties?.PolicyDocument as { Statement: Statement[] }).Statement[0];
    expect(statement?.Condition).toEqual({ StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } } });
    expect(statements.some((s) => actions(s).some((a) => a.startsWith('kms:')))).toBe(false);
  });

  it('least privilege on the state table and the queues', () => {
    const ddb = statements.filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(ddb).toHaveLength(1);
    expect(actions(ddb[0] as Statement).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(ddb[0]?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['group#*'] } });
    const send = statements.filter((s) => actions(s).includes('sqs:SendMessage'));
    expect(send).toHaveLength(1);
    expect(send[0]?.Resource).toEqual([
      { 'Fn::GetAtt': ['AlertNotifierDLQ', 'Arn'] },
      { 'Fn::GetAtt': ['AlertNotifierQueue', 'Arn'] },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/"(sns|s3|ssm|sqs|dynamodb):\*"|"\*"/);
  });

  it('alarms when anything reaches the DLQ', () => {
    const alarm = t.Resources.AlertNotifierDLQAlarm as CfnResource;
    expect(alarm.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['AlertNotifierDLQ', 'QueueName'] } }],
      Threshold: 1,
    });
  });
});
