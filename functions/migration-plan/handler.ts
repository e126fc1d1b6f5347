import { systemClock } from '../../shared/core/deps';
import { asVigilLogger, lambdaLogger } from '../../shared/core/logger';
import { limitsFromEnv, runPlanTask } from '../../shared/lvm/tasks';

// Decisions and request building for the migration state machines (plan, pre-flight, SendCommand requests with the
// on-instance scripts, pvmove progress). No AWS calls: the state machines make those through SDK integrations, so
// this function's role has no policy beyond its logs.
const logger = asVigilLogger(lambdaLogger('migration-plan'));
const limits = limitsFromEnv(process.env);

export const handler = async (event: unknown): Promise<unknown> => runPlanTask(event, { clock: systemClock, logger, limits });
