import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyRules } from '../../shared/policy';
import { repoRoot } from '../support/shared-data';

describe('docs/security.md', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs/security.md'), 'utf8');

  it('lists every policy rule with its current severity', () => {
    for (const rule of policyRules) {
      expect(doc).toContain(`| \`${rule.id}\` | ${rule.severity} | ${rule.appliesTo.join(', ')} |`);
    }
  });
});
