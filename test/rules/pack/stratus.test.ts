import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../shared/alerts/schema';
import { isIp } from '../../../shared/ip-ranges/ip';
import { SNAPSHOTS, snapshotPath } from '../../ip-ranges/helpers';
import { cloudtrailDir } from '../../support/shared-data';
import { stratusRecords } from '../../cloudtrail/helpers';
import { EXAMPLE_CONFIG, fileOf, ndjson, vigil } from './run';

/**
 * `vigil scan --config examples/vigil.config.yaml ../shared/data/cloudtrail/stratus-delivery/` against the data
 * README's "flag" column: for every technique, exactly the event-based categories the README lists (its `other`
 * marks attack activity no named category covers). The configuration-dependent categories (off-hours,
 * foreign-source-ip, unused-region) may appear anywhere: the README says they depend on the office hours, the
 * allowed networks and the (fake) regions, and the example configuration sets all three.
 */
const FLAGS: Record<string, string[]> = {
  'aws.credential-access.ec2-get-password-data': ['unauthorized-api-call'],
  'aws.credential-access.ec2-steal-instance-credentials': [],
  'aws.credential-access.secretsmanager-batch-retrieve-secrets': [],
  'aws.credential-access.secretsmanager-retrieve-secrets': [],
  'aws.credential-access.ssm-retrieve-securestring-parameters': [],
  'aws.defense-evasion.cloudtrail-delete': ['cloudtrail-tamper'],
  'aws.defense-evasion.cloudtrail-event-selectors': ['cloudtrail-tamper'],
  'aws.defense-evasion.cloudtrail-stop': ['cloudtrail-tamper'],
  'aws.defense-evasion.dns-delete-logs': [],
  'aws.defense-evasion.organizations-leave': ['organizations-change', 'unauthorized-api-call'],
  'aws.defense-evasion.vpc-remove-flow-logs': [],
  'aws.discovery.ec2-download-user-data': ['unauthorized-api-call'],
  'aws.execution.ec2-launch-unusual-instances': ['unauthorized-api-call'],
  'aws.execution.ec2-user-data': [],
  'aws.execution.ssm-send-command': [],
  'aws.execution.ssm-start-session': [],
  'aws.exfiltration.ec2-security-group-open-port-22-ingress': ['security-group-change'],
  'aws.exfiltration.ec2-share-ami': ['snapshot-or-ami-shared'],
  'aws.exfiltration.ec2-share-ebs-snapshot': ['snapshot-or-ami-shared'],
  'aws.exfiltration.rds-share-snapshot': ['snapshot-or-ami-shared'],
  'aws.impact.bedrock-invoke-model': [],
  'aws.initial-access.console-login-without-mfa': ['console-login-no-mfa'],
  'aws.lateral-movement.ec2-instance-connect': [],
  'aws.lateral-movement.ec2-serial-console-send-ssh-public-key': [],
  'aws.persistence.iam-backdoor-role': ['iam-policy-change'],
  'aws.persistence.iam-backdoor-user': ['access-key-created'],
  'aws.persistence.iam-create-admin-user': ['iam-user-created', 'iam-policy-change', 'access-key-created'],
  'aws.persistence.iam-create-backdoor-role': ['iam-policy-change'],
  'aws.persistence.iam-create-user-login-profile': ['login-profile-change'],
  'aws.persistence.lambda-backdoor-function': [],
  'aws.persistence.lambda-layer-extension': [],
  'aws.persistence.lambda-overwrite-code': [],
  'aws.persistence.rolesanywhere-create-trust-anchor': [],
  'aws.persistence.sts-federation-token': [],
  'aws.privilege-escalation.iam-update-user-login-profile': ['login-profile-change'],
};

const CONFIG_DEPENDENT = new Set(['off-hours', 'foreign-source-ip', 'unused-region']);

