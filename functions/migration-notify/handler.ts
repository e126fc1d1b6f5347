import { createSnsClient } from '../../shared/aws/sns';
import { systemClock } from '../../shared/core/deps';
import { ConfigError } from '../../shared/core/errors';
import { lambdaLogger } from '../../shared/core/logger';
import { adaptLogger, runNotifyTask } from '../../shared/lvm/tasks';

// Migration notifications on the alerts topic (start, each 25 %, end) and the final report of every execution.
const logger = adaptLogger(lambdaLogger('migration-notify'));
const topicArn = process.env.ALERTS_TOPIC_ARN;
if (!topicArn) throw new ConfigError('ALERTS_TOPIC_ARN is not set');
const alerts = { sns: createSnsClient(), topicArn };

export const handler = async (event: unknown): Promise<unknown> => runNotifyTask(event, { clock: systemClock, logger, alerts });
