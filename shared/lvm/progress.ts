import { z } from 'zod';
import { continuationName } from './plan';
import { PvmoveStatusResult } from './step-result';
import type { StepOutcome } from './step-outcome';

/**
 * The pvmove polling loop's memory and its one decision per poll. The state machine keeps `MoveState` in its data
 * and calls `advanceMove` after every `pvmove-status` step; a Choice state then follows `action`.
 */

/** Consecutive polls without progress before the move is restarted with `pvmove-start` (a bare `pvmove -b`). */
export const STALL_POLLS = 3;
/** Restarts of a stalled move before the migration gives up and rolls back. */
export const MAX_RESUMES = 3;
/** Consecutive polls the instance may not answer (reboot, agent restart) before the workflow pauses. */
export const MAX_UNREACHABLE_POLLS = 12;

export const MoveState = z.object({
  polls: z.number().int().nonnegative().default(0),
  percent: z.number().min(0).max(100).default(0),
  stalledPolls: z.number().int().nonnegative().default(0),
  unreachablePolls: z.number().int().nonnegative().default(0),
  resumes: z.number().int().nonnegative().default(0),
  /** The next 25 % mark that sends a notification. */
  nextNotifyAt: z.number().int().default(25),
  /** How many executions came before this one (continue-as-new). */
  continuation: z.number().int().nonnegative().default(0),
  reason: z.string().optional(),
});
export type MoveState = z.infer<typeof MoveState>;

export const MoveAction = z.enum(['wait', 'resume', 'done', 'failed', 'paused', 'continue']);
export type MoveAction = z.infer<typeof MoveAction>;

export interface MoveDecision {
  move: MoveState;
  action: MoveAction;
  /** Send a progress notification at this percentage (a 25 % mark was crossed). */
  notifyPercent?: number;
  /** For `continue`: the next execution's name. */
  nextExecutionName?: string;
}

export function initialMove(continuation = 0): MoveState {
  return MoveState.parse({ continuation });
}

export function advanceMove(
  previous: MoveState,
  outcome: StepOutcome,
  opts: { maxPollsPerExecution: number; migrationId: string },
): MoveDecision {
  const move: MoveState = { ...previous, polls: previous.polls + 1, reason: undefined };
  const decide = (action: MoveAction, reason?: string): MoveDecision => {
    if (action === 'wait' && move.polls >= opts.maxPollsPerExecution) {
      const continuation = move.continuation + 1;
      return {
        move: { ...move, reason: `handing over after ${move.polls} polls` },
        action: 'continue',
        nextExecutionName: continuationName(opts.migrationId, continuation),
      };
    }
    return { move: { ...move, ...(reason ? { reason } : {}) }, action };
  };

  if (outcome.outcome === 'undeliverable' || outcome.outcome === 'failed') {
    move.unreachablePolls = previous.unreachablePolls + 1;
    if (move.unreachablePolls >= MAX_UNREACHABLE_POLLS) {
      return decide(
        'paused',
        `the instance did not answer ${move.unreachablePolls} status polls in a row (${outcome.statusDetails ?? outcome.status ?? outcome.outcome}); pvmove keeps running on the instance`,
      );
    }
    return decide('wait');
  }
  if (outcome.outcome === 'refused') {
    return decide('paused', `pvmove-status refused: ${messageOf(outcome.result)}`);
  }

  const parsed = PvmoveStatusResult.safeParse(outcome.result);
  if (!parsed.success) {
    return decide('paused', `pvmove-status printed an unexpected result: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const status = parsed.data;
  const cameBack = previous.unreachablePolls > 0;
  move.unreachablePolls = 0;

  if (status.done) {
    move.percent = 100;
    return decide('done');
  }
  if (status.inProgress && status.direction === 'rollback') {
    return decide('paused', 'a move from the new volume back to the old one runs (a rollback was started by hand?)');
  }
  if (!status.inProgress) {
    // The move is not running although extents remain: it was aborted (an I/O error, say) or its poller died with
    // the instance. pvmove-start restarts it from its last checkpoint, a bounded number of times.
    if (previous.resumes >= MAX_RESUMES) {
      return decide(
        'failed',
        `pvmove stopped at ${previous.percent}% with ${status.remainingExtents ?? 'some'} extents left on the old volume, ${previous.resumes} restarts did not help`,
      );
    }
    move.resumes = previous.resumes + 1;
    move.stalledPolls = 0;
    return decide('resume', `pvmove is not running with ${status.remainingExtents ?? 'some'} extents left; restarting it`);
  }

  const percent = status.percent ?? previous.percent;
  const progressed = percent > previous.percent;
  move.percent = Math.max(previous.percent, percent);
  move.stalledPolls = progressed ? 0 : previous.stalledPolls + 1;

  let notifyPercent: number | undefined;
  if (move.percent >= move.nextNotifyAt && move.nextNotifyAt < 100) {
    notifyPercent = Math.floor(move.percent / 25) * 25;
    move.nextNotifyAt = notifyPercent + 25;
  }
  const withNotify = (d: MoveDecision): MoveDecision => (notifyPercent !== undefined ? { ...d, notifyPercent } : d);

  // After a reboot the move is still recorded in the VG metadata but nothing polls it until someone runs pvmove.
  if (cameBack) return withNotify(decide('resume', 'the instance answered again; restarting the pvmove poll'));
  if (move.stalledPolls >= STALL_POLLS) {
    if (previous.resumes >= MAX_RESUMES) {
      return withNotify(decide('failed', `pvmove made no progress in ${move.stalledPolls} polls after ${previous.resumes} restarts`));
    }
    move.resumes = previous.resumes + 1;
    move.stalledPolls = 0;
    return withNotify(decide('resume', `no progress in ${STALL_POLLS} polls; restarting the pvmove poll`));
  }
  return withNotify(decide('wait'));
}

const messageOf = (result: unknown): string =>
  result && typeof result === 'object' && 'message' in result ? String((result as { message: unknown }).message) : 'no reason given';
