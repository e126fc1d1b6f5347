import type { CloudTrailRecord, UserIdentity } from '../../cloudtrail/record';
import { exampleRecord } from '../engine/example-record';

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36';

/**
 * A ConsoleLogin record as CloudTrail writes it (signin.amazonaws.com, AwsConsoleSignIn). A failure has only an
 * `errorMessage` and `ConsoleLogin: "Failure"`; an unknown user name is recorded as HIDDEN_DUE_TO_SECURITY_REASONS.
 */
export function consoleLogin(
  userIdentity: UserIdentity,
  outcome: { success: true; mfa: boolean; saml?: string } | { success: false; errorMessage?: string; mfa?: boolean },
  extra: Partial<CloudTrailRecord> = {},
): CloudTrailRecord {
  return exampleRecord({
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    awsRegion: 'us-east-1',
    userAgent: BROWSER,
    userIdentity,
    requestParameters: null,
    responseElements: { ConsoleLogin: outcome.success ? 'Success' : 'Failure' },
    additionalEventData: {
      LoginTo: 'https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_3c5b7e9a1d2f4068',
      MobileVersion: 'No',
      MFAUsed: outcome.mfa ? 'Yes' : 'No',
      ...(outcome.success && outcome.saml ? { SamlProviderArn: outcome.saml } : {}),
    },
    ...(outcome.success ? {} : { errorMessage: outcome.errorMessage ?? 'Failed authentication' }),
    ...extra,
  });
}

/** The identity CloudTrail records for a failed sign-in of an IAM user (no ARN, empty access key). */
export const failedIamUser = (userName: string, account = '111122223333'): UserIdentity => ({
  type: 'IAMUser',
  principalId: userName === 'HIDDEN_DUE_TO_SECURITY_REASONS' ? account : 'AIDAEXAMPLEUSERID0001',
  accountId: account,
  accessKeyId: '',
  userName,
});
