import { z } from 'zod';
import { analyzePolicy, inferPolicyKind } from './analyze';
import { managedPolicyRisk } from './managed-policies';
import { formatPath, validatePolicyDocument } from './parse';
import { policyRule } from './rules';
import { AccountId, AttachedTo, PolicyFinding, PolicyKind } from './schema';
import type { LoadedSource, SourcePath } from './source';
import { type Suppression, type SuppressionContext, suppressionMatches } from './suppress';
import { type Extracted, type PolicyTarget, detectSourceKind, extractFromCloudFormation, extractFromServerless } from './template';

/** A finding located in a file: what `vigil policy lint` prints, as JSON and SARIF. */
export const LintFinding = PolicyFinding.extend({
  file: z.string(),
  line: z.number().int().positive().optional(),
  /** CloudFormation logical id, serverless function name, or "-" for a bare policy file. */
  resource: z.string(),
  resourceType: z.string(),
  /** Where the policy document is in the file, e.g. `Resources.Role.Properties.Policies[0].PolicyDocument`. */
  path: z.string(),
  kind: PolicyKind,
  suppressed: z.object({ reason: z.string(), by: z.enum(['allow-file', 'metadata', 'comment']) }).optional(),
});
export type LintFinding = z.infer<typeof LintFinding>;

export const LintOptions = z.object({
  knownAccounts: z.array(AccountId).default([]),
  accountId: AccountId.optional(),
  /** For bare policy files, whose kind and holder the file cannot tell (templates say it themselves). */
  kind: PolicyKind.optional(),
  attachedTo: AttachedTo.default('unknown'),
});
export type LintOptions = z.input<typeof LintOptions>;

export interface SourceLint {
  findings: LintFinding[];
  /** Invalid input inside the file (an invalid policy document, an unreadable include): exit 2. */
  errors: string[];
  /** Things worth saying that are not errors (a malformed suppression comment). */
  warnings: string[];
  policies: number;
}

/** Loads a `${file(…)}` include of a serverless.yml, relative to the including file. */
export type IncludeLoader = (ref: string, from: string) => LoadedSource;

function isAncestorOrSelf(ancestor: SourcePath, path: SourcePath): boolean {
  return ancestor.length <= path.length && ancestor.every((part, i) => part === path[i]);
}

/**
 * Lints one parsed file: a bare IAM policy, a CloudFormation template or a serverless.yml. Returns undefined when
 * the file is none of those (a directory walk skips it).
 */
