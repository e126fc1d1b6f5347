import { describe, expect, it } from 'vitest';
import { isAllActions, wholeServiceOf } from '../../shared/policy/wildcard';
import { actionMatches, wildcardMatch } from '../../shared/policy';
import { resourceScope, principalAccount } from '../../shared/policy/arn';

describe('IAM wildcard matching', () => {
  it.each([
    ['*', 'iam:PassRole', true],
    ['iam:*', 'iam:PassRole', true],
    ['iam:*', 'iamx:PassRole', false],
    ['s3:Put*', 's3:PutObject', true],
    ['s3:Put*', 's3:GetObject', false],
    ['s3:*Object', 's3:PutObject', true],
    ['s3:*Object', 's3:PutObjectAcl', false],
    ['ec2:Describe?nstances', 'ec2:DescribeInstances', true],
    ['S3:PUTOBJECT', 's3:PutObject', true],
    ['iam:passrole', 'iam:PassRole', true],
    ['s3:PutObject', 's3:PutObjectAcl', false],
    ['*:*', 'kms:Decrypt', true],
  ])('%s matches %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });

  it('treats regex metacharacters in policies as literal text', () => {
    expect(wildcardMatch('s3:Get.bject', 's3:GetObject')).toBe(false);
    expect(wildcardMatch('a+(b)[c]^$|', 'a+(b)[c]^$|')).toBe(true);
    expect(wildcardMatch('a.*', 'abc')).toBe(false);
  });

  it('stays fast on patterns that make backtracking regexes explode', () => {
    const pattern = `${'*a'.repeat(30)}b`;
    const text = 'a'.repeat(5000);
    const start = performance.now();
    expect(wildcardMatch(pattern, text)).toBe(false);
    // Not a timing test of the normal path: an exponential matcher would not return at all.
    expect(performance.now() - start).toBeLessThan(5000);
  });

  it('recognises all-action and whole-service patterns', () => {
    expect(isAllActions('*')).toBe(true);
    expect(isAllActions('*:*')).toBe(true);
    expect(isAllActions('s3:*')).toBe(false);
    expect(wholeServiceOf('IAM:*')).toBe('iam');
    expect(wholeServiceOf('s3:Put*')).toBeUndefined();
    expect(wholeServiceOf('*')).toBeUndefined();
  });
});

describe('resource scope', () => {
  it.each([
    ['*', 'all'],
    ['arn:aws:s3:::*', 'all'],
    ['arn:aws:s3:::*/*', 'all'],
    ['arn:aws:*:*:*:*', 'all'],
    ['arn:aws:iam::111122223333:role/*', 'type'],
    ['arn:aws:iam::*:user/*', 'type'],
    ['arn:aws:lambda:us-east-1:111122223333:function:*', 'type'],
    ['arn:aws:s3:::my-bucket/*', 'scoped'],
    ['arn:aws:iam::111122223333:role/service-role/*', 'scoped'],
    ['arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/*', 'scoped'],
    ['{{Table.Arn}}', 'scoped'],
  ])('%s is %s', (resource, scope) => {
    expect(resourceScope(resource)).toBe(scope);
  });
});

describe('principal accounts', () => {
  it('reads bare ids, root, role and session ARNs; placeholders are self or unresolved', () => {
    expect(principalAccount('444455556666')).toEqual({ kind: 'account', account: '444455556666' });
    expect(principalAccount('arn:aws:iam::444455556666:root')).toEqual({ kind: 'account', account: '444455556666' });
    expect(principalAccount('arn:aws-us-gov:sts::444455556666:assumed-role/x/y')).toEqual({ kind: 'account', account: '444455556666' });
    expect(principalAccount('arn:aws:iam::{{AWS.AccountId}}:root')).toEqual({ kind: 'self' });
    expect(principalAccount('{{PartnerAccount}}')).toEqual({ kind: 'unresolved' });
    expect(principalAccount('AROAEXAMPLEUNIQUEID12')).toEqual({ kind: 'unresolved' });
  });
});
