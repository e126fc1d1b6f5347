import { z } from 'zod';

/**
 * What the child workflow (`RunLvmStep`, infra/state-machines/migration-run-step.asl.json) reports for one step:
 * the step's parsed stdout in `result` when the script ran to an end (`ok`: exit 0, `refused`: exit 3), or why it did
 * not (`failed`: any other exit code, or the workflow itself broke; `undeliverable`: SSM could not reach the agent, so
 * the script did not run). `result` is checked against the step's own schema (shared/lvm/step-result.ts) where a
 * decision depends on it.
 */
export const StepOutcome = z.looseObject({
  outcome: z.enum(['ok', 'refused', 'failed', 'undeliverable']),
  step: z.string().optional(),
  result: z.unknown().optional(),
  status: z.string().optional(),
  statusDetails: z.string().optional(),
  responseCode: z.number().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  error: z.unknown().optional(),
});
export type StepOutcome = z.infer<typeof StepOutcome>;
