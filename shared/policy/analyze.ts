import { type Severity, severityRank } from '../alerts/schema';
import { directEscalationActions, highRiskServices, indirectEscalationActions, isStarOnly, selfServiceActions } from './actions';
import { type ResourceScope, parseArn, principalAccount, resourceScope } from './arn';
import { ValidationError } from '../core/errors';
import { formatZodError, statementsOf } from './parse';
import { policyRule } from './rules';
import {
  AnalyzeOptions,
  type AttachedTo,
  type PolicyDocument,
  type PolicyFinding,
  type PolicyKind,
  type PolicyRuleId,
  type Principal,
  type Statement,
} from './schema';
import { actionMatches, isAllActions, wholeServiceOf } from './wildcard';

interface ConditionEntry {
  operator: string;
  /** Lower-cased: IAM condition keys are case-insensitive. */
  key: string;
  values: string[];
}

interface Principals {
  wildcard: boolean;
  aws: string[];
  service: string[];
  federated: string[];
  canonical: string[];
}

/** A statement with every multi-valued element as a list, so checks never care about the two spellings. */
interface Stmt {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  principal?: Principals;
  notPrincipal?: Principals;
  conditions: ConditionEntry[];
}

const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

function principalsOf(p: Principal | undefined): Principals | undefined {
  if (p === undefined) return undefined;
  if (p === '*') return { wildcard: true, aws: [], service: [], federated: [], canonical: [] };
  const aws = list(p.AWS) ?? [];
  return {
    wildcard: aws.some((a) => a.trim() === '*'),
    aws: aws.filter((a) => a.trim() !== '*'),
    service: list(p.Service) ?? [],
    federated: list(p.Federated) ?? [],
    canonical: list(p.CanonicalUser) ?? [],
  };
}

function normalize(s: Statement, index: number): Stmt {
  const conditions: ConditionEntry[] = [];
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, value] of Object.entries(block)) {
      const values = (Array.isArray(value) ? value : [value]).map(String);
      conditions.push({ operator, key: key.toLowerCase(), values });
    }
  }
  return {
    index,
    sid: s.Sid,
    effect: s.Effect,
    actions: list(s.Action),
    notActions: list(s.NotAction),
    resources: list(s.Resource),
    notResources: list(s.NotResource),
    principal: principalsOf(s.Principal),
    notPrincipal: principalsOf(s.NotPrincipal),
    conditions,
  };
}

/** Whether the statement's Action/NotAction covers a concrete action. */
const grants = (s: Stmt, action: string): boolean =>
  s.actions ? s.actions.some((p) => actionMatches(p, action)) : !(s.notActions ?? []).some((p) => actionMatches(p, action));

const grantsAllActions = (s: Stmt): boolean => (s.actions ?? []).some(isAllActions);

/**
 * Whether one of the statement's resources can be a resource of the action's service: `"*"` on an S3 bucket ARN
 * grants no IAM action. Unresolved template references (`{{Role.Arn}}`) and NotResource may be anything.
 */
function resourcesMayApply(s: Stmt, action: string): boolean {
  if (s.notResources || !s.resources) return true;
  const service = action.split(':')[0]?.toLowerCase() ?? '';
  return s.resources.some((r) => {
    const arn = parseArn(r.trim());
    return r.trim() === '*' || !arn || arn.service.includes('*') || arn.service.toLowerCase() === service;
  });
}
/** `grants`, restricted to statements whose resources can belong to the action's service. */
const grantsOn = (s: Stmt, action: string): boolean => grants(s, action) && resourcesMayApply(s, action);

const scopeRank: Record<ResourceScope, number> = { scoped: 0, type: 1, all: 2 };
/** The widest scope among the statement's resources; NotResource and a missing Resource cover (nearly) everything. */
function widestScope(s: Stmt): ResourceScope {
  if (s.notResources || !s.resources) return 'all';
  let widest: ResourceScope = 'scoped';
  for (const r of s.resources) if (scopeRank[resourceScope(r)] > scopeRank[widest]) widest = resourceScope(r);
  return widest;
}
const isBroad = (s: Stmt): boolean => widestScope(s) !== 'scoped';

