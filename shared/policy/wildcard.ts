/**
 * IAM wildcard matching (`*` any run of characters, `?` one character), as IAM applies it to Action, NotAction and
 * Resource. It is a plain two-pointer matcher instead of a RegExp built from the policy, so hostile patterns can
 * neither inject regex syntax nor backtrack exponentially: the worst case is O(pattern × text).
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Action names are case-insensitive in IAM (`S3:putobject` is `s3:PutObject`). */
export const actionMatches = (pattern: string, action: string): boolean =>
  wildcardMatch(pattern.toLowerCase(), action.toLowerCase());

/** `*`, `*:*`, `*:Get*`… — a pattern whose service part is a wildcard spans every service. */
export function isAllActions(pattern: string): boolean {
  const p = pattern.trim();
  return p === '*' || p === '*:*';
}

/** `iam:*` → `iam`; undefined for anything that is not a whole-service wildcard. */
export function wholeServiceOf(pattern: string): string | undefined {
  const [service, name, ...rest] = pattern.toLowerCase().split(':');
  if (rest.length > 0 || service === undefined || name !== '*' || service === '' || service.includes('*')) return undefined;
  return service;
}

export const hasWildcard = (value: string): boolean => value.includes('*') || value.includes('?');
