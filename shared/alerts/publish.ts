import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Alert } from './schema';
import { snsSms, snsSubject, snsText } from './sns-message';

export interface AlertSink {
  sns: Pick<SNSClient, 'send'>;
  topicArn: string;
}

/**
 * Publishes one alert to the alerts topic. `MessageStructure: json` gives every protocol its own body: people
 * (email, SMS) get text, machines (the SQS queue of the Slack notifier, Lambda, HTTP) get the Alert JSON.
 * Message attributes carry severity, ruleId, account and categories for subscription filter policies.
 */
export async function publishAlert(sink: AlertSink, alert: Alert): Promise<string | undefined> {
  const json = JSON.stringify(alert);
  const out = await sink.sns.send(
    new PublishCommand({
      TopicArn: sink.topicArn,
      Subject: snsSubject(alert),
      MessageStructure: 'json',
      Message: JSON.stringify({
        default: snsText(alert),
        email: snsText(alert),
        sms: snsSms(alert),
        sqs: json,
        lambda: json,
        http: json,
        https: json,
        'email-json': json,
      }),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: alert.severity },
        ruleId: { DataType: 'String', StringValue: alert.ruleId },
        account: { DataType: 'String', StringValue: alert.account || 'unknown' },
        categories: {
          DataType: 'String.Array',
          StringValue: JSON.stringify(alert.categories.length > 0 ? alert.categories : ['none']),
        },
      },
    }),
  );
  return out.MessageId;
}
