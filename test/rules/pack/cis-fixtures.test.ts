import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../shared/alerts/schema';
import { repoRoot } from '../../support/shared-data';
import { EXAMPLE_CONFIG, fileOf, ndjson, vigil } from './run';

/**
 * The CIS-style categories the Stratus data lacks, on hand-made records (test/fixtures/rules/, see its README):
 * `vigil scan` with the example configuration raises exactly these alerts — [rule, severity, count] — per file,
 * and nothing for the reads, allow-listed AWS callers and service events mixed into each file.
 */
const EXPECTED: Record<string, [string, string, number][]> = {
  'idp-saml-oidc': [
    ['iam-identity-provider-change', 'critical', 1],
    ['iam-identity-provider-change', 'high', 1],
    ['iam-identity-provider-change', 'medium', 1],
  ],
  'identity-center-idp': [['identity-center-idp-change', 'high', 2]],
  vpn: [
    ['customer-gateway-change', 'high', 1],
    ['vpn-connection-change', 'high', 1],
    ['vpn-connection-change', 'high', 2],
  ],
  'direct-connect': [
    ['direct-connect-change', 'high', 1],
    ['direct-connect-change', 'medium', 1],
  ],
  'vpc-peering': [
    ['vpc-peering-change', 'high', 1],
    ['vpc-peering-change', 'medium', 1],
  ],
  'transit-gateway': [
    ['transit-gateway-attachment-change', 'high', 1],
    ['transit-gateway-attachment-change', 'medium', 1],
  ],
  'route-table': [['route-table-change', 'high', 2]],
  'network-acl': [['network-acl-change', 'high', 2]],
  'network-gateway': [
    ['network-gateway-change', 'medium', 1],
    ['network-gateway-change', 'medium', 2],
  ],
  root: [
    ['access-key-created', 'critical', 1],
    ['console-login-no-mfa', 'critical', 1],
    ['root-account-usage', 'critical', 2],
  ],
  kms: [
    ['kms-key-disable', 'critical', 1],
    ['kms-key-disable', 'high', 1],
    ['kms-key-disable', 'high', 1],
  ],
  config: [
    ['config-change', 'high', 2],
    ['config-change', 'medium', 1],
  ],
  's3-bucket-policy': [
    ['cloudtrail-bucket-change', 'high', 1],
    ['s3-bucket-policy-change', 'high', 1],
    ['s3-bucket-policy-change', 'high', 2],
  ],
  organizations: [
    ['organizations-change', 'critical', 1],
    ['organizations-change', 'high', 2],
  ],
  'unused-region': [
    ['unused-region', 'high', 1],
    ['unused-region', 'low', 1],
  ],
  vpc: [
    ['vpc-change', 'low', 1],
    ['vpc-change', 'medium', 1],
  ],
  'console-login-failure': [
    ['console-login-failure', 'medium', 4],
    ['foreign-source-ip', 'medium', 4],
  ],
};

const fixturesDir = path.join(repoRoot, 'test/fixtures/rules');

describe('the rule pack on hand-made records for the CIS-style categories', () => {
  let alerts: Alert[];

  beforeAll(async () => {
    const run = await vigil(['scan', '--config', EXAMPLE_CONFIG, '--format', 'ndjson', fixturesDir]);
    expect(run.stderr).not.toMatch(/error|rule errors/);
    expect(run.code).toBe(1);
    alerts = ndjson(run.stdout);
  });

  it('has an expectation for every fixture file', () => {
    const files = readdirSync(fixturesDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    expect(Object.keys(EXPECTED).sort()).toEqual(files.sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`${file}.json raises exactly ${expected.length} alert${expected.length === 1 ? '' : 's'}`, () => {
      const got = alerts.filter((a) => fileOf(a) === file).map((a): [string, string, number] => [a.ruleId, a.severity, a.count]);
      const order = (x: [string, string, number], y: [string, string, number]) => x.join('|').localeCompare(y.join('|'));
      expect(got.sort(order)).toEqual([...expected].sort(order));
    });
  }

  it('fires every CIS-style category the Stratus data lacks', () => {
    const raised = new Set(alerts.flatMap((a) => a.categories));
    for (const category of [
      'idp-change',
      'network-vpn-dx-peering',
      'route-table-change',
      'root-usage',
      'nacl-change',
      'network-gateway-change',
      's3-bucket-policy-change',
      'kms-key-disable',
      'config-change',
      'vpc-change',
      'organizations-change',
      'unused-region',
      'console-login-failure',
    ]) {
      expect(raised, category).toContain(category);
    }
  });

  it('says what was special: an AWS caller that is not allow-listed is named, cross-account is named', () => {
    const byTitle = (s: string) => alerts.find((a) => a.title.includes(s));
    expect(byTitle('via cloudformation.amazonaws.com')).toMatchObject({ ruleId: 'kms-key-disable' });
    expect(byTitle('external account 999988887777')).toBeDefined();
    expect(byTitle('NEW signing certificate')).toMatchObject({ ruleId: 'iam-identity-provider-change', severity: 'critical' });
    expect(byTitle('certificate unchanged (known fingerprint)')).toMatchObject({ severity: 'medium' });
    expect(byTitle('Customer gateway created for 192.0.2.10')).toMatchObject({ categories: ['network-gateway-change', 'network-vpn-dx-peering'] });
    expect(byTitle('Account left the organization')).toMatchObject({ severity: 'critical' });
  });
});