const isNegated = (operator: string): boolean => /not|null/i.test(operator);
const isIfExists = (operator: string): boolean => /ifexists$/i.test(operator);

/**
 * Whether a condition on one of `keys` really narrows an Allow: a negated operator (StringNotEquals, NotIpAddress),
 * an `…IfExists` operator (absent key → true) or a value of only "*" does not.
 */
function narrowedBy(s: Stmt, keys: (key: string) => boolean): ConditionEntry[] {
  return s.conditions.filter(
    (c) => keys(c.key) && !isNegated(c.operator) && !isIfExists(c.operator) && c.values.some((v) => v.trim() !== '*'),
  );
}
const hasKey = (s: Stmt, key: string): boolean => s.conditions.some((c) => c.key === key);

const principalNarrowingKeys = new Set([
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalaccount',
  'aws:principalarn',
  'aws:sourceaccount',
  'aws:sourcearn',
  'aws:sourceorgid',
  'aws:sourceorgpaths',
  'aws:sourceowner',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceip',
  'aws:userid',
]);
const sourceKeys = new Set(['aws:sourcearn', 'aws:sourceaccount', 'aws:sourceorgid', 'aws:sourceorgpaths', 'aws:sourceowner']);
const isSourceKey = (k: string): boolean =>
  sourceKeys.has(k) || k.startsWith('kms:encryptioncontext:') || k === 'kms:viaservice' || k === 'kms:calleraccount';
const longTermKeyConstraints = new Set([
  'aws:sourceip',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:vpcsourceip',
  'aws:securetransport',
  'aws:multifactorauthpresent',
  'aws:multifactorauthage',
]);
const privateAcls = new Set(['private', 'bucket-owner-full-control']);
/** Multi-tenant OIDC issuers: their `aud` is shared by every customer, only `sub` names yours. */
const multiTenantIssuers = new Set(['token.actions.githubusercontent.com', 'gitlab.com', 'app.terraform.io', 'api.bitbucket.org']);

// Literal patterns (never built from input), linear: no nested quantifiers.
const azNamePattern = /\b[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}(?:-[a-z]{3}-\d)?[a-z]\b/g;
const azIdPattern = /\b[a-z]{3,5}\d{1,2}-az\d{1,2}\b/g;
const subnetPattern = /\bsubnet-(?:[0-9a-f]{17}|[0-9a-f]{8})\b/g;
/** `!Sub '${AWS::Region}a'` — an AZ built from the template's region. */
const regionSuffixPattern = /\{\{AWS\.Region\}\}[a-z]\b/g;

const lower = (s: Severity): Severity =>
  (({ critical: 'high', high: 'medium', medium: 'low', low: 'low', info: 'info' }) as const)[s];
const maxOf = (a: Severity, b: Severity): Severity => (severityRank[a] >= severityRank[b] ? a : b);

/**
 * The kind of a policy from its shape: no Principal → identity; principals with only sts:AssumeRole* /
 * sts:TagSession / sts:SetSourceIdentity actions and no Resource → trust; other principals → resource.
 */
export function inferPolicyKind(doc: PolicyDocument): PolicyKind {
  const withPrincipal = statementsOf(doc).filter((s) => s.Principal !== undefined || s.NotPrincipal !== undefined);
  if (withPrincipal.length === 0) return 'identity';
  const trustAction = (a: string): boolean => /^sts:(assumerole|tagsession|setsourceidentity|setcontext)/i.test(a.trim());
  const trust = withPrincipal.every(
    (s) => s.Resource === undefined && s.NotResource === undefined && (list(s.Action) ?? []).every(trustAction) && s.Action !== undefined,
  );
  return trust ? 'trust' : 'resource';
}

class Findings {
  readonly items: PolicyFinding[] = [];
  add(ruleId: PolicyRuleId, severity: Severity, s: Stmt | undefined, message: string, subjects: string[] = [], fixHint?: string): void {
    this.items.push({
      ruleId,
      severity,
      statementIndex: s ? s.index : null,
      ...(s?.sid !== undefined ? { sid: s.sid } : {}),
      message,
      fixHint: fixHint ?? policyRule(ruleId).fixHint,
      subjects,
    });
  }
}

