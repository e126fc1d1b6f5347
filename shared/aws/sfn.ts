import { SFNClient } from '@aws-sdk/client-sfn';

/** One Step Functions client per process; created by the composition root (CLI), never by domain code. */
export const createSfnClient = (region?: string): SFNClient => new SFNClient(region ? { region } : {});

/** What domain code needs of the client, so tests pass a mocked one (aws-sdk-client-mock). */
export type SfnLike = Pick<SFNClient, 'send'>;
