import { describe, expect, it } from 'vitest';
import { createEnricher } from '../../shared/cloudtrail/enrich';
import {
  actorOf,
  eventTimeMs,
  isAwsServiceCall,
  isConsoleSession,
  isHumanActor,
  readOnlyOf,
  readOnlyOrGuess,
  sourceOf,
  succeeded,
} from '../../shared/cloudtrail/helpers';
import { buildIpIndex } from '../../shared/ip-ranges/lookup';
import { exampleRecord, identities } from '../../shared/rules/engine/example-record';
import { SNAPSHOTS, snapshot } from '../ip-ranges/helpers';
import { stratusRecords } from './helpers';

const stratus = stratusRecords();
const first = (technique: string) => stratus.get(technique)![0]!;

describe('succeeded', () => {
  it('is false with an errorCode or an errorMessage', () => {
    expect(succeeded(exampleRecord({ eventSource: 's', eventName: 'n' }))).toBe(true);
    expect(succeeded(exampleRecord({ eventSource: 's', eventName: 'n', errorCode: 'AccessDenied' }))).toBe(false);
    expect(succeeded(exampleRecord({ eventSource: 's', eventName: 'n', errorMessage: 'nope' }))).toBe(false);
  });

  it('knows a failed console sign-in, which has only errorMessage and ConsoleLogin: Failure', () => {
    const failed = exampleRecord({
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      eventType: 'AwsConsoleSignIn',
      errorMessage: 'Failed authentication',
      responseElements: { ConsoleLogin: 'Failure' },
    });
    expect(succeeded(failed)).toBe(false);
    expect(succeeded({ ...failed, errorMessage: undefined })).toBe(false);
    expect(succeeded(first('aws.initial-access.console-login-without-mfa'))).toBe(true);
  });

  it('matches the Stratus data: failed calls exactly where the README lists them', () => {
    const failures = [...stratus.values()].flat().filter((r) => !succeeded(r));
    // 30 + 2 (get-password-data) + 1 (organizations-leave) + 15 + 2 (download-user-data) + 1 (launch-unusual) + 1 (login profile)
    expect(failures).toHaveLength(52);
  });
});

