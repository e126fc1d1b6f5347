import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/alerts/schema';
import { CloudTrailRecord } from '../../shared/cloudtrail/record';
import { isCloudTrailRecord } from '../../shared/cloudtrail/reader';
import { DetectionConfig } from '../../shared/config/detection';
import { silentLogger } from '../../shared/core/deps';
import { createEngine } from '../../shared/rules/engine/engine';
import { RuleMetadata } from '../../shared/rules/engine/metadata';
import type { AnyRuleModule, RuleExample } from '../../shared/rules/engine/types';
import { rules } from '../../shared/rules/registry';
import { repoRoot } from '../support/shared-data';

const rulesDir = path.join(repoRoot, 'shared/rules');

/** Runs one example through the real engine with only its rule, as the Lambda would. */
export function runExample(rule: AnyRuleModule, example: RuleExample): Alert[] {
  const config = DetectionConfig.parse(example.config ?? {});
  const engine = createEngine({ config, rules: [rule], logger: silentLogger });
  const file = engine.beginFile({ key: `examples/${rule.id}.json` });
  file.evaluate(example.record);
  const { alerts, stats } = file.finish();
  expect(stats.ruleErrors, 'the rule threw').toEqual({});
  return alerts;
}

describe('rule registry', () => {
  it('lists exactly the rule files of shared/rules, each id equal to its file name', () => {
    const files = readdirSync(rulesDir)
      .filter((f) => f.endsWith('.ts') && f !== 'registry.ts')
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(rules.map((r) => r.id).sort()).toEqual(files);
  });

  it('has unique ids', () => {
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  for (const rule of rules) {
    describe(rule.id, () => {
      it('has complete metadata with known categories', () => {
        const result = RuleMetadata.safeParse(rule);
        expect(result.success, result.success ? '' : JSON.stringify(result.error.issues)).toBe(true);
      });

      it('has at least two examples that match and two that do not', () => {
        expect(rule.examples.match.length).toBeGreaterThanOrEqual(2);
        expect(rule.examples.noMatch.length).toBeGreaterThanOrEqual(2);
      });

      for (const example of rule.examples.match) {
        it(`matches: ${example.name}`, () => {
          expect(CloudTrailRecord.safeParse(example.record).success).toBe(true);
          expect(isCloudTrailRecord(example.record)).toBe(true);
          const alerts = runExample(rule, example);
          expect(alerts).toHaveLength(1);
          const alert = alerts[0]!;
          expect(alert.ruleId).toBe(rule.id);
          expect(alert.categories).toEqual([...rule.categories]);
          if (example.expect?.severity) expect(alert.severity).toBe(example.expect.severity);
          if (example.expect?.title) expect(alert.title).toContain(example.expect.title);
          if (example.expect?.dedupKey) {
            expect(alert.dedupKey).toBe(`${rule.id}|${alert.account}|${example.expect.dedupKey}`);
          }
        });
      }

      for (const example of rule.examples.noMatch) {
        it(`does not match: ${example.name}`, () => {
          expect(isCloudTrailRecord(example.record)).toBe(true);
          expect(runExample(rule, example)).toEqual([]);
        });
      }
    });
  }
});
