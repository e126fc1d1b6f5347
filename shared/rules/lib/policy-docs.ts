import type { Severity } from '../../alerts/schema';
import { type PolicyFinding, type PolicyKind, analyzePolicy, maxSeverity, safeParsePolicyDocument } from '../../policy';
import type { AttachedTo } from '../../policy/schema';

/**
 * A policy document carried in a CloudTrail request (plain or URL-encoded JSON), analysed with vigil's policy
 * analyzer (shared/policy). Never throws: a document that does not parse is reported as such, because IAM would
 * not have stored it either (the call then usually failed).
 */
export interface DocumentAnalysis {
  findings: PolicyFinding[];
  /** Highest finding severity; undefined when the document is clean or unreadable. */
  severity?: Severity;
  /** Why the document could not be analysed (absent, redacted, not JSON, not a policy). */
  error?: string;
}

export interface AnalyzeTextOptions {
  kind: PolicyKind;
  attachedTo?: AttachedTo;
  /** The event's account (only a 12-digit id is passed on). */
  account?: string;
  knownAccounts?: readonly string[];
}

export function analyzeDocumentText(text: unknown, options: AnalyzeTextOptions): DocumentAnalysis {
  if (typeof text !== 'string' || text === '') return { findings: [], error: 'no policy document in the request' };
  const parsed = safeParsePolicyDocument(text);
  if (!parsed.ok) return { findings: [], error: parsed.error };
  const findings = analyzePolicy(parsed.document, {
    kind: options.kind,
    ...(options.attachedTo ? { attachedTo: options.attachedTo } : {}),
    ...(options.account !== undefined && /^\d{12}$/.test(options.account) ? { accountId: options.account } : {}),
    knownAccounts: [...(options.knownAccounts ?? [])],
  });
  const severity = maxSeverity(findings);
  return { findings, ...(severity ? { severity } : {}) };
}

const order: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** Findings worst first, as short facts for the alert context (at most `max`). */
export function findingFacts(findings: readonly PolicyFinding[], max = 5): { check: string; severity: Severity; statement: number | null; message: string }[] {
  return [...findings]
    .sort((a, b) => order[b.severity] - order[a.severity])
    .slice(0, max)
    .map((f) => ({ check: f.ruleId, severity: f.severity, statement: f.statementIndex, message: f.message }));
}

/** The worst finding's message, for titles. */
export function worstFinding(findings: readonly PolicyFinding[]): PolicyFinding | undefined {
  let worst: PolicyFinding | undefined;
  for (const f of findings) if (!worst || order[f.severity] > order[worst.severity]) worst = f;
  return worst;
}
