import type { Severity } from '../../alerts/schema';
import { type PolicyFinding, type PolicyKind, analyzePolicy, maxSeverity, safeParsePolicyDocument } from '../../policy';
import type { AttachedTo } from '../../policy/schema';

/**
 * A policy document carried in a CloudTrail request (plain or URL-encoded JSON), analysed with vigil's policy
 * analyzer (shared/policy). Never throws: a document that does not parse is reported as such, because IAM would
 * not have stored it either (the call then usually failed).
 */
export interface DocumentAnalysis {
  findings: readonly PolicyFinding[];
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

// Requests carrying the same document recur (the rules ask for one record's document several times: match, severity,
// title, context; infrastructure as code sends the same trust policy for every role it makes), and parsing plus
// analysing a document costs ~100 µs. Results are frozen and cached by options and text.
const CACHE_LIMIT = 500;
const cache = new Map<string, DocumentAnalysis>();
const NO_ACCOUNTS: readonly string[] = Object.freeze([]);
const accountListKeys = new WeakMap<readonly string[], string>();

export function analyzeDocumentText(text: unknown, options: AnalyzeTextOptions): DocumentAnalysis {
  if (typeof text !== 'string' || text === '') return { findings: [], error: 'no policy document in the request' };
  const known = options.knownAccounts ?? NO_ACCOUNTS;
  let knownKey = accountListKeys.get(known);
  if (knownKey === undefined) accountListKeys.set(known, (knownKey = known.join(',')));
  const key = `${options.kind}|${options.attachedTo ?? ''}|${options.account ?? ''}|${knownKey}\n${text}`;
  let result = cache.get(key);
  if (result === undefined) {
    result = Object.freeze(analyze(text, options, known));
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, result);
  }
  return result;
}

function analyze(text: string, options: AnalyzeTextOptions, knownAccounts: readonly string[]): DocumentAnalysis {
  const parsed = safeParsePolicyDocument(text);
  if (!parsed.ok) return { findings: [], error: parsed.error };
  const findings = analyzePolicy(parsed.document, {
    kind: options.kind,
    ...(options.attachedTo ? { attachedTo: options.attachedTo } : {}),
    ...(options.account !== undefined && /^\d{12}$/.test(options.account) ? { accountId: options.account } : {}),
    knownAccounts: [...knownAccounts],
  });
  const severity = maxSeverity(findings);
  return { findings: Object.freeze(findings), ...(severity ? { severity } : {}) };
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
