import { z } from 'zod';
import { Severity } from '../alerts/schema';

/**
 * IAM policy documents as AWS accepts them (identity, resource and trust policies). The schemas are strict because
 * IAM itself rejects unknown elements: a document that fails here is one AWS would not store, so a parse error is a
 * real finding about the input, not a gap in the schema.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */

/** One value or a list: every multi-valued IAM element accepts both spellings. */
const OneOrMany = z.union([z.string(), z.array(z.string())]);

export const PrincipalMap = z.strictObject({
  AWS: OneOrMany.optional(),
  Service: OneOrMany.optional(),
  Federated: OneOrMany.optional(),
  CanonicalUser: OneOrMany.optional(),
});

/** `"*"` (everyone, signed or anonymous) or a map of principal types. */
export const Principal = z.union([z.literal('*'), PrincipalMap]);
export type Principal = z.infer<typeof Principal>;

const ConditionValue = z.union([z.string(), z.number(), z.boolean()]);
/**
 * `{ operator: { key: value | values } }`. Operators carry set qualifiers (`ForAnyValue:`) and the `IfExists`
 * suffix, so they are kept as strings; keys are case-insensitive in IAM and are compared lower-cased by the analyzer.
 */
export const Condition = z.record(
  z.string().min(1),
  z.record(z.string().min(1), z.union([ConditionValue, z.array(ConditionValue)])),
);
export type Condition = z.infer<typeof Condition>;

export const Statement = z
  .strictObject({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny'], { error: 'Effect must be "Allow" or "Deny" (case-sensitive)' }),
    Principal: Principal.optional(),
    NotPrincipal: Principal.optional(),
    Action: OneOrMany.optional(),
    NotAction: OneOrMany.optional(),
    Resource: OneOrMany.optional(),
    NotResource: OneOrMany.optional(),
    Condition: Condition.optional(),
  })
  .superRefine((s, ctx) => {
    const exclusive = [
      ['Action', 'NotAction'],
      ['Resource', 'NotResource'],
      ['Principal', 'NotPrincipal'],
    ] as const;
    for (const [a, b] of exclusive) {
      if (s[a] !== undefined && s[b] !== undefined) {
        ctx.addIssue({ code: 'custom', message: `a statement takes ${a} or ${b}, not both` });
      }
    }
    if (s.Action === undefined && s.NotAction === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a statement needs Action or NotAction' });
    }
  });
export type Statement = z.infer<typeof Statement>;

export const PolicyDocument = z.strictObject({
  Version: z
    .enum(['2012-10-17', '2008-10-17'], { error: 'Version must be "2012-10-17" (or the legacy "2008-10-17")' })
    .optional(),
  Id: z.string().optional(),
  // IAM accepts one statement object or a list; parsed documents always carry the list (index 0 for the object).
  Statement: z.preprocess((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? [v] : v), z.array(Statement)),
});
export type PolicyDocument = z.infer<typeof PolicyDocument>;

/**
 * identity: attached to a user, group or role (no Principal). resource: on a bucket, queue, topic, key… (has
 * Principal). trust: a role's AssumeRolePolicyDocument (Principal + sts:AssumeRole*, no Resource).
 */
export const PolicyKind = z.enum(['identity', 'resource', 'trust']);
export type PolicyKind = z.infer<typeof PolicyKind>;

/** Who holds an identity policy; long-term access keys only exist for users (and so their groups). */
export const AttachedTo = z.enum(['user', 'group', 'role', 'unknown']);
export type AttachedTo = z.infer<typeof AttachedTo>;

export const AccountId = z.string().regex(/^\d{12}$/, 'an AWS account id is 12 digits');

export const AnalyzeOptions = z.strictObject({
  /** Inferred from the document when absent (see `inferPolicyKind`). */
  kind: PolicyKind.optional(),
  /** The account the policy lives in; it always counts as known. */
  accountId: AccountId.optional(),
  /** Accounts you own or trust (your organization's). When given, any other account in a Principal is reported. */
  knownAccounts: z.array(AccountId).default([]),
  /** For identity policies: who the policy is attached to, which decides the long-term-key checks. */
  attachedTo: AttachedTo.default('unknown'),
});
export type AnalyzeOptions = z.input<typeof AnalyzeOptions>;

export const PolicyRuleId = z.enum([
  'admin-wildcard',
  'allow-not-action',
  'allow-not-resource',
  'allow-not-principal',
  'privilege-escalation',
  'passrole-wildcard',
  'assume-role-wildcard',
  'service-wildcard',
  'resource-wildcard',
  'missing-condition',
  's3-put-without-encryption',
  'principal-wildcard',
  'principal-unknown-account',
  'trust-missing-external-id',
  'trust-oidc-unscoped',
  'service-principal-no-source',
  'hardcoded-az',
  'policy-version',
  'managed-policy-risk',
]);
export type PolicyRuleId = z.infer<typeof PolicyRuleId>;

export const PolicyFinding = z.object({
  ruleId: PolicyRuleId,
  severity: Severity,
  /** Index into the document's Statement list (0 when Statement is a single object); null for document-level findings. */
  statementIndex: z.number().int().nonnegative().nullable(),
  sid: z.string().optional(),
  message: z.string(),
  fixHint: z.string(),
  /** The actions, principals or values the finding is about, for display and for suppressions that name them. */
  subjects: z.array(z.string()).default([]),
});
export type PolicyFinding = z.infer<typeof PolicyFinding>;
/** The name the issue uses; same type. */
export type Finding = PolicyFinding;