const quote = (values: string[], max = 5): string =>
  values
    .slice(0, max)
    .map((v) => `"${v}"`)
    .join(', ') + (values.length > max ? ` and ${values.length - max} more` : '');

/**
 * Analyses one IAM policy document and returns its findings (empty when nothing is wrong). Pure: no I/O, no
 * clients; `options.kind` is inferred when absent. Findings carry the statement index and Sid so a caller can point
 * at the statement, and `subjects` (actions, principals, values) for display and suppressions.
 */
export function analyzePolicy(doc: PolicyDocument, options: AnalyzeOptions = {}): PolicyFinding[] {
  const parsed = AnalyzeOptions.safeParse(options);
  if (!parsed.success) throw new ValidationError(`invalid analyzePolicy options: ${formatZodError(parsed.error)}`);
  const opts = parsed.data;
  const kind = opts.kind ?? inferPolicyKind(doc);
  const statements = statementsOf(doc).map(normalize);
  const out = new Findings();
  const known = new Set([...opts.knownAccounts, ...(opts.accountId ? [opts.accountId] : [])]);

  // Document-wide guardrails: a Deny of everything unless from a network/with MFA constrains every Allow, and a Deny of
  // unencrypted uploads (the classic bucket-policy statement) covers every s3:PutObject grant.
  const denyGuard = statements.some(
    (s) =>
      s.effect === 'Deny' &&
      (grantsAllActions(s) || s.notActions !== undefined) &&
      widestScope(s) === 'all' &&
      s.conditions.some((c) => longTermKeyConstraints.has(c.key)),
  );
  const denyUnencryptedPut = statements.some(
    (s) =>
      s.effect === 'Deny' &&
      grants(s, 's3:PutObject') &&
      s.conditions.some((c) => c.key.startsWith('s3:x-amz-server-side-encryption') || c.key === 's3:x-amz-acl'),
  );

  for (const s of statements) {
    checkHardcodedAz(s, out);
    if (s.effect !== 'Allow') continue;
    if (kind === 'identity') checkIdentity(s, out, opts.attachedTo, denyGuard);
    else checkPrincipals(s, kind, out, known);
    if (kind !== 'trust' && !denyUnencryptedPut) checkS3Put(s, kind, out);
  }
  checkVersion(doc, statements, out);
  return out.items;
}

