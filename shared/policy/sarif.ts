import { createHash } from 'node:crypto';
import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Severity } from '../alerts/schema';
import type { LintFinding } from './lint';
import { policyRules } from './rules';
import type { PolicyRuleId } from './schema';

/**
 * SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer): the whole rule catalog as `tool.driver.rules` with
 * help and `security-severity`, one result per finding with a file/line location and a logical location naming the
 * CloudFormation resource, stable `partialFingerprints` (independent of line numbers, so an alert survives edits
 * above it), and accepted findings as results with `suppressions` rather than dropped.
 * https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning
 */

const level: Record<Severity, Result.level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** GitHub's bands: ≥9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low. */
const securitySeverity: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.5' };

const cwe: Partial<Record<PolicyRuleId, string>> = {
  'admin-wildcard': 'CWE-269',
  'allow-not-action': 'CWE-269',
  'allow-not-resource': 'CWE-269',
  'privilege-escalation': 'CWE-269',
  'passrole-wildcard': 'CWE-269',
  'assume-role-wildcard': 'CWE-269',
  'service-wildcard': 'CWE-269',
  'resource-wildcard': 'CWE-269',
  'managed-policy-risk': 'CWE-269',
  'allow-not-principal': 'CWE-284',
  'principal-wildcard': 'CWE-284',
  'principal-unknown-account': 'CWE-284',
  'trust-missing-external-id': 'CWE-441',
  'trust-oidc-unscoped': 'CWE-284',
  'service-principal-no-source': 'CWE-441',
  'missing-condition': 'CWE-284',
  's3-put-without-encryption': 'CWE-311',
};

export const sarifToolName = 'vigil-policy-lint';

function ruleDescriptor(id: PolicyRuleId): ReportingDescriptor {
  const rule = policyRules.find((r) => r.id === id)!;
  const tags = ['security', 'iam', ...(cwe[id] ? [`external/cwe/${cwe[id].toLowerCase()}`] : [])];
  return {
    id: rule.id,
    name: rule.id
      .split('-')
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join(''),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.rationale },
    help: {
      text: `${rule.rationale}\n\nFix: ${rule.fixHint}`,
      markdown: `${rule.rationale}\n\n**Fix:** ${rule.fixHint}\n\nApplies to ${rule.appliesTo.join(', ')} policies. [AWS documentation](${rule.helpUri})`,
    },
    helpUri: rule.helpUri,
    defaultConfiguration: { level: level[rule.severity] },
    properties: { tags, precision: 'high', 'security-severity': securitySeverity[rule.severity], severity: rule.severity },
  };
}

/** A relative path as a URI reference: "/" separators, each segment percent-encoded. */
const toUri = (file: string): string => file.split(/[\\/]/).map(encodeURIComponent).join('/');

function fingerprint(f: LintFinding): string {
  return createHash('sha256')
    .update(JSON.stringify([f.ruleId, f.file, f.resource, f.path, f.statementIndex, [...f.subjects].sort()]))
    .digest('hex')
    .slice(0, 32);
}

export interface SarifOptions {
  version: string;
  /** Absolute file: URI of the directory paths are relative to (the repository root in CI). */
  srcRoot?: string;
  /** Problems that kept files or documents from being linted. */
  errors: string[];
}

export function toSarif(findings: readonly LintFinding[], options: SarifOptions): Log {
  const rules = policyRules.map((r) => ruleDescriptor(r.id));
  const results: Result[] = findings.map((f) => {
    const where = [f.resource !== '-' ? f.resource : undefined, f.path || undefined, f.statementIndex !== null ? `Statement[${f.statementIndex}]` : undefined]
      .filter((p): p is string => p !== undefined)
      .join(' ');
    const result: Result = {
      ruleId: f.ruleId,
      ruleIndex: policyRules.findIndex((r) => r.id === f.ruleId),
      level: level[f.severity],
      message: { text: `${where ? `${where}: ` : ''}${f.message}. Fix: ${f.fixHint}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: toUri(f.file), ...(options.srcRoot ? { uriBaseId: '%SRCROOT%' } : {}) },
            region: { startLine: f.line ?? 1 },
          },
          logicalLocations: [
            {
              name: f.resource === '-' ? f.file : f.resource,
              fullyQualifiedName: [f.resource === '-' ? f.file : f.resource, f.path, f.statementIndex !== null ? `Statement[${f.statementIndex}]` : '']
                .filter((p) => p !== '')
                .join('.'),
              kind: 'resource',
            },
          ],
        },
      ],
      partialFingerprints: { 'vigilPolicyFinding/v1': fingerprint(f) },
      properties: {
        severity: f.severity,
        'security-severity': securitySeverity[f.severity],
        resourceType: f.resourceType,
        policyKind: f.kind,
        subjects: f.subjects,
        ...(f.sid !== undefined ? { sid: f.sid } : {}),
      },
    };
    if (f.suppressed) {
      result.suppressions = [{ kind: f.suppressed.by === 'allow-file' ? 'external' : 'inSource', justification: f.suppressed.reason }];
    }
    return result;
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: sarifToolName,
            version: options.version,
            semanticVersion: options.version,
            rules,
          },
        },
        ...(options.srcRoot ? { originalUriBaseIds: { '%SRCROOT%': { uri: options.srcRoot } } } : {}),
        invocations: [
          {
            executionSuccessful: options.errors.length === 0,
            toolExecutionNotifications: options.errors.map((text) => ({ level: 'error' as const, message: { text } })),
          },
        ],
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
}