describe('the rule pack on the Stratus Red Team detonations (vigil scan with the example configuration)', () => {
  let alerts: Alert[];
  let stderr: string;
  const of = (technique: string) => alerts.filter((a) => fileOf(a) === technique);
  const rule = (technique: string, ruleId: string) => of(technique).filter((a) => a.ruleId === ruleId);

  beforeAll(async () => {
    const run = await vigil([
      'scan',
      '--config',
      EXAMPLE_CONFIG,
      '--ip-ranges',
      snapshotPath(SNAPSHOTS.aug22),
      '--format',
      'ndjson',
      cloudtrailDir('stratus-delivery'),
    ]);
    expect(run.code).toBe(1);
    alerts = ndjson(run.stdout);
    stderr = run.stderr;
  });

  it('scans all 35 files and covers every technique of the README table', () => {
    expect(stderr).toMatch(/scanned 35\/35 files, 310 records/);
    const files = readdirSync(cloudtrailDir('stratus-delivery')).map((f) => f.replace(/\.json\.gz$/, ''));
    expect(Object.keys(FLAGS).sort()).toEqual(files.sort());
  });

  for (const [technique, flags] of Object.entries(FLAGS)) {
    it(`${technique}: raises exactly ${flags.length > 0 ? flags.join(', ') : 'no event-based category'}`, () => {
      const raised = new Set(of(technique).flatMap((a) => a.categories));
      const eventBased = [...raised].filter((c) => !CONFIG_DEPENDENT.has(c)).sort();
      expect(eventBased).toEqual([...flags].sort());
    });
  }

  it('one scanner, one alert: 30 denied GetPasswordData calls of one role are one alert with a count', () => {
    const denied = rule('aws.credential-access.ec2-get-password-data', 'unauthorized-api-call');
    expect(denied.map((a) => [a.count, a.eventName, a.severity]).sort()).toEqual([
      [2, 'AssumeRole', 'high'],
      [30, 'GetPasswordData', 'high'],
    ]);
    const ec2 = rule('aws.discovery.ec2-download-user-data', 'unauthorized-api-call').find((a) => a.eventName === 'DescribeInstanceAttribute');
    expect(ec2).toMatchObject({ count: 15, context: { errorCode: 'Client.UnauthorizedOperation' } });
  });

  it('the failed DeleteLoginProfile (EntityTemporarilyUnmodifiableException) is not an authorization failure', () => {
    expect(rule('aws.persistence.iam-create-user-login-profile', 'unauthorized-api-call')).toEqual([]);
    expect(rule('aws.persistence.iam-create-user-login-profile', 'login-profile-change')[0]).toMatchObject({
      eventName: 'CreateLoginProfile',
      title: expect.stringContaining('for another user: stratus-red-team-login-profile-user'),
    });
  });

  it('a failed LeaveOrganization is critical, and also an unauthorized call', () => {
    const [leave] = rule('aws.defense-evasion.organizations-leave', 'organizations-change');
    expect(leave).toMatchObject({ severity: 'critical', title: expect.stringContaining('Attempt to leave the organization (failed)') });
    expect(rule('aws.defense-evasion.organizations-leave', 'unauthorized-api-call')[0]).toMatchObject({ eventName: 'LeaveOrganization' });
  });

  it('the anonymised 208.236.235.254/0 is world-open by its prefix length', () => {
    const [sg] = rule('aws.exfiltration.ec2-security-group-open-port-22-ingress', 'security-group-change');
    expect(sg).toMatchObject({ severity: 'high', title: expect.stringContaining('opened to the world: tcp/22 from 208.236.235.254/0') });
  });

  it('IAM persistence: admin policy high, keys for another user high, backdoored trust names the external account', () => {
    const admin = 'aws.persistence.iam-create-admin-user';
    expect(rule(admin, 'iam-policy-change')[0]).toMatchObject({ severity: 'high', title: expect.stringContaining('AdministratorAccess attached to user malicious-iam-user') });
    expect(rule(admin, 'access-key-created')[0]).toMatchObject({ severity: 'high', title: expect.stringContaining('another user: malicious-iam-user') });
    // The name breaks the example's firstname.lastname pattern.
    expect(rule(admin, 'iam-user-created')[0]).toMatchObject({ severity: 'high', title: expect.stringContaining('breaks the naming pattern') });
    expect(rule('aws.persistence.iam-backdoor-user', 'access-key-created')[0]).toMatchObject({ severity: 'high' });
    expect(rule('aws.persistence.iam-backdoor-role', 'iam-trust-policy-change')[0]).toMatchObject({
      severity: 'high',
      title: expect.stringContaining('now trusts external arn:aws:iam::193672423079:root'),
    });
    const backdoorRole = 'aws.persistence.iam-create-backdoor-role';
    expect(rule(backdoorRole, 'iam-trust-policy-change')[0]).toMatchObject({ eventName: 'CreateRole', severity: 'high' });
    expect(rule(backdoorRole, 'iam-policy-change')[0]).toMatchObject({ eventName: 'AttachRolePolicy', severity: 'high' });
  });

  it('snapshots and AMIs shared with the external accounts are high', () => {
    for (const [technique, account] of [
      ['aws.exfiltration.ec2-share-ami', '846424999548'],
      ['aws.exfiltration.ec2-share-ebs-snapshot', '098797384747'],
      ['aws.exfiltration.rds-share-snapshot', '503161813013'],
    ] as const) {
      expect(rule(technique, 'snapshot-or-ami-shared')[0]).toMatchObject({ severity: 'high', title: expect.stringContaining(`external account ${account}`) });
    }
  });

  it('source addresses: invalid values are reported as unparseable, never as foreign IPs; AWS-owned ones are labelled', () => {
    const sources = new Map<string, string>();
    for (const [technique, records] of stratusRecords()) sources.set(technique, records[0]!.sourceIPAddress!);
    for (const [technique, source] of sources) {
      const foreign = rule(technique, 'foreign-source-ip');
      if (foreign.length === 0) continue;
      for (const alert of foreign) {
        if (isIp(source)) expect(alert.title, technique).not.toMatch(/Unparseable/);
        else expect(alert.title, technique).toMatch(`Unparseable source address "${source}"`);
      }
    }
    // The README's 12 invalid addresses: each file has the unparseable alert, except bedrock-invoke-model, whose
    // only caller is a workload role (not checked: includeWorkloads is false in the default profile).
    const invalid = [...sources].filter(([, s]) => !isIp(s)).map(([t]) => t);
    expect(invalid).toHaveLength(12);
    const reported = invalid.filter((t) => rule(t, 'foreign-source-ip').some((a) => a.title.startsWith('Unparseable')));
    expect(reported.sort()).toEqual(invalid.filter((t) => t !== 'aws.impact.bedrock-invoke-model').sort());
    expect(rule('aws.impact.bedrock-invoke-model', 'foreign-source-ip')).toEqual([]);
    // 18.236.253.47 is in the EC2 us-west-2 range of the 2026-08-22 snapshot.
    const [stolen] = rule('aws.credential-access.ec2-steal-instance-credentials', 'foreign-source-ip');
    expect(stolen).toMatchObject({ title: expect.stringContaining('18.236.253.47 (AWS-owned: EC2 us-west-2)'), context: { awsOwner: 'EC2 us-west-2' } });
  });

  it('the Identity Center caller of ec2-serial-console-send-ssh-public-key is a person, not a workload', () => {
    const [alert] = rule('aws.lateral-movement.ec2-serial-console-send-ssh-public-key', 'foreign-source-ip');
    expect(alert).toMatchObject({ context: { actorType: 'identity-center' } });
  });

  it('the console sign-in without MFA is an IAM user’s, medium', () => {
    expect(rule('aws.initial-access.console-login-without-mfa', 'console-login-no-mfa')[0]).toMatchObject({ severity: 'medium', eventName: 'ConsoleLogin' });
  });
});
