import { describe, expect, it } from 'vitest';
import { renderIntrinsics, renderServerlessVariables } from '../../shared/policy/intrinsics';
import { loadSource } from '../../shared/policy/source';
import { detectSourceKind, extractFromCloudFormation } from '../../shared/policy/template';

describe('rendering CloudFormation intrinsics', () => {
  it('turns deploy-time values into markers that never look like wildcards', () => {
    expect(renderIntrinsics({ Ref: 'Bucket' })).toBe('{{Bucket}}');
    expect(renderIntrinsics({ 'Fn::GetAtt': ['Role', 'Arn'] })).toBe('{{Role.Arn}}');
    expect(renderIntrinsics({ 'Fn::GetAtt': 'Role.Arn' })).toBe('{{Role.Arn}}');
    expect(renderIntrinsics({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' })).toBe('arn:{{AWS.Partition}}:iam::{{AWS.AccountId}}:root');
    expect(renderIntrinsics({ 'Fn::Sub': 'arn:aws:s3:::home/${!aws:username}/*' })).toBe('arn:aws:s3:::home/${aws:username}/*');
    expect(renderIntrinsics({ 'Fn::Sub': ['arn:aws:s3:::${B}/*', { B: { Ref: 'Bucket' } }] })).toBe('arn:aws:s3:::{{Bucket}}/*');
    expect(renderIntrinsics({ 'Fn::Join': ['', ['arn:aws:s3:::', { Ref: 'Bucket' }, '/*']] })).toBe('arn:aws:s3:::{{Bucket}}/*');
    expect(renderIntrinsics({ 'Fn::Select': [1, ['a', 'b']] })).toBe('b');
    expect(renderIntrinsics({ 'Fn::ImportValue': 'shared-topic' })).toBe('{{ImportValue.shared-topic}}');
    expect(renderIntrinsics({ 'Fn::GetAZs': '' })).toBe('{{Fn.GetAZs}}');
  });

  it('keeps both branches of Fn::If and drops AWS::NoValue', () => {
    expect(renderIntrinsics(['a', { 'Fn::If': ['C', 'b', { Ref: 'AWS::NoValue' }] }, { 'Fn::If': ['C', ['c', 'd'], 'e'] }])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(renderIntrinsics({ Resource: { 'Fn::If': ['C', 'x', 'y'] }, Condition: { Ref: 'AWS::NoValue' } })).toEqual({ Resource: ['x', 'y'] });
  });

  it('renders serverless variables but leaves IAM policy variables alone', () => {
    expect(renderServerlessVariables('arn:aws:s3:::app-${sls:stage}-${self:custom.suffix}/${aws:username}/*')).toBe(
      'arn:aws:s3:::app-{{sls.stage}}-{{self.custom.suffix}}/${aws:username}/*',
    );
    expect(renderServerlessVariables('arn:aws:iam::${aws:accountId}:root')).toBe('arn:aws:iam::{{AWS.AccountId}}:root');
  });
});

describe('reading templates', () => {
  it('parses every CloudFormation short form in YAML', () => {
    const yaml = [
      'Resources:',
      '  R:',
      '    Type: AWS::IAM::Role',
      '    Properties:',
      '      A: !Ref X',
      '      B: !GetAtt [Role, Arn]',
      '      C: !Sub [ "${x}", { x: !Ref Y } ]',
      '      D: !If [Cond, !Join [":", [a, b]], !Ref AWS::NoValue]',
      '      E: !Select [0, !Split [",", !ImportValue list]]',
      '      F: !Base64 { "Fn::Sub": "z" }',
      '      G: !GetAtt Role.Arn',
    ].join('\n');
    const source = loadSource(yaml, 't.yaml', 'yaml');
    expect((source.value as { Resources: { R: { Properties: unknown } } }).Resources.R.Properties).toEqual({
      A: { Ref: 'X' },
      B: { 'Fn::GetAtt': ['Role', 'Arn'] },
      C: { 'Fn::Sub': ['${x}', { x: { Ref: 'Y' } }] },
      D: { 'Fn::If': ['Cond', { 'Fn::Join': [':', ['a', 'b']] }, { Ref: 'AWS::NoValue' }] },
      E: { 'Fn::Select': [0, { 'Fn::Split': [',', { 'Fn::ImportValue': 'list' }] }] },
      F: { 'Fn::Base64': { 'Fn::Sub': 'z' } },
      G: { 'Fn::GetAtt': ['Role', 'Arn'] },
    });
    expect(source.lineOf(['Resources', 'R', 'Properties', 'D'])).toBe(8);
  });

  it('rejects broken YAML and duplicate keys with the file name', () => {
    expect(() => loadSource('a: [1, 2', 'x.yaml', 'yaml')).toThrow(/x\.yaml: not valid YAML/);
    expect(() => loadSource('a: 1\na: 2\n', 'x.yaml', 'yaml')).toThrow(/x\.yaml: not valid YAML/);
    expect(() => loadSource('{"a": 1,}', 'x.json', 'json')).toThrow(/x\.json: not valid JSON/);
  });

  it('bounds YAML alias expansion (billion laughs)', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    expect(() => loadSource(bomb, 'bomb.yaml', 'yaml')).toThrow();
  });

  it('a malformed vigil:ignore comment is reported, not silently applied', () => {
    const source = loadSource('Statement:\n  # vigil:ignore resource-wildcard\n  - Effect: Allow\n', 'p.yaml', 'yaml');
    expect(source.markers).toEqual([]);
    expect(source.markerProblems).toEqual([expect.stringContaining('p.yaml: line 2: "vigil:ignore" needs a rule id and a reason')]);
  });

  it('detects what a file is', () => {
    expect(detectSourceKind({ Statement: [] })).toBe('policy');
    expect(detectSourceKind({ AWSTemplateFormatVersion: '2010-09-09', Resources: {} })).toBe('cloudformation');
    expect(detectSourceKind({ Resources: {} })).toBe('cloudformation');
    expect(detectSourceKind({ service: 'x', provider: { name: 'aws' } })).toBe('serverless');
    expect(detectSourceKind({ compilerOptions: {} })).toBeUndefined();
    expect(detectSourceKind([1])).toBeUndefined();
  });

  it('finds the policies of every supported resource type, and who holds identity policies', () => {
    const doc = { Version: '2012-10-17', Statement: [] };
    const out = extractFromCloudFormation(
      {
        Resources: {
          Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: doc, Policies: [{ PolicyDocument: doc }, { PolicyDocument: doc }] } },
          UserPolicy: { Type: 'AWS::IAM::Policy', Properties: { Users: ['u'], PolicyDocument: doc } },
          RolePolicy: { Type: 'AWS::IAM::ManagedPolicy', Properties: { Roles: ['r'], PolicyDocument: doc } },
          Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: doc } },
          Queue: { Type: 'AWS::SQS::QueuePolicy', Properties: { PolicyDocument: doc } },
          Topic: { Type: 'AWS::SNS::TopicPolicy', Properties: { PolicyDocument: doc } },
          Bucket: { Type: 'AWS::S3::BucketPolicy', Properties: { PolicyDocument: doc } },
          Other: { Type: 'AWS::SQS::Queue' },
          Broken: 'x',
        },
      },
      't.json',
    );
    expect(out.policies.map((p) => [p.resource, p.kind, p.attachedTo])).toEqual([
      ['Role', 'trust', 'unknown'],
      ['Role', 'identity', 'role'],
      ['Role', 'identity', 'role'],
      ['UserPolicy', 'identity', 'user'],
      ['RolePolicy', 'identity', 'role'],
      ['Key', 'resource', 'unknown'],
      ['Queue', 'resource', 'unknown'],
      ['Topic', 'resource', 'unknown'],
      ['Bucket', 'resource', 'unknown'],
    ]);
    expect(out.problems).toEqual(['t.json: Resources.Broken: not a resource (no Type)']);
  });
});
