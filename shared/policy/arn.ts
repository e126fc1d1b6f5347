/**
 * ARN helpers. Values taken from CloudFormation templates may hold intrinsic placeholders such as
 * `{{AWS.AccountId}}` (see `intrinsics.ts`); they contain no `:` so ARNs still split into their six fields.
 */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the fifth colon (resource type and id, which may contain further colons). */
  resource: string;
}

export function parseArn(value: string): Arn | undefined {
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition = '', service = '', region = '', account = ''] = parts;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

/** The marker `intrinsics.ts` renders for `${AWS::AccountId}`: the template's own account. */
export const selfAccountMarker = '{{AWS.AccountId}}';

export const isAccountId = (value: string): boolean => /^\d{12}$/.test(value);

/**
 * How much a Resource element covers: every resource (`*`, `arn:aws:s3:::*`), every resource of one type in an
 * account (`arn:aws:iam::123456789012:role/*`), or something narrower.
 */
export type ResourceScope = 'all' | 'type' | 'scoped';

export function resourceScope(resource: string): ResourceScope {
  const r = resource.trim();
  if (r === '*') return 'all';
  const arn = parseArn(r);
  if (!arn) return 'scoped';
  if (arn.service.includes('*') || arn.resource === '' || arn.resource.startsWith('*')) return 'all';
  // S3 ARNs are `bucket/key`: `my-bucket/*` is every object of one named bucket, not a resource type.
  if (arn.service === 's3') return 'scoped';
  // `role/*`, `user/*`, `function:*`, `table/*`: a type name, one separator, then nothing but the wildcard.
  const sep = arn.resource.search(/[/:]/);
  if (sep > 0 && !arn.resource.slice(0, sep).includes('*') && arn.resource.slice(sep + 1) === '*') return 'type';
  return 'scoped';
}

export type PrincipalAccount = { kind: 'account'; account: string } | { kind: 'self' } | { kind: 'unresolved' };

/**
 * The account of an `AWS` principal: a bare account id, `arn:aws:iam::123456789012:root`, a role/user ARN or an
 * assumed-role session ARN. Template placeholders for the own account resolve to `self`; other placeholders (a
 * `Ref` to a parameter) and unique ids (`AROA…`, left behind when the principal was deleted) are `unresolved`.
 */
export function principalAccount(principal: string): PrincipalAccount {
  const p = principal.trim();
  if (isAccountId(p)) return { kind: 'account', account: p };
  const arn = parseArn(p);
  if (!arn) return { kind: 'unresolved' };
  if (isAccountId(arn.account)) return { kind: 'account', account: arn.account };
  if (arn.account === selfAccountMarker) return { kind: 'self' };
  return { kind: 'unresolved' };
}
