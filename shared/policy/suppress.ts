import { z } from 'zod';
import { PolicyRuleId } from './schema';
import { wildcardMatch } from './wildcard';

/**
 * A deliberate acceptance of a finding, with the reason for it. The same shape is used in an allow file
 * (`--allow`, default `.vigil-policy-allow.yaml`) and in a CloudFormation resource's `Metadata.vigil.ignore` (the
 * cfn-nag / checkov convention, which survives `serverless package`). Every selector given must match; `subjects`
 * must cover every action/principal/value of the finding, so a suppression for `ec2:DescribeRegions` on "*" does not
 * also accept a `dynamodb:DeleteItem` added to the same statement later.
 */
export const Suppression = z.strictObject({
  rule: PolicyRuleId,
  reason: z.string().trim().min(1, 'a suppression needs a reason'),
  /** Glob on the file path as vigil prints it (relative, "/"-separated). */
  file: z.string().min(1).optional(),
  /** Glob on the CloudFormation logical id or serverless function name. */
  resource: z.string().min(1).optional(),
  sid: z.string().min(1).optional(),
  statement: z.number().int().nonnegative().optional(),
  subjects: z.array(z.string().min(1)).min(1).optional(),
});
export type Suppression = z.infer<typeof Suppression>;

export const AllowFile = z.strictObject({ ignore: z.array(Suppression) });
export type AllowFile = z.infer<typeof AllowFile>;

export interface SuppressionContext {
  ruleId: string;
  file: string;
  resource: string;
  sid?: string;
  statementIndex: number | null;
  subjects: string[];
}

const globMatch = (pattern: string, value: string): boolean => wildcardMatch(pattern, value);

export function suppressionMatches(s: Suppression, f: SuppressionContext): boolean {
  if (s.rule !== f.ruleId) return false;
  if (s.file !== undefined && !globMatch(s.file, f.file)) return false;
  if (s.resource !== undefined && !globMatch(s.resource, f.resource)) return false;
  if (s.sid !== undefined && s.sid !== f.sid) return false;
  if (s.statement !== undefined && s.statement !== f.statementIndex) return false;
  if (s.subjects !== undefined) {
    const patterns = s.subjects.map((p) => p.toLowerCase());
    if (!f.subjects.every((subject) => patterns.some((p) => wildcardMatch(p, subject.toLowerCase())))) return false;
  }
  return true;
}
