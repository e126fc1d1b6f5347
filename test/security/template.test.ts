import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, parseDocument } from 'yaml';
import { repoRoot } from '../support/shared-data';
import { type CfnTemplate, packagedTemplate } from '../support/template';
import {
  DEPLOY_MODES,
  STAR_ONLY_ACTIONS,
  checkBuckets,
  checkCloudTrail,
  checkFunctions,
  checkIam,
  checkQueues,
  checkStack,
  checkTopics,
  deployed,
  starActionsUsed,
} from './stack-checks';

/**
 * Issue 8, section 2: `serverless package` (offline) in each deploy mode, and every security property of section 1
 * asserted on the generated CloudFormation for every resource of each kind (test/security/stack-checks.ts). A failure
 * lists each problem with the logical id of the resource at fault.
 */
const templates = new Map<string, CfnTemplate>();

beforeAll(async () => {
  // One after the other: each package step is CPU-bound, and the default mode's result is shared with other tests.
  for (const mode of DEPLOY_MODES) templates.set(mode.name, deployed(await packagedTemplate(mode.params)));
}, 900_000);

const template = (name: string): CfnTemplate => {
  const t = templates.get(name);
  if (!t) throw new Error(`no template for ${name}`);
  return t;
};

describe.each(DEPLOY_MODES)('the packaged stack, $name', (mode) => {
  it('every bucket: public access blocked, encrypted, ACLs off, TLS only; the log bucket versioned, logs expiring', () => {
    expect(checkBuckets(template(mode.name), mode)).toEqual([]);
  });

  it('the CloudTrail bucket policy and trail', () => {
    expect(checkCloudTrail(template(mode.name), mode)).toEqual([]);
  });

  it('every queue has a DLQ, every DLQ an alarm notifying the alerts topic', () => {
    expect(checkQueues(template(mode.name))).toEqual([]);
  });

  it('the alerts topic is encrypted with a key that its alarms and publishers may use', () => {
    expect(checkTopics(template(mode.name))).toEqual([]);
  });

  it('every function: its own role, log retention, a timeout, a place for failed events', () => {
    expect(checkFunctions(template(mode.name), mode)).toEqual([]);
  });

  it('roles: no action wildcards, Resource "*" only for the actions AWS authorizes on "*" alone', () => {
    expect(checkIam(template(mode.name))).toEqual([]);
  });

  it('needs no AWS access to package (no ${aws:…}, ${ssm:…}, ${cf:…})', () => {
    expect(JSON.stringify(template(mode.name))).not.toMatch(/\$\{(aws|ssm|cf|s3):/);
  });
});

describe('the stack across deploy modes', () => {
  it('uses every accepted Resource "*" action somewhere (no stale exceptions), and docs/security.md lists each', async () => {
    const used = new Set(DEPLOY_MODES.flatMap((mode) => [...starActionsUsed(template(mode.name))]));
    expect(Object.keys(STAR_ONLY_ACTIONS).filter((a) => !used.has(a))).toEqual([]);
    const docs = await readFile(path.join(repoRoot, 'docs', 'security.md'), 'utf8');
    expect(Object.keys(STAR_ONLY_ACTIONS).filter((a) => !docs.includes(a))).toEqual([]);
  });

  it('the modes differ where they should: bucket and trail, organization trail, KMS keys', () => {
    const [plain, org, existing] = DEPLOY_MODES.map((m) => template(m.name));
    expect(plain!.Resources.CloudTrailTrail?.Properties?.IsOrganizationTrail).toBe(false);
    expect(org!.Resources.CloudTrailTrail?.Properties?.IsOrganizationTrail).toBe(true);
    expect(existing!.Resources.CloudTrailBucket).toBeUndefined();
    expect(existing!.Resources.CloudTrailKmsDecryptPolicy).toBeDefined();
    expect(plain!.Resources.CloudTrailKmsDecryptPolicy).toBeUndefined();
    // The conditional policies are deployed (and so checked) in at least one mode.
    expect(org!.Resources.AlertNotifierSlackSecretKeyPolicy).toBeDefined();
  });

  it('deploys every resource of the template in at least one mode (no conditional resource escapes the checks)', async () => {
    const all = Object.keys((await packagedTemplate(DEPLOY_MODES[0]!.params)).Resources);
    const checked = new Set(DEPLOY_MODES.flatMap((mode) => Object.keys(template(mode.name).Resources)));
    expect(all.filter((id) => !checked.has(id))).toEqual([]);
  });
});

/**
 * Every function declares its timeout in infra/functions/*.yml with a comment that says why it fits the work (and
 * why no reserved concurrency); the template cannot tell an explicit timeout from the provider default.
 */
describe('function definitions', () => {
  it('declare a commented timeout each', async () => {
    const dir = path.join(repoRoot, 'infra', 'functions');
    const files = ['ip-space.yml', 'notifier.yml', 'cloudtrail.yml', 'migration.yml'];
    const problems: string[] = [];
    let functions = 0;
    for (const file of files) {
      const doc = parseDocument(await readFile(path.join(dir, file), 'utf8'));
      if (!isMap(doc.contents)) throw new Error(`${file}: not a map of functions`);
      for (const fn of doc.contents.items) {
        if (!isPair(fn) || !isScalar(fn.key) || !isMap(fn.value)) continue;
        functions++;
        const timeout = fn.value.items.find((p) => isScalar(p.key) && p.key.value === 'timeout');
        if (!timeout) problems.push(`${file} ${String(fn.key.value)}: no timeout`);
        else if (!isScalar(timeout.key) || !/timeout/i.test(timeout.key.commentBefore ?? '')) {
          problems.push(`${file} ${String(fn.key.value)}: the timeout needs a comment saying why it fits (and why no reserved concurrency)`);
        }
      }
    }
    expect(functions).toBeGreaterThanOrEqual(5);
    expect(problems).toEqual([]);
  });
});

/** The checks themselves: each loosening of the stack is caught, with the resource named. */
describe('the checks catch a loosened stack', () => {
  const mode = DEPLOY_MODES[0]!;
  const mutated = (change: (t: CfnTemplate) => void): CfnTemplate => {
    const t = structuredClone(template(mode.name));
    change(t);
    return t;
  };
  type Doc = { Statement: Record<string, unknown>[] };
  const inline = (t: CfnTemplate, roleId: string): Doc =>
    (t.Resources[roleId]!.Properties!.Policies as { PolicyDocument: Doc }[])[0]!.PolicyDocument;

  it.each([
    ['a bucket open to the public', 'IpRangesBucket', (t: CfnTemplate) => delete t.Resources.IpRangesBucket!.Properties!.PublicAccessBlockConfiguration],
    ['a bucket without its TLS deny', 'CloudTrailBucket', (t: CfnTemplate) => {
      const doc = t.Resources.CloudTrailBucketPolicy!.Properties!.PolicyDocument as Doc;
      doc.Statement = doc.Statement.filter((s) => s.Effect !== 'Deny');
    }],
    ['a log bucket without versioning', 'CloudTrailBucket', (t: CfnTemplate) => delete t.Resources.CloudTrailBucket!.Properties!.VersioningConfiguration],
    ['CloudTrail writes without the owner ACL', 'CloudTrailBucketPolicy', (t: CfnTemplate) => {
      const doc = t.Resources.CloudTrailBucketPolicy!.Properties!.PolicyDocument as Doc;
      for (const s of doc.Statement) delete (s.Condition as { StringEquals?: Record<string, unknown> } | undefined)?.StringEquals?.['s3:x-amz-acl'];
    }],
    ['an account principal in the CloudTrail bucket policy', 'CloudTrailBucketPolicy', (t: CfnTemplate) => {
      (t.Resources.CloudTrailBucketPolicy!.Properties!.PolicyDocument as Doc).Statement[1]!.Principal = { AWS: '*' };
    }],
    ['a trail without log file validation', 'CloudTrailTrail', (t: CfnTemplate) => (t.Resources.CloudTrailTrail!.Properties!.EnableLogFileValidation = false)],
    ['a queue without a DLQ', 'CloudTrailQueue', (t: CfnTemplate) => delete t.Resources.CloudTrailQueue!.Properties!.RedrivePolicy],
    ['a DLQ alarm that notifies nobody', 'AlertNotifierDLQ', (t: CfnTemplate) => (t.Resources.AlertNotifierDLQAlarm!.Properties!.AlarmActions = [])],
    ['an alarm the topic policies would refuse', 'CloudTrailDeadLetterAlarm', (t: CfnTemplate) => (t.Resources.CloudTrailDeadLetterAlarm!.Properties!.AlarmName = 'other-name')],
    ['the alerts topic on the AWS managed key', 'AlertsTopic', (t: CfnTemplate) => (t.Resources.AlertsTopic!.Properties!.KmsMasterKeyId = 'alias/aws/sns')],
    ['a publisher without the topic key', 'MigrationNotifyIamRoleLambdaExecution', (t: CfnTemplate) => {
      const doc = inline(t, 'MigrationNotifyIamRoleLambdaExecution');
      doc.Statement = doc.Statement.filter((s) => !JSON.stringify(s.Action).includes('kms:'));
    }],
    ['two functions sharing a role', 'MigrationPlanLambdaFunction', (t: CfnTemplate) => {
      t.Resources.MigrationPlanLambdaFunction!.Properties!.Role = { 'Fn::GetAtt': ['MigrationNotifyIamRoleLambdaExecution', 'Arn'] };
    }],
    ['a log group without retention', 'AlertNotifierLogGroup', (t: CfnTemplate) => delete t.Resources.AlertNotifierLogGroup!.Properties!.RetentionInDays],
    ['Action "*"', 'CloudtrailIngestIamRoleLambdaExecution', (t: CfnTemplate) => {
      inline(t, 'CloudtrailIngestIamRoleLambdaExecution').Statement.push({ Effect: 'Allow', Action: '*', Resource: { Ref: 'AlertsTopic' } });
    }],
    ['a write on Resource "*"', 'MigrationStateMachineRole', (t: CfnTemplate) => {
      const describe = inline(t, 'MigrationStateMachineRole').Statement.find((s) => s.Sid === 'Describe')!;
      describe.Action = [...(describe.Action as string[]), 'ec2:DeleteVolume'];
    }],
    ['the default role back', 'IamRoleLambdaExecution', (t: CfnTemplate) => {
      t.Resources.IamRoleLambdaExecution = structuredClone(t.Resources.AlertNotifierIamRoleLambdaExecution!);
    }],
  ])('%s → names %s', (_what, resource, change) => {
    expect(checkStack(template(mode.name), mode)).toEqual([]);
    const problems = checkStack(mutated(change), mode);
    expect(problems.length, 'the loosened stack is reported').toBeGreaterThan(0);
    expect(problems.some((p) => p.startsWith(`${resource}:`) || p.startsWith(`${resource} `)), problems.join('\n')).toBe(true);
  });
});