function checkIdentity(s: Stmt, out: Findings, attachedTo: AttachedTo, denyGuard: boolean): void {
  const scope = widestScope(s);
  if (grantsAllActions(s) && scope === 'all') {
    out.add('admin-wildcard', 'critical', s, 'Allow of "*" on "*": full administrator access', ['*']);
    return;
  }
  checkNotElements(s, out);
  const explainedServices = new Set<string>();
  const explainedPatterns = new Set<string>();
  const explain = (action: string): void => {
    for (const p of s.actions ?? []) if (actionMatches(p, action)) explainedPatterns.add(p);
  };

  // Privilege escalation.
  let escalation: Severity | undefined;
  const escalating: string[] = [];
  const selfScoped = (s.resources ?? []).length > 0 && (s.resources ?? []).every((r) => r.includes('${aws:username}'));
  for (const action of directEscalationActions) {
    if (!grantsOn(s, action)) continue;
    // Managing one's own keys is AWS's documented self-service policy; writing one's own policies is not.
    if (selfScoped && selfServiceActions.has(action.toLowerCase())) continue;
    let severity: Severity = scope !== 'scoped' || selfScoped ? 'high' : 'low';
    if (s.conditions.length > 0) severity = lower(severity);
    escalation = escalation ? maxOf(escalation, severity) : severity;
    escalating.push(action);
  }
  if (scope !== 'scoped') {
    for (const action of indirectEscalationActions) {
      // `lambda:*` on "*" is reported by service-wildcard, which says more than one of its actions would.
      const service = action.split(':')[0] ?? '';
      if (!grants(s, action) || (s.actions ?? []).some((p) => wholeServiceOf(p) === service)) continue;
      const severity: Severity = s.conditions.length > 0 ? 'low' : 'medium';
      escalation = escalation ? maxOf(escalation, severity) : severity;
      escalating.push(action);
    }
  }
  if (escalation && escalating.length > 0) {
    const where = selfScoped ? 'on the caller itself (${aws:username})' : scope === 'scoped' ? `on ${quote(s.resources ?? [])}` : 'on any resource';
    const via = (s.actions ?? []).filter((p) => escalating.some((a) => actionMatches(p, a)));
    const named = escalating.slice(0, 4).join(', ') + (escalating.length > 4 ? ` and ${escalating.length - 4} more` : '');
    const grantedBy = s.notActions ? 'NotAction grants' : via.some((p) => escalating.every((a) => a.toLowerCase() !== p.toLowerCase())) ? `${quote(via)} grants` : 'grants';
    out.add(
      'privilege-escalation',
      escalation,
      s,
      `${grantedBy} ${named} ${where}: the holder can grant itself more permissions` +
        (s.conditions.length > 0 ? ' (conditioned, so one level lower)' : ''),
      escalating,
    );
    escalating.forEach(explain);
    if (escalating.some((a) => a.startsWith('iam:'))) explainedServices.add('iam');
  }

  if (scope !== 'scoped' && grants(s, 'iam:PassRole')) {
    const passedTo = narrowedBy(s, (k) => k === 'iam:passedtoservice').length > 0;
    out.add(
      'passrole-wildcard',
      passedTo ? 'medium' : 'high',
      s,
      `iam:PassRole on ${quote(broadResources(s))}: any role can be handed to a service` +
        (passedTo ? ' (limited to the services in iam:PassedToService)' : ''),
      ['iam:PassRole'],
    );
    explain('iam:PassRole');
    explainedServices.add('iam');
  }
  if (scope !== 'scoped' && grants(s, 'sts:AssumeRole')) {
    out.add(
      'assume-role-wildcard',
      s.conditions.length > 0 ? 'medium' : 'high',
      s,
      `sts:AssumeRole on ${quote(broadResources(s))}: every role that trusts this account can be assumed`,
      ['sts:AssumeRole'],
    );
    explain('sts:AssumeRole');
    explainedServices.add('sts');
  }

  // Whole-service wildcards not already explained by a more specific finding.
  const services: string[] = [];
  let serviceSeverity: Severity = 'low';
  for (const p of s.actions ?? []) {
    const service = isAllActions(p) ? '*' : wholeServiceOf(p);
    if (service === undefined || explainedServices.has(service)) {
      if (service !== undefined) explainedPatterns.add(p);
      continue;
    }
    const severity: Severity = scope === 'scoped' ? (service === '*' ? 'medium' : 'low') : highRiskServices.has(service) ? 'high' : 'medium';
    serviceSeverity = maxOf(serviceSeverity, severity);
    services.push(p);
    explainedPatterns.add(p);
  }
  if (services.length > 0) {
    out.add(
      'service-wildcard',
      serviceSeverity,
      s,
      `${quote(services)} on ${quote(scope === 'scoped' ? (s.resources ?? []) : broadResources(s))}: every present and future action of the service`,
      services,
    );
  }

  // Resource "*" for the remaining actions.
  const allResource = (s.resources ?? []).some((r) => resourceScope(r) === 'all');
  if (allResource && s.actions) {
    const rest = s.actions.filter((p) => !explainedPatterns.has(p));
    if (rest.length > 0) {
      const mandated = rest.every(isStarOnly);
      out.add(
        'resource-wildcard',
        mandated ? 'low' : 'medium',
        s,
        mandated
          ? `${quote(rest)} on Resource "*": AWS only authorizes these on "*"; accept with a suppression that says so`
          : `${quote(rest.filter((a) => !isStarOnly(a)))} on Resource "*": applies to every resource in the account`,
        rest,
      );
    }
  }

  if ((attachedTo === 'user' || attachedTo === 'group') && !denyGuard && !s.conditions.some((c) => longTermKeyConstraints.has(c.key))) {
    out.add(
      'missing-condition',
      'low',
      s,
      `${s.conditions.length === 0 ? 'no Condition' : 'no network or MFA condition'} on a policy of an IAM ${attachedTo}: ` +
        'a leaked access key works from anywhere (low: not every workload can be pinned to a network)',
    );
  }
}

