import { describe, expect, it } from 'vitest';
import { LintReport } from '../../shared/policy/lint';
import { runCli } from '../policy/cli-io';
import { repoRoot } from '../support/shared-data';
import { packagedTemplate } from '../support/template';

/**
 * `vigil policy lint` on vigil's own packaged stack (`serverless package`, offline): every role, trust policy and
 * resource policy the stack deploys. Nothing at or above high may remain unaccepted; the repository's
 * `.vigil-policy-allow.yaml` (and resource Metadata) hold the deliberate exceptions, each with its reason. The
 * findings below high are printed so a reviewer sees them in the test output.
 */
describe("vigil's own CloudFormation stack", () => {
  it('has no policy finding at or above high', { timeout: 600_000 }, async () => {
    // Through stdin: the packaged JSON is in hand, and re-deriving its cache path could race an edit of the stack.
    const template = JSON.stringify(await packagedTemplate());
    const run = await runCli(['policy', 'lint', '-', '--format', 'json', '--fail-on', 'high'], repoRoot, template);
    const report = LintReport.parse(JSON.parse(run.stdout));
    expect(report.errors).toEqual([]);
    expect(report.summary.policies).toBeGreaterThan(0);

    const describe = (f: (typeof report.findings)[number]): string =>
      `${f.severity.padEnd(8)} ${f.ruleId.padEnd(28)} ${f.resource} ${f.path}${f.statementIndex !== null ? ` Statement[${f.statementIndex}]` : ''}: ${f.message}` +
      (f.suppressed ? ` [accepted: ${f.suppressed.reason}]` : '');
    console.info(`vigil policy lint on the packaged stack: ${report.summary.policies} policies\n${report.findings.map(describe).join('\n') || '(no findings)'}`);

    const failing = report.findings.filter((f) => !f.suppressed && ['high', 'critical'].includes(f.severity));
    expect(failing.map(describe)).toEqual([]);
    expect(run.code).toBe(0);
  });
});
