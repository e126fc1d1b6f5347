import { SNSClient } from '@aws-sdk/client-sns';

/** One SNS client per process; created by the composition root (handler or CLI), never by domain code. */
export const createSnsClient = (region?: string): SNSClient => new SNSClient(region ? { region } : {});