function broadResources(s: Stmt): string[] {
  if (s.notResources) return s.notResources.map((r) => `NotResource ${r}`);
  if (!s.resources) return ['*'];
  return s.resources.filter((r) => resourceScope(r) !== 'scoped');
}

function checkNotElements(s: Stmt, out: Findings): void {
  if (s.notActions) {
    out.add(
      'allow-not-action',
      isBroad(s) ? 'high' : 'medium',
      s,
      `Allow with NotAction ${quote(s.notActions)}: grants every other action${isBroad(s) ? ' on every resource' : ''}, future ones included`,
      s.notActions,
    );
  }
  if (s.notResources) {
    const wide = grantsAllActions(s) || s.notActions !== undefined;
    out.add(
      'allow-not-resource',
      wide ? 'high' : 'medium',
      s,
      `Allow with NotResource ${quote(s.notResources)}: the actions apply to every other resource, future ones included`,
      s.notResources,
    );
  }
}

function checkPrincipals(s: Stmt, kind: PolicyKind, out: Findings, known: Set<string>): void {
  checkNotElements(s, out);
  if (s.notPrincipal) {
    out.add('allow-not-principal', 'high', s, 'Allow with NotPrincipal: every principal except the listed ones, anonymous ones included', s.notPrincipal.aws);
  }
  const p = s.principal;
  if (!p) return;
  const assumes = grants(s, 'sts:AssumeRole');

  if (p.wildcard) {
    const narrowing = narrowedBy(s, (k) => principalNarrowingKeys.has(k));
    const severity: Severity = narrowing.length > 0 ? 'low' : kind === 'trust' ? 'critical' : 'high';
    out.add(
      'principal-wildcard',
      severity,
      s,
      narrowing.length > 0
        ? `Principal "*" narrowed by ${quote(narrowing.map((c) => c.key))}; check the condition values`
        : kind === 'trust'
          ? 'Principal "*" in a trust policy: anyone in any AWS account can assume this role'
          : 'Principal "*": every AWS account, and anonymous callers where the service allows them',
      ['*'],
    );
  }

  const orgNarrowed = narrowedBy(s, (k) => k === 'aws:principalorgid' || k === 'aws:principalorgpaths').length > 0;
  const unknown: string[] = [];
  const thirdParty: string[] = [];
  for (const principal of p.aws) {
    const account = principalAccount(principal);
    if (account.kind !== 'account' || known.has(account.account)) continue;
    unknown.push(principal);
    thirdParty.push(principal);
  }
  if (unknown.length > 0 && !orgNarrowed) {
    const haveList = known.size > 0;
    out.add(
      'principal-unknown-account',
      haveList ? 'high' : 'info',
      s,
      haveList
        ? `${quote(unknown)} ${unknown.length > 1 ? 'are' : 'is'} in an account outside the known accounts`
        : `cross-account access for ${quote(unknown)}; give the known accounts to check them`,
      unknown,
    );
  }
  if (kind === 'trust' && assumes && thirdParty.length > 0 && !orgNarrowed && !hasKey(s, 'sts:externalid')) {
    out.add(
      'trust-missing-external-id',
      'medium',
      s,
      `${quote(thirdParty)} may assume the role without an sts:ExternalId condition`,
      thirdParty,
    );
  }

  if (kind === 'trust') {
    for (const provider of p.federated) {
      if (provider.includes(':saml-provider/')) continue;
      const issuer = provider.includes(':oidc-provider/') ? provider.slice(provider.indexOf(':oidc-provider/') + ':oidc-provider/'.length) : provider;
      const prefix = `${issuer.toLowerCase()}:`;
      const onIssuer = narrowedBy(s, (k) => k.startsWith(prefix));
      const sub = onIssuer.filter((c) => c.key === `${prefix}sub`);
      const needsSub = multiTenantIssuers.has(issuer.toLowerCase());
      const openSub = sub.length > 0 && sub.every((c) => c.values.every((v) => /^[^:]*:?\*$/.test(v.trim())));
      if ((needsSub && sub.length === 0) || onIssuer.length === 0 || openSub) {
        out.add(
          'trust-oidc-unscoped',
          'high',
          s,
          `web-identity trust for ${issuer} without a condition on ${needsSub || openSub ? `${issuer}:sub` : `the ${issuer} token claims`}: ` +
            'tokens of other tenants of that provider can assume the role',
          [provider],
        );
      }
    }
  }

  if (kind === 'resource' && p.service.length > 0 && narrowedBy(s, isSourceKey).length === 0) {
    out.add(
      'service-principal-no-source',
      'medium',
      s,
      `${quote(p.service)} ${p.service.length > 1 ? 'are' : 'is'} allowed without aws:SourceArn or aws:SourceAccount: the service would act for any AWS account (confused deputy)`,
      p.service,
    );
  }
}

