import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LintReport } from '../../shared/policy/lint';
import { policyRules } from '../../shared/policy';
import { repoRoot } from '../support/shared-data';
import { runCli } from '../support/cli';

const fixtures = 'test/fixtures/policy';
const lint = (...args: string[]): ReturnType<typeof runCli> => runCli(['policy', 'lint', ...args], { cwd: repoRoot });
const report = (stdout: string): LintReport => LintReport.parse(JSON.parse(stdout));
const lineOf = (file: string, line: number | undefined): string => readFileSync(path.join(repoRoot, file), 'utf8').split('\n')[(line ?? 0) - 1] ?? '';

const temps: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-policy-'));
  temps.push(dir);
  return dir;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('vigil policy lint', () => {
  it('lints a CloudFormation YAML template: findings with rule, severity, file:line, resource and statement; exit 1', async () => {
    const run = await lint(`${fixtures}/templates/app-stack.yaml`, '--known-account', '111122223333');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/app-stack\.yaml:\d+ {2}HIGH {2}passrole-wildcard {2}AppRole Resources\.AppRole\.Properties\.Policies\[0\]\.PolicyDocument Statement\[2\]/);
    expect(run.stdout).toContain('    fix: Set Resource to the ARNs of the roles');
    expect(run.stdout).toMatch(/8 findings \(3 high, 4 medium, 1 low\) in 8 policies from 1 file; 2 accepted by suppressions .*; 3 at or above high/);
  });

  it('--format json: the report schema, statement lines, and suppressions from comments and Metadata', async () => {
    const file = `${fixtures}/templates/app-stack.yaml`;
    const r = report((await lint(file, '--known-account', '111122223333', '--format', 'json')).stdout);
    expect(r.summary).toMatchObject({ files: 1, policies: 8, findings: 8, suppressed: 2, failing: 3, errors: 0 });
    const passRole = r.findings.find((f) => f.ruleId === 'passrole-wildcard')!;
    expect(passRole).toMatchObject({ resource: 'AppRole', resourceType: 'AWS::IAM::Role', statementIndex: 2, kind: 'identity', severity: 'high' });
    expect(lineOf(file, passRole.line)).toContain('- Effect: Allow');
    expect(lineOf(file, (passRole.line ?? 0) + 1)).toContain('iam:PassRole');
    expect(r.findings.find((f) => f.ruleId === 'resource-wildcard' && f.resource === 'AppRole')?.suppressed).toEqual({
      by: 'comment',
      reason: 'ec2:DescribeRegions only accepts Resource "*"',
    });
    expect(r.findings.find((f) => f.ruleId === 'managed-policy-risk')?.suppressed?.by).toBe('metadata');
    // Intrinsics: the !Sub own-account trust is known, the !Ref parameter is not guessed at, !If branches are linted.
    expect(r.findings.filter((f) => f.resource === 'DeployRole' && f.ruleId === 'principal-unknown-account').map((f) => f.subjects)).toEqual([
      ['arn:aws:iam::444455556666:root'],
    ]);
    expect(r.findings.some((f) => f.resource === 'PartnerRole')).toBe(false);
    expect(r.findings.find((f) => f.ruleId === 'hardcoded-az')?.subjects).toEqual(['{{AWS.Region}}a']);
  });

  it('--fail-on decides exit 1', async () => {
    expect((await lint(`${fixtures}/templates/app-stack.yaml`, '--fail-on', 'critical')).code).toBe(0);
    expect((await lint(`${fixtures}/templates/app-stack.yaml`, '--fail-on', 'none')).code).toBe(0);
    expect((await lint(`${fixtures}/identity/describe-on-star.json`)).code).toBe(0);
    expect((await lint(`${fixtures}/identity/describe-on-star.json`, '--fail-on', 'low')).code).toBe(1);
    expect((await lint(`${fixtures}/templates/clean-stack.json`, '--fail-on', 'info')).code).toBe(0);
  });

  it('walks a directory and lints every policy in it', async () => {
    const r = report((await lint(`${fixtures}/trust`, '--format', 'json', '--known-account', '111122223333')).stdout);
    expect(r.summary.files).toBe(11);
    expect(new Set(r.findings.map((f) => f.file))).toContain(`${fixtures}/trust/open-to-everyone.json`);
    expect(r.findings.find((f) => f.file.endsWith('open-to-everyone.json'))).toMatchObject({ ruleId: 'principal-wildcard', severity: 'critical', kind: 'trust', line: 3 });
  });

  it('exit 2 on unreadable or invalid input, while still linting the rest', async () => {
    const run = await lint(`${fixtures}/invalid`, `${fixtures}/identity/admin.json`, 'no/such/file.json', '--format', 'json');
    expect(run.code).toBe(2);
    const r = report(run.stdout);
    expect(r.findings.map((f) => f.ruleId)).toEqual(['admin-wildcard']);
    expect(r.errors).toHaveLength(4);
    expect(run.stderr).toContain('truncated.json: not valid JSON');
    expect(run.stderr).toMatch(/lowercase-effect\.json: policy: invalid policy document: Statement\[0\]\.Effect: Effect must be "Allow" or "Deny"/);
    expect(run.stderr).toContain('action-and-not-action.json: policy: invalid policy document: Statement[0]: a statement takes Action or NotAction, not both');
    expect(run.stderr).toContain('no/such/file.json: cannot read: ENOENT');
  });

  it('an explicit file that is no policy or template is bad input; in a directory it is skipped', async () => {
    const run = await lint('package.json');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('package.json: not an IAM policy, CloudFormation template or serverless config');
    const dir = tempDir();
    writeFileSync(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": {} }');
    writeFileSync(path.join(dir, 'notes.yaml'), 'a: [unclosed');
    writeFileSync(path.join(dir, 'policy.json'), readFileSync(path.join(repoRoot, fixtures, 'identity/admin.json')));
    const walk = await runCli(['policy', 'lint', '.'], { cwd: dir });
    expect(walk.code).toBe(1);
    expect(walk.stderr).toContain('skipped 2 files that are not policies or templates');
  });

  it('reads a policy from stdin (JSON or YAML)', async () => {
    const json = await runCli(['policy', 'lint', '-', '--format', 'json'], { cwd: repoRoot, stdin: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}' });
    expect(json.code).toBe(1);
    expect(report(json.stdout).findings[0]).toMatchObject({ file: '<stdin>', ruleId: 'passrole-wildcard', line: 1 });
    const yaml = await runCli(['policy', 'lint', '-'], { cwd: repoRoot, stdin: 'Version: "2012-10-17"\nStatement:\n  - Effect: Allow\n    Action: sqs:SendMessage\n    Resource: arn:aws:sqs:us-east-1:111122223333:q\n' });
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain('0 findings in 1 policy from 1 file');
  });

  it('--kind and --attached-to describe bare policy files', async () => {
    const file = `${fixtures}/identity/user-no-condition.json`;
    expect(report((await lint(file, '--format', 'json')).stdout).findings).toEqual([]);
    const asUser = report((await lint(file, '--format', 'json', '--attached-to', 'user')).stdout);
    expect(asUser.findings.map((f) => f.ruleId)).toEqual(['missing-condition']);
  });

  it('follows ${file()} includes of serverless.yml and reports a missing one', async () => {
    const run = await lint(`${fixtures}/templates/serverless/serverless.yml`, '--format', 'json');
    expect(run.code).toBe(2);
    const r = report(run.stdout);
    expect(r.errors).toEqual([expect.stringMatching(/serverless\.yml: \$\{file\(missing\.yml\)\}: ENOENT/)]);
    const byRule = Object.fromEntries(r.findings.map((f) => [f.ruleId, f]));
    expect(byRule['assume-role-wildcard']).toMatchObject({ file: `${fixtures}/templates/serverless/functions.yml`, resource: 'worker', line: 7 });
    expect(byRule['principal-wildcard']).toMatchObject({ file: `${fixtures}/templates/serverless/resources.yml`, resource: 'DataBucketPolicy' });
    expect(byRule['managed-policy-risk']).toMatchObject({ resource: 'provider.iam.role', severity: 'high', subjects: ['arn:aws:iam::aws:policy/PowerUserAccess'] });
    expect(byRule['service-wildcard']).toMatchObject({ severity: 'low' });
    expect(byRule['resource-wildcard']).toMatchObject({ severity: 'low', resource: 'provider.iam.role' });
  });

  it('--allow accepts findings by rule, file, resource and subjects; every accepted finding keeps its reason', async () => {
    const run = await lint('--allow', `${fixtures}/allow.yaml`, `${fixtures}/identity/describe-on-star.json`, `${fixtures}/identity/write-on-star.json`, `${fixtures}/templates/app-stack.yaml`, '--format', 'json');
    const r = report(run.stdout);
    const describe = r.findings.find((f) => f.file.endsWith('describe-on-star.json'));
    expect(describe?.suppressed).toEqual({ by: 'allow-file', reason: 'ec2:Describe* calls only accept Resource "*"' });
    // The subjects selector does not stretch to other actions.
    expect(r.findings.find((f) => f.file.endsWith('write-on-star.json'))?.suppressed).toBeUndefined();
    expect(r.findings.find((f) => f.ruleId === 'passrole-wildcard')?.suppressed?.by).toBe('allow-file');
  });

  it('reads .vigil-policy-allow.yaml from the working directory; an invalid allow file is a clear error', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'p.json'), readFileSync(path.join(repoRoot, fixtures, 'identity/passrole-star.json')));
    writeFileSync(path.join(dir, '.vigil-policy-allow.yaml'), 'ignore:\n  - rule: passrole-wildcard\n    sid: PassAnyRole\n    reason: test\n');
    expect((await runCli(['policy', 'lint', 'p.json'], { cwd: dir })).code).toBe(0);
    writeFileSync(path.join(dir, '.vigil-policy-allow.yaml'), 'ignore:\n  - rule: passrole-wildcard\n');
    const bad = await runCli(['policy', 'lint', 'p.json'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('allow file .vigil-policy-allow.yaml: ignore[0].reason');
  });

  it('rejects bad flags with exit 2', async () => {
    expect((await lint(`${fixtures}/identity/admin.json`, '--known-account', '12345')).code).toBe(2);
    expect((await lint(`${fixtures}/identity/admin.json`, '--format', 'xml')).code).toBe(2);
    expect((await lint(`${fixtures}/identity/admin.json`, '--account-id', 'abc')).code).toBe(2);
  });

  it('writes the report to --output', async () => {
    const out = path.join(tempDir(), 'report.json');
    const run = await lint(`${fixtures}/identity/admin.json`, '--format', 'json', '--output', out);
    expect(run.stdout).toBe('');
    expect(report(readFileSync(out, 'utf8')).summary.findings).toBe(1);
  });

  it('vigil policy rules lists the catalog', async () => {
    const text = await runCli(['policy', 'rules'], { cwd: repoRoot });
    for (const r of policyRules) expect(text.stdout).toContain(r.id);
    const json = JSON.parse((await runCli(['policy', 'rules', '--format', 'json'], { cwd: repoRoot })).stdout) as { id: string }[];
    expect(json.map((r) => r.id)).toEqual(policyRules.map((r) => r.id));
  });
});

