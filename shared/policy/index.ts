/**
 * IAM policy-document analysis: the library behind `vigil policy lint` and the `iam-policy-change` detection rule.
 *
 *   const parsed = safeParsePolicyDocument(record.requestParameters.policyDocument); // plain or URL-encoded JSON
 *   if (parsed.ok) {
 *     const findings = analyzePolicy(parsed.document, { kind: 'trust', knownAccounts, accountId });
 *     const severity = maxSeverity(findings); // undefined when clean
 *   }
 *   managedPolicyRisk('arn:aws:iam::aws:policy/AdministratorAccess'); // { name, severity: 'high', reason }
 */
export { analyzePolicy, inferPolicyKind, maxSeverity } from './analyze';
export { managedPolicyRisk, isAwsManagedPolicyArn, type ManagedPolicyRisk } from './managed-policies';
export {
  decodePolicyText,
  parsePolicyDocument,
  safeParsePolicyDocument,
  statementsOf,
  validatePolicyDocument,
  type PolicyParseResult,
} from './parse';
export { policyRule, policyRules, type PolicyRuleMeta } from './rules';
export {
  AccountId,
  AnalyzeOptions,
  AttachedTo,
  Condition,
  PolicyDocument,
  PolicyFinding,
  PolicyKind,
  PolicyRuleId,
  Principal,
  Statement,
  type Finding,
} from './schema';
export { actionMatches, wildcardMatch } from './wildcard';
