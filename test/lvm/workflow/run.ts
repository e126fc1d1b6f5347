import type { PublishCommand } from '@aws-sdk/client-sns';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { fixedClock, silentLogger } from '../../../shared/core/deps';
import type { Alert } from '../../../shared/alerts/schema';
import { runNotifyTask, runPlanTask } from '../../../shared/lvm/tasks';
import { FAKE_ARNS, loadDefinition, MIGRATION_MACHINE_ARN } from './definitions';
import type { SimCloud } from './sim-cloud';

/**
 * Runs the committed state machine definitions locally (aws-local-stepfunctions) against the simulation: every Task
 * state is answered by a local handler chosen by its Resource (SDK integrations → SimCloud, the Lambda ARNs → the
 * real task functions, the child workflow → a local run of the child definition), every Wait and retry pause is 0.
 */

export interface Published {
  alert: Alert;
  subject: string | undefined;
}

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
  /** The report: the output of a succeeded execution, the parsed Cause of a failed one. */
  report?: Record<string, unknown>;
  /** Names of the states entered, in order (parent only). */
  path: string[];
}

const definitions = { migration: loadDefinition('migration'), runStep: loadDefinition('runStep') };
// Validated once by definition.test.ts; a run is independent of every other run of the same instance.
const machines = {
  migration: new StateMachine(definitions.migration, { validationOptions: { noValidate: true } }),
  runStep: new StateMachine(definitions.runStep, { validationOptions: { noValidate: true } }),
};

type Handler = (input: unknown) => Promise<unknown>;

/** Zero every Wait state and every Retry pause of a definition. */
function overridesFor(def: StateMachineDefinition) {
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  for (const [name, state] of Object.entries(def.States)) {
    if (state.Type === 'Wait') waits[name] = 0;
    if ('Retry' in state && state.Retry) retries[name] = 0;
  }
  return { waitTimeOverrides: waits, retryIntervalOverrides: retries };
}

export class LocalRunner {
  readonly published: Published[] = [];
  readonly now = new Date('2026-03-01T10:00:00Z');
  /** Called when a Task state is entered, before its handler; a scenario may abort the run here (a crash). */
  onTask?: (stateName: string, input: unknown) => void;
  private abortCurrent?: () => void;

  constructor(readonly cloud: SimCloud) {}

  private sns = {
    send: async (command: PublishCommand) => {
      const input = command.input;
      const bodies = JSON.parse(input.Message ?? '{}') as { sqs: string };
      this.published.push({ alert: JSON.parse(bodies.sqs) as Alert, subject: input.Subject });
      return { MessageId: `msg-${this.published.length}` };
    },
  };

  private handlers(def: StateMachineDefinition, executionArn: string): Record<string, Handler> {
    const cloud = this.cloud as unknown as Record<string, (input: unknown) => unknown>;
    const out: Record<string, Handler> = {};
    for (const [name, state] of Object.entries(def.States)) {
      if (state.Type !== 'Task') continue;
      const resource = state.Resource;
      const wrap = (fn: (input: unknown) => unknown): Handler => async (input) => {
        this.onTask?.(name, input);
        return fn(input);
      };
      const sdk = /^arn:aws:states:::(?:aws-sdk:(ec2|ssm|sfn)|(dynamodb)):(\w+)$/.exec(resource);
      if (sdk) {
        const action = sdk[3] as string;
        const fn = cloud[action];
        if (!fn) throw new Error(`no simulation for ${resource}`);
        out[name] = wrap((input) => fn.call(this.cloud, input));
      } else if (resource === FAKE_ARNS.MigrationPlanLambdaFunction) {
        out[name] = wrap((input) =>
          runPlanTask(input, { clock: fixedClock(this.now.toISOString()), logger: silentLogger, limits: { maxVolumeSizeGiB: 16_384, allowedVolumeTypes: ['gp3', 'gp2', 'io2'] } }),
        );
      } else if (resource === FAKE_ARNS.MigrationNotifyLambdaFunction) {
        out[name] = wrap((input) =>
          runNotifyTask(input, { clock: fixedClock(this.now.toISOString()), logger: silentLogger, alerts: { sns: this.sns as never, topicArn: 'arn:aws:sns:eu-west-1:123456789012:vigil-test-alerts' } }),
        );
      } else if (resource === 'arn:aws:states:::states:startExecution.sync:2') {
        out[name] = wrap(async (input) => {
          const { StateMachineArn, Input } = input as { StateMachineArn: string; Input: Record<string, unknown> };
          if (StateMachineArn !== FAKE_ARNS.MigrationRunLvmStep) throw new Error(`unexpected child ${StateMachineArn}`);
          const childArn = `${StateMachineArn.replace(':stateMachine:', ':execution:')}:${crypto.randomUUID()}`;
          const output = await machines.runStep.run(Input as never, {
            overrides: { ...overridesFor(definitions.runStep), taskResourceLocalHandlers: this.handlers(definitions.runStep, childArn) as never },
            context: { Execution: { Id: childArn, Name: childArn.split(':').pop(), Input: Input as never, StartTime: this.now.toISOString() } },
          }).result;
          return { ExecutionArn: childArn, Status: 'SUCCEEDED', Output: output };
        });
      } else if (resource === 'arn:aws:states:::states:startExecution') {
        out[name] = wrap((input) => this.cloud.startExecution(input as never));
      } else {
        throw new Error(`no local handler for ${name} (${resource}) of ${executionArn}`);
      }
    }
    return out;
  }

  /** Aborts the running execution (a crash of the workflow as seen from outside). */
  crash(): void {
    this.abortCurrent?.();
  }

  async run(input: unknown, executionName: string): Promise<RunResult> {
    const executionArn = `${MIGRATION_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${executionName}`;
    const def = definitions.migration;
    this.cloud.executions.set(executionArn, { status: 'RUNNING' });
    const execution = machines.migration.run(input as never, {
      overrides: { ...overridesFor(def), taskResourceLocalHandlers: this.handlers(def, executionArn) as never },
      context: {
        Execution: { Id: executionArn, Name: executionName, Input: input as never, StartTime: this.now.toISOString() },
        StateMachine: { Id: MIGRATION_MACHINE_ARN, Name: MIGRATION_MACHINE_ARN.split(':').pop() },
      },
    });
    this.abortCurrent = execution.abort;
    const path: string[] = [];
    const logs = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') path.push(event.state.name);
      }
    })();
    try {
      const output = await execution.result;
      await logs.catch(() => undefined);
      this.cloud.executions.set(executionArn, { status: 'SUCCEEDED' });
      return { status: 'SUCCEEDED', output, report: output as Record<string, unknown>, path };
    } catch (err) {
      await logs.catch(() => undefined);
      if (err instanceof Error && err.name === 'ExecutionAbortedError') {
        this.cloud.executions.set(executionArn, { status: 'ABORTED' });
        return { status: 'ABORTED', path };
      }
      const cause = err instanceof Error ? (err.cause as Error | undefined) : undefined;
      this.cloud.executions.set(executionArn, { status: 'FAILED' });
      let report: Record<string, unknown> | undefined;
      try {
        report = JSON.parse(cause?.message ?? '') as Record<string, unknown>;
      } catch {
        report = undefined;
      }
      return { status: 'FAILED', error: cause?.name, cause: cause?.message, report, path };
    }
  }
}