/**
 * What GitHub code scanning requires of an upload (SARIF 2.1.0 plus its own rules): version and $schema, a driver
 * with rules whose ids are unique, results that name a rule (and the matching ruleIndex), a message, a level, and a
 * physical location with a relative URI and a 1-based start line; security-severity as a numeric string.
 */
const Sarif = z.object({
  $schema: z.string().url(),
  version: z.literal('2.1.0'),
  runs: z
    .array(
      z.object({
        tool: z.object({
          driver: z.object({
            name: z.string().min(1),
            version: z.string(),
            rules: z.array(
              z.object({
                id: z.string().min(1),
                name: z.string().regex(/^[A-Z][A-Za-z0-9]+$/),
                shortDescription: z.object({ text: z.string().min(1) }),
                fullDescription: z.object({ text: z.string().min(1) }),
                help: z.object({ text: z.string().min(1), markdown: z.string().min(1) }),
                helpUri: z.string().url(),
                defaultConfiguration: z.object({ level: z.enum(['error', 'warning', 'note']) }),
                properties: z.object({ tags: z.array(z.string()).nonempty(), 'security-severity': z.string().regex(/^\d+(\.\d+)?$/) }),
              }),
            ),
          }),
        }),
        originalUriBaseIds: z.record(z.string(), z.object({ uri: z.string().startsWith('file://').endsWith('/') })),
        results: z.array(
          z.object({
            ruleId: z.string(),
            ruleIndex: z.number().int().nonnegative(),
            level: z.enum(['error', 'warning', 'note']),
            message: z.object({ text: z.string().min(1) }),
            locations: z
              .array(
                z.object({
                  physicalLocation: z.object({
                    artifactLocation: z.object({ uri: z.string().refine((u) => !u.startsWith('/') && !u.includes('\\')), uriBaseId: z.literal('%SRCROOT%') }),
                    region: z.object({ startLine: z.number().int().positive() }),
                  }),
                  logicalLocations: z.array(z.object({ name: z.string(), fullyQualifiedName: z.string(), kind: z.string() })),
                }),
              )
              .length(1),
            partialFingerprints: z.record(z.string(), z.string().min(16)),
            suppressions: z.array(z.object({ kind: z.enum(['inSource', 'external']), justification: z.string().min(1) })).optional(),
          }),
        ),
        invocations: z.array(z.object({ executionSuccessful: z.boolean() })).length(1),
      }),
    )
    .length(1),
});

