import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../shared/alerts/schema';
import { EXAMPLE_CONFIG, fileOf, ndjson, vigil } from './run';

// The rules of the CloudTrail issue; scan-cli.test.ts asserts theirs.
const ENGINE_RULES = new Set(['cloudtrail-tampering', 'root-account-usage', 'off-hours-api-call']);

/**
 * The sample logs of `npm start` (events/cloudtrail/, see its README): routine traffic, AWS-service calls, a GitHub
 * deployment and a dev account must raise nothing from the rule pack; the two files with incidents raise exactly
 * what their story says.
 */
describe('the rule pack on the sample logs (what npm start scans)', () => {
  let alerts: Alert[];
  beforeAll(async () => {
    const run = await vigil(['scan', '--config', EXAMPLE_CONFIG, '--format', 'ndjson', 'events/cloudtrail/']);
    alerts = ndjson(run.stdout).filter((a) => !ENGINE_RULES.has(a.ruleId));
  });

  it('raises nothing on the routine, deployment and dev-account files', () => {
    const quiet = ['20250312T0905Z', '20250312T1355Z', '444455556666_CloudTrail_eu-west-1_20250315T2125Z'];
    for (const part of quiet) expect(alerts.filter((a) => fileOf(a).includes(part)), part).toEqual([]);
  });

  it('raises the new IAM user and the failed prod sign-in on the global-events file', () => {
    const found = alerts.filter((a) => fileOf(a).includes('20250312T1120Z')).map((a) => [a.ruleId, a.severity, a.count, a.context.profile]);
    expect(found.sort()).toEqual([
      ['console-login-failure', 'medium', 1, 'prod'],
      ['iam-user-created', 'high', 1, 'prod'],
    ]);
  });

  it('raises the foreign address and the denied DeleteTrail of the Saturday-night incident', () => {
    const found = alerts.filter((a) => fileOf(a).includes('20250315T2245Z'));
    expect(found.map((a) => [a.ruleId, a.severity, a.count]).sort()).toEqual([
      ['foreign-source-ip', 'medium', 6],
      ['unauthorized-api-call', 'high', 1],
    ]);
    expect(found.find((a) => a.ruleId === 'foreign-source-ip')!.title).toBe('Call from outside the allowed networks: 192.0.2.200 by svc-reporting');
  });

  it('raises nothing else', () => {
    expect(alerts).toHaveLength(4);
  });
});
