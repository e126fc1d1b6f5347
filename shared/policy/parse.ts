import type { z } from 'zod';
import { ValidationError } from '../core/errors';
import { PolicyDocument, type Statement } from './schema';

/** Larger than any document IAM, S3, SQS, SNS or KMS accept (S3's 20 KB is the largest); anything bigger is hostile. */
export const maxPolicyChars = 1_000_000;

/** `Statement[1].Principal.AWS` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function formatZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const where = formatPath(issue.path);
      return where === '' ? issue.message : `${where}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Decodes the text of a policy as CloudTrail and the IAM API carry it: plain JSON (`policyDocument` of
 * CreatePolicy/PutUserPolicy request parameters) or URL-encoded JSON (`assumeRolePolicyDocument` in CreateRole
 * response elements, GetRolePolicy/GetPolicyVersion output).
 */
export function decodePolicyText(text: string): unknown {
  if (text.length > maxPolicyChars) {
    throw new ValidationError(`policy document is ${text.length} characters; the limit is ${maxPolicyChars}`);
  }
  let json = text.replace(/^\uFEFF/, '').trim();
  if (/^%7B/i.test(json)) {
    try {
      json = decodeURIComponent(json).trim();
    } catch (cause) {
      throw new ValidationError('policy document looks URL-encoded but has an invalid %-escape', { cause });
    }
  }
  if (!json.startsWith('{')) {
    throw new ValidationError('policy document is neither a JSON object nor URL-encoded JSON (expected "{" or "%7B")');
  }
  try {
    return JSON.parse(json) as unknown;
  } catch (cause) {
    throw new ValidationError(`policy document is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** Validates an already-decoded value (e.g. a PolicyDocument property of a CloudFormation template). */
export function validatePolicyDocument(value: unknown): PolicyDocument {
  const parsed = PolicyDocument.safeParse(value);
  if (!parsed.success) throw new ValidationError(`invalid policy document: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/** Parses a policy from its text (plain or URL-encoded JSON) or from a decoded object. Throws ValidationError. */
export function parsePolicyDocument(input: unknown): PolicyDocument {
  return validatePolicyDocument(typeof input === 'string' ? decodePolicyText(input) : input);
}

export type PolicyParseResult = { ok: true; document: PolicyDocument } | { ok: false; error: string };

/** The non-throwing form, for detection rules that must keep going on a malformed request parameter. */
export function safeParsePolicyDocument(input: unknown): PolicyParseResult {
  try {
    return { ok: true, document: parsePolicyDocument(input) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The statements of a parsed document (a single-object Statement is already a one-item list). */
export const statementsOf = (doc: PolicyDocument): Statement[] => doc.Statement;
