import { describe, expect, it } from 'vitest';
import { LintReport } from '../../shared/policy/lint';
import { runCli } from '../support/cli';
import { repoRoot } from '../support/shared-data';
import { packagedTemplate } from '../support/template';
import { DEPLOY_MODES } from './stack-checks';

/**
 * `vigil policy lint` on vigil's own packaged stack (`serverless package`, offline), in every deploy mode: every
 * role, trust policy, resource policy and key policy the stack deploys. Nothing may remain unaccepted, whatever its
 * severity (`--fail-on info`): each deliberate exception is accepted next to the statement it concerns (resource
 * `Metadata.vigil.ignore`, with `subjects` pinning the accepted actions) and documented in docs/security.md ("The
 * deployed stack"). The accepted findings are printed so a reviewer sees them in the test output.
 */
describe("vigil's own CloudFormation stack", () => {
  it.each(DEPLOY_MODES)('has no unaccepted policy finding: $name', { timeout: 600_000 }, async (mode) => {
    // Through stdin: the packaged JSON is in hand, and re-deriving its cache path could race an edit of the stack.
    const template = JSON.stringify(await packagedTemplate(mode.params));
    const run = await runCli(['policy', 'lint', '-', '--format', 'json', '--fail-on', 'info'], { cwd: repoRoot, stdin: template });
    const report = LintReport.parse(JSON.parse(run.stdout));
    expect(report.errors).toEqual([]);
    expect(report.summary.policies).toBeGreaterThan(0);

    const describe = (f: (typeof report.findings)[number]): string =>
      `${f.severity.padEnd(8)} ${f.ruleId.padEnd(28)} ${f.resource} ${f.path}${f.statementIndex !== null ? ` Statement[${f.statementIndex}]` : ''}: ${f.message}` +
      (f.suppressed ? ` [accepted: ${f.suppressed.reason}]` : '');
    console.info(`vigil policy lint on the packaged stack (${mode.name}): ${report.summary.policies} policies\n${report.findings.map(describe).join('\n') || '(no findings)'}`);

    expect(report.findings.filter((f) => !f.suppressed).map(describe)).toEqual([]);
    // Accepted only below medium: a medium or worse finding is fixed, not accepted.
    expect(report.findings.filter((f) => !['info', 'low'].includes(f.severity)).map(describe)).toEqual([]);
    expect(run.code).toBe(0);
  });
});