export function lintSource(
  source: LoadedSource,
  options: LintOptions,
  allow: readonly Suppression[],
  loadInclude?: IncludeLoader,
): SourceLint | undefined {
  const opts = LintOptions.parse(options);
  const kind = detectSourceKind(source.value);
  if (!kind) return undefined;
  const sources = new Map<string, LoadedSource>([[source.file, source]]);
  let extracted: Extracted;
  if (kind === 'policy') {
    extracted = {
      policies: [
        {
          file: source.file,
          resource: '-',
          resourceType: 'IAM policy',
          path: [],
          statementPaths: Array.isArray((source.value as { Statement?: unknown }).Statement)
            ? ((source.value as { Statement: unknown[] }).Statement.map((_, i) => ['Statement', i]) as SourcePath[])
            : [['Statement']],
          ...(opts.kind ? { kind: opts.kind } : {}),
          attachedTo: opts.attachedTo,
          document: source.value,
          suppressions: [],
        },
      ],
      managed: [],
      problems: [],
    };
  } else if (kind === 'cloudformation') {
    extracted = extractFromCloudFormation(source.value, source.file);
  } else {
    extracted = extractFromServerless(source.value, source.file, (ref) => {
      if (!loadInclude) return { error: 'includes are not followed here' };
      try {
        const included = loadInclude(ref, source.file);
        sources.set(included.file, included);
        return { file: included.file, value: included.value };
      } catch (err) {
        return { error: err instanceof Error ? err.message : String(err) };
      }
    });
  }

  const result: SourceLint = { findings: [], errors: [...extracted.problems], warnings: [], policies: extracted.policies.length };
  for (const s of sources.values()) result.warnings.push(...s.markerProblems);

  const suppress = (
    ctx: SuppressionContext,
    target: Pick<PolicyTarget, 'suppressions' | 'file'>,
    paths: SourcePath[],
  ): LintFinding['suppressed'] => {
    const fromFile = allow.find((s) => suppressionMatches(s, ctx));
    if (fromFile) return { reason: fromFile.reason, by: 'allow-file' };
    const fromMetadata = target.suppressions.find((s) => suppressionMatches(s, ctx));
    if (fromMetadata) return { reason: fromMetadata.reason, by: 'metadata' };
    const markers = sources.get(target.file)?.markers ?? [];
    const comment = markers.find((m) => m.rules.includes(ctx.ruleId) && paths.some((p) => isAncestorOrSelf(m.path, p)));
    if (comment) return { reason: comment.reason, by: 'comment' };
    return undefined;
  };

  for (const target of extracted.policies) {
    const where = `${target.file}: ${target.resource === '-' ? '' : `${target.resource} `}${formatPath(target.path) || 'policy'}`.trim();
    let findings: PolicyFinding[];
    let kind: PolicyKind;
    try {
      const doc = validatePolicyDocument(target.document);
      kind = target.kind ?? inferPolicyKind(doc);
      findings = analyzePolicy(doc, {
        kind,
        knownAccounts: opts.knownAccounts,
        ...(opts.accountId ? { accountId: opts.accountId } : {}),
        attachedTo: target.attachedTo,
      });
    } catch (err) {
      result.errors.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const lineSource = sources.get(target.file);
    for (const f of findings) {
      const statementPath = f.statementIndex !== null ? target.statementPaths?.[f.statementIndex] : undefined;
      const at = statementPath ?? target.path;
      const ctx: SuppressionContext = {
        ruleId: f.ruleId,
        file: target.file,
        resource: target.resource,
        ...(f.sid !== undefined ? { sid: f.sid } : {}),
        statementIndex: f.statementIndex,
        subjects: f.subjects,
      };
      const suppressed = suppress(ctx, target, [at, target.path]);
      const line = lineSource?.lineOf(at);
      result.findings.push({
        ...f,
        file: target.file,
        ...(line !== undefined ? { line } : {}),
        resource: target.resource,
        resourceType: target.resourceType,
        path: formatPath(target.path),
        kind,
        ...(suppressed ? { suppressed } : {}),
      });
    }
  }

  for (const ref of extracted.managed) {
    const risk = managedPolicyRisk(ref.arn);
    if (!risk || risk.severity === 'info') continue;
    const ctx: SuppressionContext = {
      ruleId: 'managed-policy-risk',
      file: ref.file,
      resource: ref.resource,
      statementIndex: null,
      subjects: [ref.arn],
    };
    const suppressed = suppress(ctx, ref, [ref.path]);
    const line = sources.get(ref.file)?.lineOf(ref.path);
    result.findings.push({
      ruleId: 'managed-policy-risk',
      severity: risk.severity,
      statementIndex: null,
      message: `AWS managed policy ${risk.name} attached: ${risk.reason}`,
      fixHint: policyRule('managed-policy-risk').fixHint,
      subjects: [ref.arn],
      file: ref.file,
      ...(line !== undefined ? { line } : {}),
      resource: ref.resource,
      resourceType: ref.resourceType,
      path: formatPath(ref.path),
      kind: 'identity',
      ...(suppressed ? { suppressed } : {}),
    });
  }
  return result;
}

export const LintSummary = z.object({
  files: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  policies: z.number().int().nonnegative(),
  findings: z.number().int().nonnegative(),
  suppressed: z.number().int().nonnegative(),
  bySeverity: z.record(z.string(), z.number().int().nonnegative()),
  failing: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
});
export type LintSummary = z.infer<typeof LintSummary>;

/** `vigil policy lint --format json`: findings (suppressed ones included, marked), problems and counts. */
export const LintReport = z.object({
  tool: z.literal('vigil-policy-lint'),
  version: z.string(),
  failOn: z.string(),
  summary: LintSummary,
  findings: z.array(LintFinding),
  errors: z.array(z.string()),
  warnings: z.array(z.string()),
});
export type LintReport = z.infer<typeof LintReport>;
