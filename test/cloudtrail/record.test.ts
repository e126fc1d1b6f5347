import { describe, expect, it } from 'vitest';
import { z } from 'zod/mini';
import { compileGuard } from '../../shared/cloudtrail/fast-guard';
import { CloudTrailRecord } from '../../shared/cloudtrail/record';
import { isCloudTrailRecord } from '../../shared/cloudtrail/reader';
import { allStratusRecords, prng } from './helpers';

/** Replaces one value somewhere in a copy of `value` by `replacement` (path chosen by the PRNG). */
function mutate(value: unknown, rand: () => number, replacement: unknown): unknown {
  if (typeof value !== 'object' || value === null) return replacement;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0 || rand() < 0.25) return replacement;
  const k = keys[Math.floor(rand() * keys.length)]!;
  (copy as Record<string, unknown>)[k] = mutate((copy as Record<string, unknown>)[k], rand, replacement);
  return copy;
}

describe('the record schema and its compiled guard', () => {
  const records = allStratusRecords();

  it('accepts every real record', () => {
    expect(records).toHaveLength(310);
    for (const r of records) {
      expect(CloudTrailRecord.safeParse(r).success).toBe(true);
      expect(isCloudTrailRecord(r)).toBe(true);
    }
  });

  it('agrees with zod safeParse on thousands of mutated records', () => {
    const rand = prng(42);
    const replacements: unknown[] = [42, 'text', null, true, false, [], {}, [1], { a: 1 }, undefined, Number.NaN, -1.5];
    let rejected = 0;
    for (let i = 0; i < 5000; i++) {
      const base = records[Math.floor(rand() * records.length)];
      const replacement = replacements[Math.floor(rand() * replacements.length)];
      const candidate = mutate(base, rand, replacement);
      const expected = CloudTrailRecord.safeParse(candidate).success;
      expect(isCloudTrailRecord(candidate), String(JSON.stringify(candidate)).slice(0, 300)).toBe(expected);
      if (!expected) rejected++;
    }
    // The mutations must exercise both outcomes.
    expect(rejected).toBeGreaterThan(500);
    expect(rejected).toBeLessThan(4500);
  });

  it('rejects what is not an object and records missing the required fields', () => {
    for (const v of [null, 1, 'x', [], [{}]]) expect(isCloudTrailRecord(v)).toBe(false);
    expect(isCloudTrailRecord({ eventTime: 't', eventSource: 's' })).toBe(false);
    expect(isCloudTrailRecord({ eventTime: 't', eventSource: 's', eventName: 'n' })).toBe(true);
    expect(isCloudTrailRecord({ eventTime: 't', eventSource: 's', eventName: 'n', userIdentity: { sessionContext: { attributes: { mfaAuthenticated: true } } } })).toBe(true);
    expect(isCloudTrailRecord({ eventTime: 't', eventSource: 's', eventName: 'n', requestParameters: [] })).toBe(false);
  });

  it('refuses to compile what it cannot mirror exactly', () => {
    expect(() => compileGuard(z.object({ a: z.string() }))).toThrow(/loose objects/);
    expect(() => compileGuard(z.looseObject({ a: z.string().check(z.minLength(2)) }))).toThrow(/checks/);
    expect(() => compileGuard(z.looseObject({ a: z.array(z.string()) }))).toThrow(/unsupported/);
  });
});