describe('actorOf', () => {
  it('classifies every principal type', () => {
    expect(actorOf(exampleRecord({ eventSource: 's', eventName: 'n' }))).toMatchObject({ kind: 'iam-user', display: 'alice' });
    expect(actorOf(exampleRecord({ eventSource: 's', eventName: 'n', userIdentity: identities.root() }))).toMatchObject({
      kind: 'root',
      mfa: false,
    });
    expect(actorOf(exampleRecord({ eventSource: 's', eventName: 'n', userIdentity: identities.assumedRole('deploy', 'ci-1', { mfa: true }) }))).toMatchObject({
      kind: 'assumed-role',
      display: 'deploy/ci-1',
      sessionName: 'ci-1',
      sessionIssuer: { type: 'Role', name: 'deploy', arn: 'arn:aws:iam::111122223333:role/deploy' },
      mfa: true,
    });
    expect(actorOf(exampleRecord({ eventSource: 's', eventName: 'n', userIdentity: identities.awsService('lambda.amazonaws.com') }))).toMatchObject({
      kind: 'aws-service',
      display: 'lambda.amazonaws.com',
    });
    expect(
      actorOf(
        exampleRecord({
          eventSource: 's',
          eventName: 'n',
          userIdentity: {
            type: 'IdentityCenterUser',
            accountId: '111122223333',
            onBehalfOf: { userId: '94482488-3041-7026-18f3-be45837cd0e4', identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-1234567890' },
            credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
          },
        }),
      ),
    ).toMatchObject({ kind: 'identity-center', identityStoreUserId: '94482488-3041-7026-18f3-be45837cd0e4' });
  });

  it('recognises an Identity Center permission-set session in real data', () => {
    const sso = first('aws.lateral-movement.ec2-serial-console-send-ssh-public-key');
    expect(actorOf(sso)).toMatchObject({ kind: 'identity-center', sessionIssuer: { name: 'AWSReservedSSO_account-admin_599c9e90e350d2ff' } });
  });

  it('recognises a federated user (GetFederationToken) and an EC2 instance role session', () => {
    const federated = stratus.get('aws.persistence.sts-federation-token')!.find((r) => r.userIdentity?.type === 'FederatedUser')!;
    expect(actorOf(federated).kind).toBe('federated-user');
    const instance = stratus
      .get('aws.credential-access.ec2-steal-instance-credentials')!
      .find((r) => r.userIdentity?.type === 'AssumedRole')!;
    const actor = actorOf(instance);
    expect(actor.kind).toBe('assumed-role');
    expect(actor.sessionName).toBe('i-786a3A8B5C0d92eF4');
    expect(isHumanActor(actor, instance)).toBe(false);
  });

  it('tells people from workloads and AWS services', () => {
    const r = (userIdentity: ReturnType<typeof identities.iamUser>, extra = {}) =>
      exampleRecord({ eventSource: 's', eventName: 'n', userIdentity, ...extra });
    const human = (rec: ReturnType<typeof r>) => isHumanActor(actorOf(rec), rec);
    expect(human(r(identities.iamUser()))).toBe(true);
    expect(human(r(identities.root()))).toBe(true);
    expect(human(r(identities.ssoUser()))).toBe(true);
    expect(human(r(identities.assumedRole('ci', 'run-1')))).toBe(false);
    expect(human(r(identities.assumedRole('admin', 'bob', { mfa: true })))).toBe(true);
    expect(human(r(identities.assumedRole('admin', 'bob'), { sessionCredentialFromConsole: 'true' }))).toBe(true);
    expect(human(r(identities.assumedRole('admin', 'bob', { sourceIdentity: 'bob@example.com' })))).toBe(true);
    expect(human(r(identities.awsService()))).toBe(false);
    expect(human(r({ ...identities.iamUser(), invokedBy: 'cloudformation.amazonaws.com' }))).toBe(false);
    expect(isAwsServiceCall(r({ ...identities.iamUser(), invokedBy: 'cloudformation.amazonaws.com' }))).toBe(true);
    expect(isAwsServiceCall(r(identities.iamUser(), { eventType: 'AwsServiceEvent' }))).toBe(true);
    expect(isAwsServiceCall(r(identities.iamUser()))).toBe(false);
  });
});

describe('console session and readOnly', () => {
  it('detects console sessions', () => {
    expect(isConsoleSession(first('aws.initial-access.console-login-without-mfa'))).toBe(true);
    expect(isConsoleSession(exampleRecord({ eventSource: 's', eventName: 'n', sessionCredentialFromConsole: 'true' }))).toBe(true);
    expect(isConsoleSession(exampleRecord({ eventSource: 's', eventName: 'n' }))).toBe(false);
  });

  it('reads readOnly as true/false/unknown, and guesses from the name only when unknown', () => {
    const r = exampleRecord({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances' });
    expect(readOnlyOf({ ...r, readOnly: true })).toBe(true);
    expect(readOnlyOf({ ...r, readOnly: false })).toBe(false);
    expect(readOnlyOf({ ...r, readOnly: undefined })).toBeUndefined();
    expect(readOnlyOrGuess({ ...r, readOnly: undefined })).toBe(true);
    expect(readOnlyOrGuess({ ...r, readOnly: false })).toBe(false);
    expect(readOnlyOrGuess({ ...r, eventName: 'Getaway', readOnly: undefined })).toBe(false);
    expect(readOnlyOrGuess({ ...r, eventName: 'TerminateInstances', readOnly: undefined })).toBe(false);
  });
});

describe('sourceOf and enrichment', () => {
  const src = (sourceIPAddress: string | undefined) => sourceOf(exampleRecord({ eventSource: 's', eventName: 'n', sourceIPAddress }));

  it('classifies addresses, service names, AWS Internal and invalid values', () => {
    expect(src('203.0.113.10')).toEqual({ kind: 'ip', value: '203.0.113.10', family: 'ipv4' });
    expect(src('2001:db8::1')).toEqual({ kind: 'ip', value: '2001:db8::1', family: 'ipv6' });
    expect(src('cloudformation.amazonaws.com')).toEqual({ kind: 'aws-service', value: 'cloudformation.amazonaws.com' });
    expect(src('AWS Internal')).toEqual({ kind: 'aws-internal', value: 'AWS Internal' });
    expect(src('08.1.250.216')).toEqual({ kind: 'invalid', value: '08.1.250.216' });
    expect(src('075.050.255.67').kind).toBe('invalid');
    expect(src('evil.example.com').kind).toBe('invalid');
    expect(src(undefined).kind).toBe('none');
  });

  it('says which AWS range owns an address (the Stratus instance-credential theft came from EC2 us-west-2)', () => {
    const enricher = createEnricher(buildIpIndex(snapshot(SNAPSHOTS.aug22).ranges));
    expect(enricher.enabled).toBe(true);
    expect(enricher.snapshot?.createDate).toBe(SNAPSHOTS.aug22);
    const theft = first('aws.credential-access.ec2-steal-instance-credentials');
    expect(enricher.source(theft)).toMatchObject({ kind: 'ip', aws: { service: 'EC2', region: 'us-west-2', label: 'EC2 us-west-2' } });
    expect(enricher.source(first('aws.defense-evasion.cloudtrail-delete')).aws).toBeUndefined();
    expect(enricher.source(first('aws.defense-evasion.cloudtrail-delete')).kind).toBe('invalid');
    // Cached by value: the same object for the same address.
    expect(enricher.source(theft)).toBe(enricher.source(theft));
  });

  it('is off without a snapshot', () => {
    const enricher = createEnricher(undefined);
    expect(enricher.enabled).toBe(false);
    expect(enricher.snapshot).toBeUndefined();
    expect(enricher.source(first('aws.credential-access.ec2-steal-instance-credentials')).aws).toBeUndefined();
  });
});

describe('eventTimeMs', () => {
  const same = (text: string) => {
    const expected = Date.parse(text);
    if (Number.isNaN(expected)) expect(eventTimeMs(text)).toBeNaN();
    else expect(eventTimeMs(text)).toBe(expected);
  };

  it('reads CloudTrail times exactly as Date.parse does, including every record of the shared data', () => {
    for (const records of stratus.values()) for (const r of records) same(r.eventTime);
    same('2024-07-31T12:46:41Z');
    same('1970-01-01T00:00:00Z');
  });

  it('agrees with Date.parse on leap days, month ends and invalid or unusual times', () => {
    for (const text of [
      '2024-02-29T00:00:00Z', // leap year
      '2023-02-29T00:00:00Z', // not one
      '2100-02-29T00:00:00Z', // century, not a leap year
      '2000-02-29T23:59:59Z', // 400-year leap year
      '2024-04-31T10:00:00Z',
      '2024-12-31T23:59:59Z',
      '2024-13-01T00:00:00Z',
      '2024-12-31T24:00:00Z',
      '2024-07-31T12:60:00Z',
      '2024-0a-01T00:00:00Z',
      '0099-01-01T00:00:00Z', // Date.UTC would read year 99 as 1999
      '2024-07-31T12:46:41.123Z',
      '2024-07-31T12:46:41+02:00',
      '2024-07-31',
      'not a time',
      '',
    ]) {
      same(text);
    }
  });

  it('agrees with Date.parse on random times across four centuries', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      same(new Date(Math.floor(random() * 1.5e13) - 2e12).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
  });
});
