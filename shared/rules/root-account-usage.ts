import { exampleRecord, identities } from './engine/example-record';
import { shiftSeverity } from './engine/severity';
import { defineRule } from './engine/types';

export default defineRule({
  id: 'root-account-usage',
  title: 'Root account used',
  description:
    'The root user has unrestricted access and cannot be limited by IAM policies; day-to-day work never needs it. ' +
    'Any call made by root itself (not by an AWS service on its behalf, and not an AwsServiceEvent) is reported, ' +
    'as in CIS AWS Foundations 4.3. Root signing in, root without MFA and root access keys (long-term credentials) ' +
    'are the most severe.',
  severity: 'high',
  categories: ['root-usage'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/root-user-tasks.html',
    'https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_root_account_usage.yml',
  ],
  falsePositives: [
    'The few tasks only root can do (closing the account, changing the support plan, restoring IAM access), when planned.',
  ],
  runbook:
    '1. Confirm with the account owner that root was used on purpose, and for what. ' +
    '2. If not: change the root password, check and re-register root MFA, delete any root access keys ' +
    '(`aws iam list-access-keys` as root shows none when clean), and review every call of the session. ' +
    '3. Check the root e-mail mailbox for password-reset mails.',
  // Root can call any API, so the rule looks at every record; the test is one field comparison.
  events: 'all',

  match(record) {
    const id = record.userIdentity;
    return id?.type === 'Root' && id.invokedBy === undefined && record.eventType !== 'AwsServiceEvent';
  },

  severityFor(record, ctx, base) {
    if (!ctx.succeeded) return shiftSeverity(base, -1);
    const longTermKey = record.userIdentity?.accessKeyId?.startsWith('AKIA') === true;
    const signInWithoutMfa =
      record.eventName === 'ConsoleLogin' && record.additionalEventData?.MFAUsed !== 'Yes';
    return longTermKey || signInWithoutMfa ? shiftSeverity(base, 1) : base;
  },

  alertTitle(record, ctx) {
    if (record.eventName === 'ConsoleLogin') {
      return ctx.succeeded ? 'Root signed in to the console' : 'Failed root console sign-in';
    }
    const key = record.userIdentity?.accessKeyId?.startsWith('AKIA') ? ' with a root access key' : '';
    return `Root account used${key}: ${record.eventName}`;
  },

  // One incident per account: every root call of one log file becomes one alert with a count.
  dedupKey() {
    return 'root';
  },

  alertContext(record) {
    return {
      ...(record.additionalEventData?.MFAUsed !== undefined ? { mfaUsed: record.additionalEventData.MFAUsed } : {}),
      ...(record.userIdentity?.accessKeyId ? { accessKeyId: record.userIdentity.accessKeyId } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'root signs in to the console without MFA',
        record: exampleRecord({
          eventSource: 'signin.amazonaws.com',
          eventName: 'ConsoleLogin',
          eventType: 'AwsConsoleSignIn',
          userIdentity: identities.root(),
          additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'No' },
          responseElements: { ConsoleLogin: 'Success' },
        }),
        expect: { severity: 'critical', title: 'Root signed in' },
      },
      {
        name: 'root creates an IAM user through the API',
        record: exampleRecord({
          eventSource: 'iam.amazonaws.com',
          eventName: 'CreateUser',
          awsRegion: 'us-east-1',
          userIdentity: identities.root(),
          requestParameters: { userName: 'backdoor' },
        }),
        expect: { severity: 'high', title: 'CreateUser', dedupKey: 'root' },
      },
      {
        name: 'a failed root sign-in (only errorMessage and ConsoleLogin: Failure)',
        record: exampleRecord({
          eventSource: 'signin.amazonaws.com',
          eventName: 'ConsoleLogin',
          eventType: 'AwsConsoleSignIn',
          userIdentity: identities.root(),
          errorMessage: 'Failed authentication',
          responseElements: { ConsoleLogin: 'Failure' },
        }),
        expect: { severity: 'medium', title: 'Failed root console sign-in' },
      },
    ],
    noMatch: [
      {
        name: 'an AWS service acting for root (invokedBy)',
        record: exampleRecord({
          eventSource: 's3.amazonaws.com',
          eventName: 'PutBucketPolicy',
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: { ...identities.root(), invokedBy: 'cloudformation.amazonaws.com' },
        }),
      },
      {
        name: 'an AwsServiceEvent attributed to root',
        record: exampleRecord({
          eventSource: 'signin.amazonaws.com',
          eventName: 'CredentialVerification',
          eventType: 'AwsServiceEvent',
          userIdentity: identities.root(),
        }),
      },
      {
        name: 'an IAM user doing an administrator task',
        record: exampleRecord({ eventSource: 'iam.amazonaws.com', eventName: 'CreateUser', requestParameters: { userName: 'bob' } }),
      },
      {
        name: 'an AWS service principal',
        record: exampleRecord({
          eventSource: 'sts.amazonaws.com',
          eventName: 'AssumeRole',
          sourceIPAddress: 'lambda.amazonaws.com',
          userIdentity: identities.awsService('lambda.amazonaws.com'),
        }),
      },
    ],
  },
});
