import { beforeAll, describe, expect, it } from 'vitest';
import { type CfnResource, type CfnTemplate, packagedTemplate } from '../../support/template';
import { DEFINITION_FILES, readDefinition } from './definitions';

/**
 * The packaged stack (serverless package, offline) deploys the very definitions the local runs test, with the roles
 * of least privilege described in infra/resources/migration.yml and docs/migration.md.
 */
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

const statementsOf = (role: CfnResource | undefined): Statement[] =>
  ((role?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []).flatMap((p) => p.PolicyDocument.Statement);
const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const bySid = (statements: Statement[], sid: string): Statement => {
  const found = statements.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
};

/** Puts the intrinsics back where serverless-step-functions replaced them with ${hash} placeholders. */
function deployedDefinition(resource: CfnResource | undefined): unknown {
  const sub = (resource?.Properties?.DefinitionString as { 'Fn::Sub': [string, Record<string, unknown>] })['Fn::Sub'];
  const [text, mapping] = sub;
  const withMarkers = text.replace(/"\$\{(\w+)\}"/g, (_m, key: string) => JSON.stringify(mapping[key] ?? `UNMAPPED ${key}`));
  return JSON.parse(withMarkers);
}

describe('migration resources in the packaged stack', () => {
  let template: CfnTemplate;
  beforeAll(async () => {
    template = await packagedTemplate();
  }, 600_000);

  it('deploys the committed definitions, unchanged, as two STANDARD state machines with logs and traces', () => {
    const parent = template.Resources.MigrationStateMachine;
    const child = template.Resources.MigrationRunLvmStep;
    expect(parent?.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(parent?.Properties).toMatchObject({
      StateMachineName: 'vigil-test-migration',
      StateMachineType: 'STANDARD',
      RoleArn: { 'Fn::GetAtt': ['MigrationStateMachineRole', 'Arn'] },
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: true },
      TracingConfiguration: { Enabled: true },
    });
    expect(child?.Properties).toMatchObject({
      StateMachineName: 'vigil-test-migration-run-step',
      RoleArn: { 'Fn::GetAtt': ['MigrationRunStepRole', 'Arn'] },
    });
    expect(deployedDefinition(parent)).toEqual(readDefinition(DEFINITION_FILES.migration));
    expect(deployedDefinition(child)).toEqual(readDefinition(DEFINITION_FILES.runStep));
  });

  it('lets the workflow create only encrypted volumes of the allowed types and sizes, tagged, in this region', () => {
    const s = bySid(statementsOf(template.Resources.MigrationStateMachineRole), 'CreateVolume');
    expect(actions(s)).toEqual(['ec2:CreateVolume']);
    expect(s.Condition).toEqual({
      StringEquals: { 'ec2:VolumeType': { 'Fn::Split': [',', 'gp3,gp2,io2'] }, 'ec2:AvailabilityZone': { 'Fn::GetAZs': '' } },
      NumericLessThanEquals: { 'ec2:VolumeSize': '16384' },
      Bool: { 'ec2:Encrypted': 'true' },
      Null: { 'aws:RequestTag/InstanceId': 'false', 'aws:RequestTag/vigil:migration': 'false' },
      StringLike: { 'aws:RequestTag/InstanceId': 'i-*' },
    });
  });

  it('lets it attach, detach, delete, modify and snapshot only volumes tagged with an instance id, on opted-in instances', () => {
    const statements = statementsOf(template.Resources.MigrationStateMachineRole);
    const volumes = bySid(statements, 'TaggedVolumes');
    expect(actions(volumes).sort()).toEqual(['ec2:AttachVolume', 'ec2:CreateSnapshot', 'ec2:DeleteVolume', 'ec2:DetachVolume', 'ec2:ModifyVolume']);
    expect(volumes.Condition).toEqual({ StringLike: { 'aws:ResourceTag/InstanceId': 'i-*' } });
    expect(JSON.stringify(volumes.Resource)).toContain(':volume/*');
    const instances = bySid(statements, 'OptedInInstances');
    expect(actions(instances).sort()).toEqual(['ec2:AttachVolume', 'ec2:DetachVolume']);
    expect(instances.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/vigil:lvm-migration': 'enabled' } });
    // Every mutating EC2 action is in a conditioned statement; tags are only written while creating.
    for (const st of statements) {
      const mutating = actions(st).filter((a) => a.startsWith('ec2:') && !a.startsWith('ec2:Describe'));
      if (mutating.length > 0) expect(st.Condition, st.Sid).toBeDefined();
      expect(actions(st).some((a) => a.endsWith('*')), st.Sid).toBe(false);
    }
    expect(bySid(statements, 'TagOnCreate').Condition).toEqual({ StringEquals: { 'ec2:CreateAction': ['CreateVolume', 'CreateSnapshot'] } });
    // The lock: its own items of the state table only.
    expect(bySid(statements, 'MigrationLock').Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['migration-lock#*'] } });
  });

  it('lets the run-step workflow send only AWS-RunShellScript, only to opted-in instances', () => {
    const statements = statementsOf(template.Resources.MigrationRunStepRole);
    const send = statements.filter((s) => actions(s).includes('ssm:SendCommand'));
    expect(send).toHaveLength(2);
    expect(JSON.stringify(bySid(statements, 'SendCommandDocument').Resource)).toContain('::document/AWS-RunShellScript');
    expect(bySid(statements, 'SendCommandInstances').Condition).toEqual({ StringEquals: { 'ssm:resourceTag/vigil:lvm-migration': 'enabled' } });
    expect(statements.flatMap(actions).filter((a) => a.startsWith('ec2:'))).toEqual([]);
    // The parent cannot send commands itself.
    expect(statementsOf(template.Resources.MigrationStateMachineRole).flatMap(actions)).not.toContain('ssm:SendCommand');
  });

  it('ships the instance-role policy: SSM agent only, no EC2 permission', () => {
    const policy = template.Resources.MigrationInstancePolicy;
    expect(policy?.Type).toBe('AWS::IAM::ManagedPolicy');
    const doc = (policy?.Properties?.PolicyDocument as { Statement: Statement[] }).Statement;
    const all = doc.flatMap(actions);
    expect(all.every((a) => /^(ssm|ssmmessages|ec2messages):/.test(a))).toBe(true);
    expect(all).toContain('ssm:UpdateInstanceInformation');
    expect(template.Outputs?.MigrationInstancePolicyArn).toBeDefined();
  });

  it('gives each Lambda task its own role: the planner nothing but logs, the notifier only the alerts topic', () => {
    const plan = template.Resources.MigrationPlanLambdaFunction;
    expect(plan?.Properties?.Role).toEqual({ 'Fn::GetAtt': ['MigrationPlanIamRoleLambdaExecution', 'Arn'] });
    const planActions = statementsOf(template.Resources.MigrationPlanIamRoleLambdaExecution).flatMap(actions);
    expect(planActions.every((a) => a.startsWith('logs:'))).toBe(true);
    expect((plan?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      MIGRATION_MAX_VOLUME_GIB: '16384',
      MIGRATION_ALLOWED_VOLUME_TYPES: 'gp3,gp2,io2',
    });
    const notify = statementsOf(template.Resources.MigrationNotifyIamRoleLambdaExecution).filter((s) => !actions(s).every((a) => a.startsWith('logs:')));
    expect(notify).toEqual([
      { Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'AlertsTopic' } },
      // The alerts topic is encrypted with the stack's key: a data key for the publish, only through SNS.
      {
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': ['AlertsTopicKey', 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
      },
    ]);
  });

  it('needs no AWS call to package: no ${aws:…} in the migration resources', () => {
    const ours = Object.entries(template.Resources).filter(([id]) => id.startsWith('Migration'));
    expect(JSON.stringify(ours)).not.toContain('${aws:');
  });
});