function checkS3Put(s: Stmt, kind: PolicyKind, out: Findings): void {
  // A resource policy's "*" is about its own service (a queue, a key), so only an explicit s3 pattern counts there.
  const putGranted =
    kind === 'identity'
      ? grantsOn(s, 's3:PutObject') && !(grantsAllActions(s) && widestScope(s) === 'all')
      : (s.actions ?? []).some((p) => !isAllActions(p) && actionMatches(p, 's3:PutObject'));
  // PutObject applies to objects (`bucket/key`); a statement on bucket ARNs only (`arn:aws:s3:::b`) writes none.
  const mayBeObject = (r: string): boolean => {
    const arn = parseArn(r.trim());
    return !arn || arn.service !== 's3' || arn.resource.includes('/') || arn.resource.includes('*');
  };
  if (!putGranted || (s.resources && !s.resources.some(mayBeObject))) return;
  const encryption = s.conditions.some((c) => c.key.startsWith('s3:x-amz-server-side-encryption'));
  const privateAcl = s.conditions.some(
    (c) => c.key === 's3:x-amz-acl' && !isNegated(c.operator) && c.values.length > 0 && c.values.every((v) => privateAcls.has(v.trim())),
  );
  if (encryption || privateAcl) return;
  out.add(
    's3-put-without-encryption',
    kind === 'resource' ? 'medium' : 'low',
    s,
    's3:PutObject without an s3:x-amz-server-side-encryption or private s3:x-amz-acl condition: writers pick the encryption and may set a public ACL',
    ['s3:PutObject'],
  );
}

function checkHardcodedAz(s: Stmt, out: Findings): void {
  const values = [
    ...(s.resources ?? []),
    ...(s.notResources ?? []),
    ...s.conditions.flatMap((c) => c.values),
  ];
  const hits = new Set<string>();
  for (const value of values) {
    for (const pattern of [azNamePattern, azIdPattern, subnetPattern, regionSuffixPattern]) {
      for (const m of value.matchAll(pattern)) hits.add(m[0]);
    }
  }
  if (hits.size === 0) return;
  out.add(
    'hardcoded-az',
    'medium',
    s,
    `hard-coded Availability Zone or subnet ${quote([...hits])}: breaks (or leaves a gap) when the Region gains an AZ or the network changes`,
    [...hits],
  );
}

function checkVersion(doc: PolicyDocument, statements: Stmt[], out: Findings): void {
  if (doc.Version === '2012-10-17') return;
  const usesVariables = statements.some((s) =>
    [...(s.resources ?? []), ...(s.notResources ?? []), ...s.conditions.flatMap((c) => c.values)].some((v) => /\$\{[^}]+\}/.test(v)),
  );
  out.add(
    'policy-version',
    usesVariables ? 'medium' : 'low',
    undefined,
    doc.Version === undefined
      ? `no Version: IAM applies the 2008-10-17 grammar${usesVariables ? ', so the policy variables (${…}) are literal text and never match' : ''}`
      : `Version 2008-10-17${usesVariables ? ': the policy variables (${…}) are literal text and never match' : ' is the legacy grammar'}`,
  );
}

/** The highest severity among findings (undefined for none): what a detection rule raises its alert to. */
export function maxSeverity(findings: readonly PolicyFinding[]): Severity | undefined {
  let max: Severity | undefined;
  for (const f of findings) max = max === undefined ? f.severity : maxOf(max, f.severity);
  return max;
}
