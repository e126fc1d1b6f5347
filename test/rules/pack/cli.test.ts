import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Severity } from '../../../shared/alerts/schema';
import { renderRulesMarkdown } from '../../../shared/cli/rules';
import { RuleCategory } from '../../../shared/rules/engine/categories';
import { rules } from '../../../shared/rules/registry';
import { repoRoot } from '../../support/shared-data';
import { vigil } from './run';

const ListedRule = z.object({
  id: z.string(),
  title: z.string(),
  severity: Severity,
  categories: z.array(RuleCategory).min(1),
  events: z.union([z.literal('all'), z.array(z.object({ source: z.string(), names: z.array(z.string()).min(1) })).min(1)]),
  requires: z.array(z.string()),
  threshold: z.number().int().min(1),
  options: z.array(z.object({ name: z.string(), type: z.string(), default: z.unknown().optional(), description: z.string().optional() })),
});

describe('vigil rules', () => {
  it('list --format json: id, title, severity, categories and events of every rule', async () => {
    const { code, stdout } = await vigil(['rules', 'list', '--format', 'json']);
    expect(code).toBe(0);
    const listed = z.array(ListedRule).parse(JSON.parse(stdout));
    expect(listed.map((r) => r.id)).toEqual(rules.map((r) => r.id).sort());
    const sg = listed.find((r) => r.id === 'security-group-change')!;
    expect(sg).toMatchObject({ severity: 'medium', categories: ['security-group-change'], threshold: 1 });
    expect(sg.events).toEqual([expect.objectContaining({ source: 'ec2.amazonaws.com', names: expect.arrayContaining(['AuthorizeSecurityGroupIngress']) })]);
    expect(sg.options).toContainEqual({ name: 'worldOpenMaxPrefix', type: 'integer 0–32', default: 0, description: expect.stringContaining('/0') });
    expect(listed.find((r) => r.id === 'foreign-source-ip')).toMatchObject({ events: 'all', requires: ['allowedSourceCidrs'] });
    expect(listed.find((r) => r.id === 'console-login-failure')).toMatchObject({ threshold: 3 });
  });

  it('list: a table, one row per rule, whole titles when piped', async () => {
    const { code, stdout } = await vigil(['rules', 'list']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SEVERITY\s+EVENTS\s+CATEGORIES\s+TITLE$/);
    expect(lines).toHaveLength(rules.length + 1);
    expect(stdout).toMatch(/^foreign-source-ip\s+medium\s+all\s+foreign-source-ip\s+Call from outside the allowed networks$/m);
    expect(stdout).toMatch(/^customer-gateway-change\s+medium\s+2\s+network-gateway-change,network-vpn-dx-peering\s+Customer gateway \(VPN endpoint\) created or deleted$/m);
  });

  it('list --category: only the rules of one category; an unknown category is bad input (exit 2)', async () => {
    const idp = await vigil(['rules', 'list', '--category', 'idp-change', '--format', 'json']);
    expect((JSON.parse(idp.stdout) as { id: string }[]).map((r) => r.id)).toEqual(['iam-identity-provider-change', 'identity-center-idp-change']);
    const bad = await vigil(['rules', 'list', '--category', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown category "nope" \(known: off-hours, /);
  });

  it('show: one rule in full; an unknown id is bad input', async () => {
    const { code, stdout } = await vigil(['rules', 'show', 'iam-policy-change']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# iam-policy-change\n/);
    expect(stdout).toContain('`iam.amazonaws.com`: PutUserPolicy, PutGroupPolicy');
    expect(stdout).toContain('e.g. `arn:aws:iam::111122223333:user/alice|user/malicious-iam-user`');
    const bad = await vigil(['rules', 'show', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown rule id "nope"/);
  });

  it('docs/rules.md is current (regenerate with `npm run rules:docs`)', async () => {
    const committed = readFileSync(path.join(repoRoot, 'docs/rules.md'), 'utf8');
    const generated = renderRulesMarkdown();
    expect(committed, 'docs/rules.md is stale: run `npm run rules:docs`').toBe(generated);
    const { stdout } = await vigil(['rules', 'docs']);
    expect(stdout).toBe(generated);
    for (const rule of rules) expect(committed).toContain(`\n## ${rule.id}\n`);
  });

  it('the rules:docs script writes docs/rules.md from `vigil rules docs`', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['rules:docs']).toBe('node bin/vigil.mjs rules docs > docs/rules.md');
  });

  it('runs as a real process', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/vigil.mjs', 'rules', 'list', '--category', 'kms-key-disable'], { cwd: repoRoot });
    expect(stdout).toMatch(/^kms-key-disable\s+high\s+2\s+kms-key-disable/m);
  });
});
