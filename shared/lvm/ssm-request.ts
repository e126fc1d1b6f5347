import type { SendCommandRequest } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { LVM_STEPS, type LvmStep, LvmStepEnv, ssmCommands } from './command';
import { InstanceId } from './plan';

/**
 * The SendCommand request for one step, built here so the state machine passes it on as is (`InputPath`): the ASL
 * never touches the script text, and the tests assert the exact request.
 *
 * Every step is short except `rollback`, which may move extents back from the new PV: pvmove itself runs in the
 * background (`pvmove -b`), so no SSM command ever has to live as long as the move (SSM's limit is 48 hours).
 */
export const STEP_TIMING: Record<LvmStep, { executionTimeoutSeconds: number; pollSeconds: number }> = {
  inspect: { executionTimeoutSeconds: 300, pollSeconds: 5 },
  prepare: { executionTimeoutSeconds: 900, pollSeconds: 10 },
  'pvmove-start': { executionTimeoutSeconds: 600, pollSeconds: 5 },
  'pvmove-status': { executionTimeoutSeconds: 300, pollSeconds: 5 },
  finish: { executionTimeoutSeconds: 1800, pollSeconds: 15 },
  grow: { executionTimeoutSeconds: 3600, pollSeconds: 15 },
  rollback: { executionTimeoutSeconds: 172_800, pollSeconds: 60 },
  'grow-in-place': { executionTimeoutSeconds: 3600, pollSeconds: 15 },
};

/** How long SSM waits for the agent to pick the command up before it gives up (DeliveryTimedOut). */
export const DELIVERY_TIMEOUT_SECONDS = 600;

export const StepRequestInput = z.object({
  step: z.enum(LVM_STEPS),
  env: LvmStepEnv,
  instanceId: InstanceId,
  migrationId: z.string().min(1),
});
export type StepRequestInput = z.infer<typeof StepRequestInput>;

export interface StepRequest {
  sendCommand: SendCommandRequest;
  pollSeconds: number;
  /** Upper bound of GetCommandInvocation polls: the command's own timeouts plus slack, so the loop always ends. */
  maxPolls: number;
}

export function buildStepRequest(input: StepRequestInput): StepRequest {
  const timing = STEP_TIMING[input.step];
  return {
    sendCommand: {
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [input.instanceId],
      // The comment shows in the SSM console's command history: which migration ran which step.
      Comment: `vigil ${input.step} ${input.migrationId}`.slice(0, 100),
      TimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
      Parameters: {
        commands: ssmCommands(input.step, input.env),
        executionTimeout: [String(timing.executionTimeoutSeconds)],
      },
    },
    pollSeconds: timing.pollSeconds,
    maxPolls: Math.ceil((timing.executionTimeoutSeconds + DELIVERY_TIMEOUT_SECONDS) / timing.pollSeconds) + 10,
  };
}
