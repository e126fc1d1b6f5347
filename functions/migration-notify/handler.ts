import { createSnsClient } from '../../shared/aws/sns';
import { systemClock } from '../../shared/core/deps';
import { requiredEnv } from '../../shared/core/errors';
import { asVigilLogger, lambdaLogger } from '../../shared/core/logger';
import { runNotifyTask } from '../../shared/lvm/tasks';

// Migration notifications on the alerts topic (start, each 25 %, end) and the final report of every execution.
const logger = asVigilLogger(lambdaLogger('migration-notify'));
const alerts = { sns: createSnsClient(), topicArn: requiredEnv(process.env, 'ALERTS_TOPIC_ARN') };

export const handler = async (event: unknown): Promise<unknown> => runNotifyTask(event, { clock: systemClock, logger, alerts });