describe('vigil policy lint --format sarif', () => {
  it('produces SARIF 2.1.0 that code scanning accepts: rules with metadata, located results, suppressions', async () => {
    const run = await lint(`${fixtures}/templates/app-stack.yaml`, `${fixtures}/identity`, '--format', 'sarif', '--known-account', '111122223333');
    expect(run.code).toBe(1);
    const sarif = Sarif.parse(JSON.parse(run.stdout));
    const [only] = sarif.runs;
    const { rules } = only!.tool.driver;
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const result of only!.results) expect(rules[result.ruleIndex]?.id).toBe(result.ruleId);
    const passRole = only!.results.find((r) => r.ruleId === 'passrole-wildcard' && r.locations[0]!.physicalLocation.artifactLocation.uri.endsWith('app-stack.yaml'));
    expect(passRole).toMatchObject({ level: 'error', locations: [{ logicalLocations: [{ name: 'AppRole', kind: 'resource' }] }] });
    expect(only!.results.filter((r) => r.suppressions).map((r) => r.suppressions![0]!.kind).sort()).toEqual(['inSource', 'inSource']);
    expect(rules.find((r) => r.id === 'admin-wildcard')?.properties['security-severity']).toBe('9.5');
    // Fingerprints do not depend on line numbers and differ between findings.
    const prints = only!.results.map((r) => Object.values(r.partialFingerprints)[0]);
    expect(new Set(prints).size).toBe(prints.length);
  });

  it('reports input problems as tool notifications', async () => {
    const run = await lint(`${fixtures}/invalid/truncated.json`, '--format', 'sarif');
    expect(run.code).toBe(2);
    const sarif = JSON.parse(run.stdout) as { runs: { invocations: { executionSuccessful: boolean; toolExecutionNotifications: { message: { text: string } }[] }[] }[] };
    expect(sarif.runs[0]!.invocations[0]!.executionSuccessful).toBe(false);
    expect(sarif.runs[0]!.invocations[0]!.toolExecutionNotifications[0]!.message.text).toContain('not valid JSON');
  });
});

describe('bin/vigil.mjs as a real process', () => {
  it('exits 1 with findings and prints them on stdout', async () => {
    const run = promisify(execFile);
    const err = await run(process.execPath, ['bin/vigil.mjs', 'policy', 'lint', `${fixtures}/trust/open-to-everyone.json`], { cwd: repoRoot }).catch((e: { code: number; stdout: string }) => e);
    expect('code' in err ? err.code : 0).toBe(1);
    expect(err.stdout).toContain('CRITICAL  principal-wildcard');
  });
});
