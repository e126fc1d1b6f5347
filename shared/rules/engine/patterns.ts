/**
 * Patterns that come from configuration — principal ARNs, user agents, the IAM user-name pattern — are input an
 * attacker may influence (a shared config repository, a pasted example). Two defences:
 *
 * - Allow-lists use globs (`*` any run of characters, `?` one character), matched by a linear-time two-pointer
 *   algorithm with no regex, so no pattern can make matching slow.
 * - The one place a regex is natural (the IAM user-name pattern) accepts only regexes that cannot backtrack
 *   catastrophically: bounded length, no backreferences or lookaround, and no quantified group that itself
 *   contains a quantifier or an alternation (the `(a+)+` / `(a|a)*` families). The subject (a user name) is short.
 */

export const MAX_GLOB_LENGTH = 512;
export const MAX_REGEX_LENGTH = 200;

/** Matches `text` against a glob, case-sensitively. O(|text| · |glob|) worst case, O(|text|) typically. */
export function globMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  const gl = glob.length;
  const tl = text.length;
  while (t < tl) {
    if (g < gl) {
      const c = glob.charCodeAt(g);
      if (c === 42 /* * */) {
        starG = g++;
        starT = t;
        continue;
      }
      if (c === 63 /* ? */ || c === text.charCodeAt(t)) {
        g++;
        t++;
        continue;
      }
    }
    if (starG < 0) return false;
    // Let the last star absorb one more character and retry from there.
    g = starG + 1;
    t = ++starT;
  }
  while (g < gl && glob.charCodeAt(g) === 42) g++;
  return g === gl;
}

/** A compiled list of globs: `matches(text)` is true when any of them matches. */
export interface GlobList {
  readonly patterns: readonly string[];
  matches(text: string | undefined): boolean;
}

export function globList(patterns: readonly string[]): GlobList {
  // Exact strings (no wildcard) are a Set lookup; only real globs are scanned.
  const exact = new Set<string>();
  const globs: string[] = [];
  for (const p of patterns) {
    if (/[*?]/.test(p)) globs.push(p);
    else exact.add(p);
  }
  return {
    patterns,
    matches(text) {
      if (text === undefined) return false;
      if (exact.has(text)) return true;
      for (const g of globs) if (globMatch(g, text)) return true;
      return false;
    },
  };
}

/** Why a regex from configuration is refused, or undefined when it is safe to compile. */
export function unsafeRegexReason(source: string): string | undefined {
  if (source.length > MAX_REGEX_LENGTH) return `longer than ${MAX_REGEX_LENGTH} characters`;
  if (/\\[1-9]|\\k</.test(source)) return 'backreferences are not allowed';
  if (/\(\?<?[=!]/.test(source)) return 'lookahead/lookbehind is not allowed';
  // Walk the pattern tracking, per open group, whether it contains a quantifier or an alternation.
  const stack: { quantified: boolean; alternation: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push({ quantified: false, alternation: false });
    else if (c === '|') {
      const top = stack[stack.length - 1];
      if (top) top.alternation = true;
    } else if (c === ')') {
      const group = stack.pop();
      if (!group) return 'unbalanced parenthesis';
      const next = source[i + 1];
      const quantifiedGroup = next === '*' || next === '+' || next === '?' || next === '{';
      if (quantifiedGroup && (group.quantified || group.alternation)) {
        return 'a repeated group may not contain a quantifier or an alternation (catastrophic backtracking)';
      }
      const parent = stack[stack.length - 1];
      if (parent && (group.quantified || quantifiedGroup)) parent.quantified = true;
      if (parent && group.alternation) parent.alternation = parent.alternation || quantifiedGroup;
    } else if (c === '*' || c === '+' || c === '{' || (c === '?' && source[i - 1] !== '(')) {
      const top = stack[stack.length - 1];
      if (top) top.quantified = true;
    }
  }
  if (stack.length > 0) return 'unbalanced parenthesis';
  if (inClass) return 'unterminated character class';
  try {
    new RegExp(source, 'u');
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** Compiles a vetted regex to match a whole string (the pattern is anchored: `^(?:…)$`). */
export function compileSafeRegex(source: string): RegExp {
  const reason = unsafeRegexReason(source);
  if (reason) throw new Error(`unsafe regular expression: ${reason}`);
  return new RegExp(`^(?:${source})$`, 'u');
}
