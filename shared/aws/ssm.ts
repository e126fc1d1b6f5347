import { SSMClient } from '@aws-sdk/client-ssm';

/** One SSM client per process; created by the composition root (handler or CLI), never by domain code. */
export const createSsmClient = (region?: string): SSMClient => new SSMClient(region ? { region } : {});
