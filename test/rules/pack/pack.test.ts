import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsServiceOf } from '../../../shared/rules/lib/aws-callers';
import { RULE_CATEGORIES } from '../../../shared/rules/engine/categories';
import { succeeded } from '../../../shared/cloudtrail/helpers';
import { rules } from '../../../shared/rules/registry';
import { repoRoot } from '../../support/shared-data';
import { alertsOf } from './run';

// The three rules of the CloudTrail issue; everything else is the pack.
const ENGINE_RULES = new Set(['cloudtrail-tampering', 'root-account-usage', 'off-hours-api-call']);
const pack = rules.filter((r) => !ENGINE_RULES.has(r.id));

// Rules that look at every record must stay cheap (the engine runs them on every record); this is the whole list.
const EVERY_RECORD = ['foreign-source-ip', 'off-hours-api-call', 'root-account-usage', 'unauthorized-api-call', 'unused-region'];

// Where an AWS-service example makes no sense: sign-ins are never made by a service.
const NO_SERVICE_CALLER = new Set(['console-login-no-mfa', 'console-login-failure']);

describe('the rule pack as a whole', () => {
  it('covers every category with at least one rule', () => {
    for (const category of RULE_CATEGORIES) {
      expect(rules.filter((r) => r.categories.includes(category)).map((r) => r.id), category).not.toEqual([]);
    }
  });

  it('explains the dedup key of every rule in docs/rule-pack.md', () => {
    const guide = readFileSync(path.join(repoRoot, 'docs/rule-pack.md'), 'utf8');
    const section = guide.slice(guide.indexOf('## Dedup keys'), guide.indexOf('## Test data'));
    const rows = [...section.matchAll(/^\| ([a-z0-9-]+) \|/gm)].map((m) => m[1]).filter((id) => id !== 'rule');
    expect(rows.sort()).toEqual(rules.map((r) => r.id).sort());
  });

  it('looks at every record only in the few rules that must', () => {
    expect(rules.filter((r) => r.events === 'all').map((r) => r.id).sort()).toEqual(EVERY_RECORD);
  });

  for (const rule of pack) {
    describe(rule.id, () => {
      it('decides its own title, severity and dedup key', () => {
        expect(typeof rule.alertTitle).toBe('function');
        expect(typeof rule.severityFor).toBe('function');
        expect(typeof rule.dedupKey).toBe('function');
      });

      it('has options whose defaults parse (documented in docs/rules.md)', () => {
        if (rule.options) expect(rule.options.safeParse({}).success).toBe(true);
      });

      it('has a failed call among its examples', () => {
        const all = [...rule.examples.match, ...rule.examples.noMatch];
        expect(all.some((e) => !succeeded(e.record))).toBe(true);
      });

      if (!NO_SERVICE_CALLER.has(rule.id)) {
        it('has an AWS-service call among its examples, and says so when it alerts on one', () => {
          const all = [...rule.examples.match, ...rule.examples.noMatch];
          const byService = all.filter((e) => awsServiceOf(e.record) !== undefined);
          expect(byService.length).toBeGreaterThan(0);
          for (const e of rule.examples.match.filter((m) => awsServiceOf(m.record) !== undefined)) {
            expect(alertsOf(rule, e)[0]!.title).toContain(`via ${awsServiceOf(e.record)}`);
          }
        });
      }

      it('never throws on a record with every optional field missing', () => {
        for (const e of [...rule.examples.match, ...rule.examples.noMatch]) {
          const bare = { eventTime: e.record.eventTime, eventSource: e.record.eventSource, eventName: e.record.eventName };
          alertsOf(rule, { record: bare, ...(e.config ? { config: e.config } : {}) });
          const odd = { ...e.record, requestParameters: { weird: [1, { items: 'x' }], ipPermissions: 'x', policyDocument: 42 } };
          alertsOf(rule, { record: odd, ...(e.config ? { config: e.config } : {}) });
        }
      });
    });
  }
});
