/**
 * The migration workflow's two state machines (Amazon States Language, JSONPath), generated here and committed as
 * infra/state-machines/*.asl.json: serverless-step-functions deploys those files and the local tests run the very same
 * files (test/lvm/workflow). `test/lvm/workflow/definition.test.ts` fails when a committed file differs from what this
 * module generates; `VIGIL_WRITE_ASL=1 npx vitest run test/lvm/workflow/definition.test.ts` rewrites them.
 *
 * Why generated: about twenty EC2 calls need the same careful error handling. EC2 errors reach Step Functions as
 * `Ec2.Ec2Exception` with the real code only in `Cause`, so each call catches that, branches on the cause text
 * (throttling → exponential backoff with jitter; known codes → their own path), and sends anything else to a named
 * end. Writing that by hand twenty times is how one of them ends up wrong.
 *
 * The only placeholders are CloudFormation intrinsics ({"Fn::GetAtt"}, {"Ref"}), which serverless-step-functions
 * turns into a Fn::Sub and the tests replace with fake ARNs. No `${…}` appears in a definition (serverless would
 * read it as a variable).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type State = { [key: string]: Json };

export const LOGICAL_IDS = {
  planFunction: 'MigrationPlanLambdaFunction',
  notifyFunction: 'MigrationNotifyLambdaFunction',
  runStepMachine: 'MigrationRunLvmStep',
  stateTable: 'StateTable',
} as const;

const planFunction: Json = { 'Fn::GetAtt': [LOGICAL_IDS.planFunction, 'Arn'] };
const notifyFunction: Json = { 'Fn::GetAtt': [LOGICAL_IDS.notifyFunction, 'Arn'] };
const runStepMachine: Json = { Ref: LOGICAL_IDS.runStepMachine };
const stateTable: Json = { Ref: LOGICAL_IDS.stateTable };

/** Cause texts of throttling and transient server errors, as the SDK integrations report them. */
export const THROTTLE_CAUSES = [
  '*Request limit exceeded*',
  '*RequestLimitExceeded*',
  '*Throttl*',
  '*ate exceeded*',
  '*Status Code: 5*',
  '*Unavailable*',
];
export const VOLUME_NOT_FOUND_CAUSES = ['*InvalidVolume.NotFound*', "*The volume '*' does not exist*"];
const INCORRECT_STATE_CAUSES = ['*IncorrectState*', "*is in the '*' state*", '*is not attached*', '*not available*'];
const THROTTLE_MAX_ATTEMPTS = 8;

const LAMBDA_RETRY: Json = [
  {
    ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];

const anyOf = (variable: string, patterns: readonly string[]): Json => ({
  Or: patterns.map((p) => ({ Variable: variable, StringMatches: p })),
});
const equalsAny = (variable: string, values: readonly string[]): Json => ({
  Or: values.map((v) => ({ Variable: variable, StringEquals: v })),
});

class Machine {
  readonly states: Record<string, State> = {};

  add(name: string, state: State): string {
    if (this.states[name]) throw new Error(`duplicate state ${name}`);
    if (name.length > 80) throw new Error(`state name too long: ${name}`);
    this.states[name] = state;
    return name;
  }

  pass(name: string, next: string, fields: State = {}): string {
    return this.add(name, { Type: 'Pass', ...fields, Next: next });
  }

  /** A Lambda task (direct function ARN: its return value is the result). */
  lambda(
    name: string,
    fn: Json,
    parameters: Json,
    resultPath: string | null,
    next: string,
    onError: string,
    errorPath: string | null = '$.error',
  ): string {
    return this.add(name, {
      Type: 'Task',
      Resource: fn,
      Parameters: parameters,
      // An omitted ResultPath is "$" (the result replaces the state); written out, some tools mis-read it.
      ...(resultPath === '$' ? {} : { ResultPath: resultPath }),
      Retry: LAMBDA_RETRY,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: errorPath, Next: onError }],
      Next: next,
    });
  }

  /**
   * An AWS SDK integration call with throttling handled by cause text. `key` names the call's scratch space:
   * the caught error goes to `$.e.<key>` and the backoff state to `throttlePath` (default `$.t.<key>`).
   */
  awsCall(name: string, cfg: AwsCall): string {
    const key = cfg.key;
    const errorPath = `$.e.${key}`;
    const tp = cfg.throttlePath ?? `$.t.${key}`;
    const prefix = { ec2: 'Ec2.Ec2Exception', ssm: 'Ssm.SsmException', sfn: 'Sfn.SfnException' }[cfg.service];
    this.add(name, {
      Type: 'Task',
      Resource: `arn:aws:states:::aws-sdk:${cfg.service}:${cfg.action}`,
      ...(cfg.inputPath ? { InputPath: cfg.inputPath } : {}),
      ...(cfg.parameters ? { Parameters: cfg.parameters } : {}),
      ...(cfg.resultSelector ? { ResultSelector: cfg.resultSelector } : {}),
      ResultPath: cfg.resultPath,
      ...(cfg.retry ? { Retry: cfg.retry } : {}),
      Catch: [
        ...(cfg.catches ?? []),
        { ErrorEquals: [prefix], ResultPath: errorPath, Next: `${name} - failed` },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: cfg.fallback },
      ],
      Next: cfg.next,
    });
    this.add(`${name} - failed`, {
      Type: 'Choice',
      Choices: [
        { ...(anyOf(`${errorPath}.Cause`, THROTTLE_CAUSES) as State), Next: `${name} - throttled` },
        ...(cfg.onCause ?? []).map((c) => ({ ...(anyOf(`${errorPath}.Cause`, c.causes) as State), Next: c.next })),
      ],
      Default: `${name} - error`,
    });
    this.add(`${name} - throttled`, {
      Type: 'Choice',
      Choices: [
        { Not: { Variable: tp, IsPresent: true }, Next: `${name} - first backoff` },
        { Variable: `${tp}.attempt`, NumericLessThan: THROTTLE_MAX_ATTEMPTS, Next: `${name} - next backoff` },
      ],
      Default: `${name} - error`,
    });
    this.pass(`${name} - first backoff`, `${name} - backoff`, {
      Parameters: { attempt: 1, delay: 1, 'wait.$': 'States.MathRandom(1, 3)' },
      ResultPath: tp,
    });
    this.pass(`${name} - next backoff`, `${name} - backoff`, {
      Parameters: {
        'attempt.$': `States.MathAdd(${tp}.attempt, 1)`,
        'delay.$': `States.MathAdd(${tp}.delay, ${tp}.delay)`,
        'wait.$': `States.MathAdd(States.MathAdd(${tp}.delay, ${tp}.delay), States.MathRandom(0, ${tp}.delay))`,
      },
      ResultPath: tp,
    });
    this.add(`${name} - backoff`, { Type: 'Wait', SecondsPath: `${tp}.wait`, Next: name });
    this.pass(`${name} - error`, cfg.fallback, { InputPath: errorPath, ResultPath: '$.error' });
    return name;
  }

  /**
   * A wait loop in the manner of the EC2 waiters: describe, check the acceptors, wait, count, until an acceptor
   * matches or the attempts run out. The counter lives at `$.w.<key>` and is reset on entry; throttling state of the
   * describe call lives under it, so it resets with every successful poll.
   */
  waiter(name: string, cfg: Waiter): string {
    const counter = `$.w.${cfg.key}`;
    this.pass(name, `${name} - describe`, { Result: { attempt: 0 }, ResultPath: counter });
    this.awsCall(`${name} - describe`, {
      ...cfg.describe,
      key: cfg.key,
      throttlePath: `${counter}.throttle`,
      resultPath: `$.r.${cfg.key}`,
      next: `${name} - check`,
    });
    this.add(`${name} - check`, {
      Type: 'Choice',
      Choices: [...cfg.acceptors, { Variable: `${counter}.attempt`, NumericGreaterThanEquals: cfg.maxAttempts, Next: cfg.onTimeout }],
      Default: `${name} - wait`,
    });
    this.add(`${name} - wait`, { Type: 'Wait', Seconds: cfg.delaySeconds, Next: `${name} - count` });
    this.pass(`${name} - count`, `${name} - describe`, {
      Parameters: { 'attempt.$': `States.MathAdd(${counter}.attempt, 1)` },
      ResultPath: counter,
    });
    return name;
  }

  /**
   * One on-instance step through the child workflow. `$.step` (or `resultPath`) becomes {outcome, output} with the
   * child's report in `output`; a child that could not run at all counts as outcome `failed`.
   */
  runStep(name: string, step: string, envPath: string, next: string, resultPath = '$.step'): string {
    this.add(name, {
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: {
        StateMachineArn: runStepMachine,
        Input: {
          step,
          'env.$': envPath,
          'instanceId.$': '$.plan.instanceId',
          'migrationId.$': '$.plan.migrationId',
          // The child's scratch space for caught errors and throttling backoff, started empty.
          e: {},
          t: {},
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      ResultSelector: { 'outcome.$': '$.Output.outcome', 'output.$': '$.Output' },
      ResultPath: resultPath,
      Retry: [
        {
          ErrorEquals: ['StepFunctions.ExecutionLimitExceeded', 'StepFunctions.SdkClientException', 'StepFunctions.AWSStepFunctionsException'],
          IntervalSeconds: 5,
          MaxAttempts: 5,
          BackoffRate: 2,
          JitterStrategy: 'FULL',
        },
      ],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.e.runStep', Next: `${name} - crashed` }],
      Next: next,
    });
    this.pass(`${name} - crashed`, next, {
      Parameters: { outcome: 'failed', output: { outcome: 'failed', step, 'error.$': '$.e.runStep' } },
      ResultPath: resultPath,
    });
    return name;
  }

  /** Ends the workflow with a named outcome: record it (and why) and go to the report. */
  end(name: string, outcome: string, reason?: string): string {
    return this.pass(name, 'Report', {
      Parameters: { outcome, ...(reason ? { reason } : {}) },
      ResultPath: '$.end',
    });
  }

  /** Records why the workflow leaves its happy path (`$.failure`), for the report. */
  why(name: string, next: string, reason: string, detailPath?: string): string {
    return this.pass(name, next, {
      Parameters: { reason, ...(detailPath ? { 'detail.$': detailPath } : {}) },
      ResultPath: '$.failure',
    });
  }

  definition(comment: string, startAt: string): Json {
    return { Comment: comment, StartAt: startAt, States: this.states };
  }
}

interface AwsCall {
  service: 'ec2' | 'ssm' | 'sfn';
  action: string;
  key: string;
  parameters?: Json;
  inputPath?: string;
  resultSelector?: Json;
  resultPath: string | null;
  next: string;
  fallback: string;
  retry?: Json;
  catches?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  onCause?: { causes: readonly string[]; next: string }[];
  throttlePath?: string;
}

interface Waiter {
  key: string;
  describe: Omit<AwsCall, 'key' | 'resultPath' | 'next' | 'throttlePath'>;
  acceptors: Json[];
  delaySeconds: number;
  maxAttempts: number;
  onTimeout: string;
}

const VOLUME = (key: string) => `$.r.${key}.volumes[0]`;
const volumeIs = (key: string, state: string): Json => ({
  And: [
    { Variable: VOLUME(key), IsPresent: true },
    { Variable: `${VOLUME(key)}.State`, StringEquals: state },
  ],
});
const attachedToInstance = (key: string, attachmentState: string): Json => ({
  And: [
    { Variable: `${VOLUME(key)}.Attachments[0]`, IsPresent: true },
    { Variable: `${VOLUME(key)}.Attachments[0].InstanceId`, StringEqualsPath: '$.plan.instanceId' },
    { Variable: `${VOLUME(key)}.Attachments[0].State`, StringEquals: attachmentState },
  ],
});
const describeVolume = (idPath: string, fallback: string, onCause: AwsCall['onCause'] = []): Waiter['describe'] => ({
  service: 'ec2',
  action: 'describeVolumes',
  parameters: { 'VolumeIds.$': `States.Array(${idPath})` },
  resultSelector: { 'volumes.$': '$.Volumes' },
  fallback,
  onCause,
});
const stepEnv = 'States.JsonMerge($.decision.env, $.new.env, false)';
const MODIFICATION_STATE = '$.r.modification.modifications[0].ModificationState';
const stepOk: Json = { Variable: '$.step.outcome', StringEquals: 'ok' };

/**
 * Time between wait-loop polls and how many, per EC2 waiter (the SDK waiters use 15 s × 40).
 *
 * History budget (25,000 events per execution): a poll of the move costs 19 events and the move hands over to a new
 * execution after at most 900 polls (17,100 events). A waiter iteration costs 11 events, a rollback run 12. The
 * longest path after a full poll budget (snapshot wait 1,584 + detach 660 + delete 660 + the rest, a few hundred)
 * stays under 20,500; before the move (volume 1,320 + attach 660) and the rollback (200 runs: 2,400) likewise.
 */
export const WAITS = {
  volumeAvailable: { delaySeconds: 5, maxAttempts: 120 },
  attached: { delaySeconds: 10, maxAttempts: 60 },
  detached: { delaySeconds: 10, maxAttempts: 60 },
  deleted: { delaySeconds: 10, maxAttempts: 60 },
  snapshot: { delaySeconds: 600, maxAttempts: 144 },
  modification: { delaySeconds: 15, maxAttempts: 240 },
} as const;
/**
 * Rollback re-runs (each after pollIntervalSeconds) while extents move back or the agent is away: 200 × 5 minutes
 * by default. A longer rollback ends `rollback-incomplete`, and `vigil migrate resume` carries on in a fresh execution.
 */
export const ROLLBACK_MAX_RUNS = 200;

export function migrationDefinition(): Json {
  const m = new Machine();

  // ---- start: a new migration, or a resumed one (continuation execution, `vigil migrate resume`) ----------------
  m.add('Start', {
    Type: 'Choice',
    Choices: [{ Variable: '$.resume', IsPresent: true, Next: 'Resume' }],
    Default: 'Plan',
  });
  const execution = {
    'executionArn.$': '$$.Execution.Id',
    'executionName.$': '$$.Execution.Name',
    'startTime.$': '$$.Execution.StartTime',
  };
  // The plan replaces the state: from here on the data is {input, plan, move, new, snapshot, ...}.
  m.lambda('Plan', planFunction, { action: 'plan', 'input.$': '$', execution }, '$', 'Is the plan valid', 'Failed before any change');
  m.add('Is the plan valid', {
    Type: 'Choice',
    Choices: [{ Variable: '$.valid', BooleanEquals: false, Next: 'Invalid input' }],
    Default: 'Describe instance',
  });
  m.end('Invalid input', 'refused', 'the input is invalid');
  m.lambda('Resume', planFunction, { action: 'resume', 'input.$': '$', execution }, '$', 'Is the resume valid', 'Failed before any change');
  m.add('Is the resume valid', {
    Type: 'Choice',
    Choices: [{ Variable: '$.valid', BooleanEquals: false, Next: 'Invalid input' }],
    Default: 'Acquire lock',
  });

  // ---- pre-flight, read-only ------------------------------------------------------------------------------------
  m.awsCall('Describe instance', {
    service: 'ec2',
    action: 'describeInstances',
    key: 'instance',
    parameters: { 'InstanceIds.$': 'States.Array($.plan.instanceId)' },
    resultSelector: { 'reservations.$': '$.Reservations' },
    resultPath: '$.r.instance',
    next: 'Describe SSM agent',
    fallback: 'Failed before any change',
    onCause: [{ causes: ['*InvalidInstanceID*', '*does not exist*'], next: 'Instance not found' }],
  });
  m.pass('Instance not found', 'Describe SSM agent', { Result: { reservations: [] }, ResultPath: '$.r.instance' });
  m.awsCall('Describe SSM agent', {
    service: 'ssm',
    action: 'describeInstanceInformation',
    key: 'ssm',
    parameters: { Filters: [{ Key: 'InstanceIds', 'Values.$': 'States.Array($.plan.instanceId)' }] },
    resultSelector: { 'list.$': '$.InstanceInformationList' },
    resultPath: '$.r.ssm',
    retry: [{ ErrorEquals: ['Ssm.InternalServerErrorException'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: 'FULL' }],
    next: 'Describe attached volumes',
    fallback: 'Failed before any change',
  });
  m.awsCall('Describe attached volumes', {
    service: 'ec2',
    action: 'describeVolumes',
    key: 'attached',
    parameters: { Filters: [{ Name: 'attachment.instance-id', 'Values.$': 'States.Array($.plan.instanceId)' }] },
    resultSelector: { 'volumes.$': '$.Volumes' },
    resultPath: '$.r.attached',
    next: 'Find volume of this migration',
    fallback: 'Failed before any change',
  });
  // A crashed or redriven run finds the volume it created by its tag (and CreateVolume's client token agrees).
  m.awsCall('Find volume of this migration', {
    service: 'ec2',
    action: 'describeVolumes',
    key: 'own',
    parameters: {
      Filters: [
        { Name: 'tag:vigil:migration', 'Values.$': 'States.Array($.plan.migrationId)' },
        { Name: 'tag:InstanceId', 'Values.$': 'States.Array($.plan.instanceId)' },
      ],
    },
    resultSelector: { 'volumes.$': '$.Volumes' },
    resultPath: '$.r.own',
    next: 'Check instance',
    fallback: 'Failed before any change',
  });
  const facts = {
    'reservations.$': '$.r.instance.reservations',
    'ssm.$': '$.r.ssm.list',
    'attachedVolumes.$': '$.r.attached.volumes',
    'ownVolumes.$': '$.r.own.volumes',
  };
  m.lambda(
    'Check instance',
    planFunction,
    { action: 'check-instance', 'plan.$': '$.plan', facts },
    '$.preflight',
    'Is the instance ok',
    'Failed before any change',
  );
  m.add('Is the instance ok', {
    Type: 'Choice',
    Choices: [{ Variable: '$.preflight.ok', BooleanEquals: false, Next: 'Refused' }],
    Default: 'Acquire lock',
  });

  // ---- one migration per instance: a conditional put on the state table -----------------------------------------
  const lockItem = {
    pk: { 'S.$': '$.plan.lock.key' },
    migrationId: { 'S.$': '$.plan.migrationId' },
    executionArn: { 'S.$': '$$.Execution.Id' },
    instanceId: { 'S.$': '$.plan.instanceId' },
    volumeGroup: { 'S.$': '$.plan.vg' },
    expiresAt: { 'N.$': '$.plan.lock.expiresAt' },
  };
  const ddbRetry: Json = [
    {
      ErrorEquals: [
        'DynamoDB.ProvisionedThroughputExceededException',
        'DynamoDB.ThrottlingException',
        'DynamoDB.RequestLimitExceeded',
        'DynamoDB.InternalServerErrorException',
      ],
      IntervalSeconds: 1,
      MaxAttempts: 6,
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    },
  ];
  const conditionFailed = ['DynamoDB.ConditionalCheckFailedException', 'DynamoDb.ConditionalCheckFailedException'];
  m.add('Acquire lock', {
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:putItem',
    Parameters: {
      TableName: stateTable,
      Item: lockItem,
      // The same migration (a continuation or resumed execution) takes its own lock over.
      ConditionExpression: 'attribute_not_exists(pk) OR migrationId = :mid',
      ExpressionAttributeValues: { ':mid': { 'S.$': '$.plan.migrationId' } },
    },
    ResultPath: null,
    Retry: ddbRetry,
    Catch: [
      { ErrorEquals: conditionFailed, ResultPath: null, Next: 'Read lock holder' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed before any change' },
    ],
    Next: 'Locked',
  });
  m.add('Read lock holder', {
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:getItem',
    Parameters: { TableName: stateTable, Key: { pk: { 'S.$': '$.plan.lock.key' } }, ConsistentRead: true },
    ResultPath: '$.r.lock',
    Retry: ddbRetry,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed before any change' }],
    Next: 'Is the lock held',
  });
  m.add('Is the lock held', {
    Type: 'Choice',
    Choices: [{ Variable: '$.r.lock.Item.executionArn.S', IsPresent: true, Next: 'Describe lock holder' }],
    Default: 'Acquire lock',
  });
  m.awsCall('Describe lock holder', {
    service: 'sfn',
    action: 'describeExecution',
    key: 'holder',
    parameters: { 'ExecutionArn.$': '$.r.lock.Item.executionArn.S' },
    resultSelector: { 'status.$': '$.Status' },
    resultPath: '$.r.holder',
    catches: [{ ErrorEquals: ['Sfn.ExecutionDoesNotExistException'], ResultPath: null, Next: 'Take over stale lock' }],
    next: 'Is the lock holder running',
    fallback: 'Failed before any change',
  });
  m.add('Is the lock holder running', {
    Type: 'Choice',
    Choices: [{ Variable: '$.r.holder.status', StringEquals: 'RUNNING', Next: 'Another migration runs' }],
    Default: 'Take over stale lock',
  });
  // The holder ended without releasing (stopped by hand, say): its lock is stale. The VG checks still refuse a VG
  // that such a run left half-migrated.
  m.add('Take over stale lock', {
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:putItem',
    Parameters: {
      TableName: stateTable,
      Item: lockItem,
      ConditionExpression: 'executionArn = :stale',
      ExpressionAttributeValues: { ':stale': { 'S.$': '$.r.lock.Item.executionArn.S' } },
    },
    ResultPath: null,
    Retry: ddbRetry,
    Catch: [
      { ErrorEquals: conditionFailed, ResultPath: null, Next: 'Another migration runs' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed before any change' },
    ],
    Next: 'Locked',
  });
  m.pass('Another migration runs', 'Refused', {
    Parameters: {
      reason: 'another migration of this instance is running',
      'detail.$': '$.r.lock.Item.executionArn.S',
    },
    ResultPath: '$.failure',
  });
  const resumeAt = (phase: string, next: string): Json => ({
    And: [{ Variable: '$.resumePhase', IsPresent: true }, { Variable: '$.resumePhase', StringEquals: phase }],
    Next: next,
  });
  m.add('Locked', {
    Type: 'Choice',
    Choices: [
      // pvmove-start resumes a move from its last checkpoint, or does nothing when the move already runs or is done.
      resumeAt('move', 'Start pvmove'),
      resumeAt('rollback', 'Rollback'),
      resumeAt('release-old', 'Detach old volume'),
      resumeAt('grow-in-place', 'Grow in place'),
    ],
    Default: 'Inspect',
  });

  // ---- the volume group as the instance sees it -------------------------------------------------------------------
  m.runStep('Inspect', 'inspect', '$.preflight.inspectEnv', 'Check volume group', '$.inspect');
  m.lambda(
    'Check volume group',
    planFunction,
    { action: 'check-volume-group', 'plan.$': '$.plan', 'preflight.$': '$.preflight', facts, 'inspect.$': '$.inspect.output' },
    '$.decision',
    'Is the volume group ok',
    'Failed before any change',
  );
  m.add('Is the volume group ok', {
    Type: 'Choice',
    Choices: [
      { Variable: '$.decision.ok', BooleanEquals: false, Next: 'Refused' },
      { Variable: '$.decision.reinspectEnv', IsPresent: true, Next: 'Old volume found' },
      { Variable: '$.plan.dryRun', BooleanEquals: true, Next: 'Dry run' },
    ],
    Default: 'Notify start',
  });
  // The old volume was resolved from the VG's PVs: inspect again with OLD_VOLUME_ID, so the step reports what that
  // volume holds (/, /boot, swap) and its allocated extents.
  m.pass('Old volume found', 'Inspect with old volume', { InputPath: '$.decision.oldVolumeId', ResultPath: '$.preflight.oldVolumeId' });
  m.pass('Inspect with old volume', 'Inspect', { InputPath: '$.decision.reinspectEnv', ResultPath: '$.preflight.inspectEnv' });
  m.end('Refused', 'refused');
  m.end('Dry run', 'dry-run');

  m.lambda(
    'Notify start',
    notifyFunction,
    { action: 'started', 'plan.$': '$.plan', 'executionArn.$': '$$.Execution.Id' },
    null,
    'Which mode',
    'Which mode',
    null,
  );
  m.add('Which mode', {
    Type: 'Choice',
    Choices: [{ Variable: '$.plan.mode', StringEquals: 'grow-in-place', Next: 'Is a modification needed' }],
    Default: 'Is a snapshot wanted',
  });

  // ---- snapshot of the old volume: point in time now, waited for before the old volume is deleted ----------------
  m.add('Is a snapshot wanted', {
    Type: 'Choice',
    Choices: [{ Variable: '$.decision.createSnapshot', IsPresent: true, Next: 'Find snapshot of this migration' }],
    Default: 'Is the new volume known',
  });
  m.awsCall('Find snapshot of this migration', {
    service: 'ec2',
    action: 'describeSnapshots',
    key: 'findSnapshot',
    parameters: {
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag:vigil:migration', 'Values.$': 'States.Array($.plan.migrationId)' },
        { Name: 'volume-id', 'Values.$': 'States.Array($.decision.oldVolumeId)' },
      ],
    },
    resultSelector: { 'snapshots.$': '$.Snapshots' },
    resultPath: '$.r.findSnapshot',
    next: 'Does the snapshot exist',
    fallback: 'Failed before any change',
  });
  m.add('Does the snapshot exist', {
    Type: 'Choice',
    Choices: [{ Variable: '$.r.findSnapshot.snapshots[0].SnapshotId', IsPresent: true, Next: 'Reuse snapshot' }],
    Default: 'Create snapshot',
  });
  m.pass('Reuse snapshot', 'Is the new volume known', {
    Parameters: { 'snapshotId.$': '$.r.findSnapshot.snapshots[0].SnapshotId' },
    ResultPath: '$.snapshot',
  });
  m.awsCall('Create snapshot', {
    service: 'ec2',
    action: 'createSnapshot',
    key: 'createSnapshot',
    inputPath: '$.decision.createSnapshot',
    resultSelector: { 'snapshotId.$': '$.SnapshotId' },
    resultPath: '$.snapshot',
    next: 'Is the new volume known',
    fallback: 'Failed before any change',
  });

  // ---- the new volume ------------------------------------------------------------------------------------------------
  m.add('Is the new volume known', {
    Type: 'Choice',
    Choices: [{ Variable: '$.preflight.existingNewVolumeId', IsPresent: true, Next: 'Reuse new volume' }],
    Default: 'Create volume',
  });
  m.pass('Reuse new volume', 'Wait for new volume', {
    Parameters: { 'volumeId.$': '$.preflight.existingNewVolumeId' },
    ResultPath: '$.new',
  });
  m.awsCall('Create volume', {
    service: 'ec2',
    action: 'createVolume',
    key: 'createVolume',
    inputPath: '$.decision.createVolume',
    resultSelector: { 'volumeId.$': '$.VolumeId' },
    resultPath: '$.new',
    next: 'Wait for new volume',
    fallback: 'Create volume failed',
  });
  // The call may have created the volume although it reported an error: look for it by its tag before concluding.
  m.awsCall('Create volume failed', {
    service: 'ec2',
    action: 'describeVolumes',
    key: 'ownAfterError',
    parameters: {
      Filters: [
        { Name: 'tag:vigil:migration', 'Values.$': 'States.Array($.plan.migrationId)' },
        { Name: 'tag:InstanceId', 'Values.$': 'States.Array($.plan.instanceId)' },
      ],
    },
    resultSelector: { 'volumes.$': '$.Volumes' },
    resultPath: '$.r.ownAfterError',
    next: 'Was the volume created anyway',
    fallback: 'Failed before any change',
  });
  m.add('Was the volume created anyway', {
    Type: 'Choice',
    Choices: [{ Variable: '$.r.ownAfterError.volumes[0].VolumeId', IsPresent: true, Next: 'Adopt volume created anyway' }],
    Default: 'Failed before any change',
  });
  m.pass('Adopt volume created anyway', 'Why - create volume failed', {
    Parameters: { 'volumeId.$': '$.r.ownAfterError.volumes[0].VolumeId' },
    ResultPath: '$.new',
  });
  m.why('Why - create volume failed', 'Release new volume', 'CreateVolume failed', '$.error');
  m.end('Failed before any change', 'failed-unchanged');

  m.waiter('Wait for new volume', {
    key: 'newAvailable',
    describe: describeVolume('$.new.volumeId', 'Why - new volume unknown', [
      // Right after CreateVolume, DescribeVolumes may not know the id yet (eventual consistency): keep waiting.
      { causes: VOLUME_NOT_FOUND_CAUSES, next: 'Wait for new volume - wait' },
    ]),
    acceptors: [
      { ...(volumeIs('newAvailable', 'available') as State), Next: 'Attach new volume' },
      { And: [volumeIs('newAvailable', 'in-use'), attachedToInstance('newAvailable', 'attached')], Next: 'New volume attached' },
      { And: [volumeIs('newAvailable', 'in-use'), attachedToInstance('newAvailable', 'attaching')], Next: 'Wait for attachment' },
      {
        And: [
          { Variable: VOLUME('newAvailable'), IsPresent: true },
          equalsAny(`${VOLUME('newAvailable')}.State`, ['error', 'deleting', 'deleted']),
        ],
        Next: 'Why - new volume unusable',
      },
    ],
    ...WAITS.volumeAvailable,
    onTimeout: 'Why - new volume unusable',
  });
  m.why('Why - new volume unusable', 'Release new volume', 'the new volume did not become available', '$.r.newAvailable');
  m.why('Why - new volume unknown', 'Release new volume', 'could not read the new volume', '$.error');
  m.awsCall('Attach new volume', {
    service: 'ec2',
    action: 'attachVolume',
    key: 'attach',
    parameters: { 'Device.$': '$.preflight.device', 'InstanceId.$': '$.plan.instanceId', 'VolumeId.$': '$.new.volumeId' },
    resultPath: null,
    next: 'Wait for attachment',
    fallback: 'Why - attach failed',
    onCause: [
      // Already attached (a retried call): the wait loop sees the real state.
      { causes: ['*VolumeInUse*', '*already attached*'], next: 'Wait for attachment' },
      // Not available yet: back into the availability wait, whose counter keeps running.
      { causes: ['*IncorrectState*'], next: 'Wait for new volume - wait' },
    ],
  });
  m.why('Why - attach failed', 'Release new volume', 'AttachVolume failed', '$.error');
  m.waiter('Wait for attachment', {
    key: 'attached',
    describe: describeVolume('$.new.volumeId', 'Why - attachment unknown'),
    acceptors: [
      { ...(attachedToInstance('attached', 'attached') as State), Next: 'New volume attached' },
      { ...(volumeIs('attached', 'available') as State), Next: 'Why - attachment vanished' },
    ],
    ...WAITS.attached,
    onTimeout: 'Attach stuck',
  });
  m.why('Why - attachment unknown', 'Release new volume', 'could not read the attachment state', '$.error');
  m.why('Why - attachment vanished', 'Release new volume', 'the attachment disappeared before it completed');
  // A stuck attachment: nothing ran on the instance yet, so a forced detach cannot lose data.
  m.pass('Attach stuck', 'Why - attach stuck', {
    Parameters: { 'volumeId.$': '$.new.volumeId', forceDetach: true },
    ResultPath: '$.new',
  });
  m.why('Why - attach stuck', 'Release new volume', `the attachment did not complete within ${(WAITS.attached.delaySeconds * WAITS.attached.maxAttempts) / 60} minutes`);
  m.pass('New volume attached', 'Prepare', {
    Parameters: {
      'volumeId.$': '$.new.volumeId',
      env: { 'NEW_VOLUME_ID.$': '$.new.volumeId', 'NEW_DEVICE_NAME.$': '$.preflight.device' },
    },
    ResultPath: '$.new',
  });

  // ---- on the instance: prepare, move, finish, grow ---------------------------------------------------------------
  m.runStep('Prepare', 'prepare', stepEnv, 'Did prepare succeed');
  m.add('Did prepare succeed', { Type: 'Choice', Choices: [{ ...(stepOk as State), Next: 'Start pvmove' }], Default: 'Why - prepare failed' });
  m.why('Why - prepare failed', 'Rollback', 'the prepare step did not succeed', '$.step.output');
  m.runStep('Start pvmove', 'pvmove-start', stepEnv, 'Did pvmove start');
  m.add('Did pvmove start', {
    Type: 'Choice',
    Choices: [
      { ...(stepOk as State), Next: 'Wait for pvmove' },
      // The agent is away for a moment (reboot): the status polls notice when it is back and restart the move.
      { Variable: '$.step.outcome', StringEquals: 'undeliverable', Next: 'Wait for pvmove' },
    ],
    Default: 'Why - pvmove-start failed',
  });
  m.why('Why - pvmove-start failed', 'Rollback', 'the pvmove-start step did not succeed', '$.step.output');
  m.add('Wait for pvmove', { Type: 'Wait', SecondsPath: '$.plan.pollIntervalSeconds', Next: 'Poll pvmove' });
  m.runStep('Poll pvmove', 'pvmove-status', stepEnv, 'Progress');
  m.lambda(
    'Progress',
    planFunction,
    { action: 'progress', 'plan.$': '$.plan', 'move.$': '$.move', 'step.$': '$.step.output' },
    '$.progress',
    'Record progress',
    'Why - progress failed',
  );
  m.why('Why - progress failed', 'Paused', 'the progress step failed', '$.error');
  m.pass('Record progress', 'Is a progress notification due', { InputPath: '$.progress.move', ResultPath: '$.move' });
  m.add('Is a progress notification due', {
    Type: 'Choice',
    Choices: [{ Variable: '$.progress.notifyPercent', IsPresent: true, Next: 'Notify progress' }],
    Default: 'Next move action',
  });
  m.lambda(
    'Notify progress',
    notifyFunction,
    { action: 'progress', 'plan.$': '$.plan', 'executionArn.$': '$$.Execution.Id', 'percent.$': '$.progress.notifyPercent' },
    null,
    'Next move action',
    'Next move action',
    null,
  );
  m.add('Next move action', {
    Type: 'Choice',
    Choices: [
      { Variable: '$.progress.action', StringEquals: 'wait', Next: 'Wait for pvmove' },
      { Variable: '$.progress.action', StringEquals: 'resume', Next: 'Start pvmove' },
      { Variable: '$.progress.action', StringEquals: 'done', Next: 'Finish' },
      { Variable: '$.progress.action', StringEquals: 'continue', Next: 'Continue as new execution' },
      { Variable: '$.progress.action', StringEquals: 'failed', Next: 'Why - pvmove failed' },
    ],
    Default: 'Paused',
  });
  m.why('Why - pvmove failed', 'Rollback', 'the move failed', '$.move.reason');
  // The history of one execution holds at most 25,000 events: hand the move over to a fresh execution.
  m.add('Continue as new execution', {
    Type: 'Task',
    Resource: 'arn:aws:states:::states:startExecution',
    Parameters: {
      'StateMachineArn.$': '$$.StateMachine.Id',
      'Name.$': '$.progress.nextExecutionName',
      Input: {
        resume: {
          phase: 'move',
          'plan.$': '$.plan',
          'preflight.$': '$.preflight',
          'decision.$': '$.decision',
          'new.$': '$.new',
          'snapshot.$': '$.snapshot',
          'move.$': '$.move',
        },
        'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
      },
    },
    ResultSelector: { 'executionArn.$': '$.ExecutionArn' },
    ResultPath: '$.continuedAs',
    Retry: [
      {
        ErrorEquals: ['StepFunctions.ExecutionLimitExceeded', 'StepFunctions.SdkClientException', 'StepFunctions.AWSStepFunctionsException'],
        IntervalSeconds: 5,
        MaxAttempts: 5,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
    ],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Why - could not continue' }],
    Next: 'Continued',
  });
  m.why('Why - could not continue', 'Paused', 'could not start the continuation execution', '$.error');
  m.end('Continued', 'continued');
  m.end('Paused', 'paused');

  m.runStep('Finish', 'finish', stepEnv, 'Did finish succeed');
  m.add('Did finish succeed', {
    Type: 'Choice',
    Choices: [
      {
        And: [stepOk, { Variable: '$.step.output.result.oldDeviceFree', IsPresent: true }, { Variable: '$.step.output.result.oldDeviceFree', BooleanEquals: true }],
        Next: 'Is a grow wanted',
      },
    ],
    Default: 'Why - finish failed',
  });
  // All data is on the new volume, but the old one is not proven free: never detach it then.
  m.why('Why - finish failed', 'Paused', 'the finish step did not free the old volume (all data is on the new volume)', '$.step.output');
  m.add('Is a grow wanted', {
    Type: 'Choice',
    Choices: [{ Variable: '$.decision.grow', BooleanEquals: true, Next: 'Grow' }],
    Default: 'Detach old volume',
  });
  m.runStep('Grow', 'grow', stepEnv, 'Did the grow succeed', '$.growStep');
  m.add('Did the grow succeed', {
    Type: 'Choice',
    Choices: [{ Variable: '$.growStep.outcome', StringEquals: 'ok', Next: 'Detach old volume' }],
    Default: 'Why - grow failed',
  });
  m.pass('Why - grow failed', 'Detach old volume', {
    Parameters: { reason: 'the grow step did not succeed', 'detail.$': '$.growStep.output' },
    ResultPath: '$.notGrown',
  });

  // ---- the old volume: detach; with a completed snapshot (by default), delete -------------------------------------
  m.awsCall('Detach old volume', {
    service: 'ec2',
    action: 'detachVolume',
    key: 'detachOld',
    parameters: { 'VolumeId.$': '$.decision.oldVolumeId', 'InstanceId.$': '$.plan.instanceId' },
    resultPath: null,
    next: 'Wait for old volume detached',
    fallback: 'Why - detach old failed',
    onCause: [
      { causes: INCORRECT_STATE_CAUSES, next: 'Wait for old volume detached' },
      // Already gone (a resumed release after it was deleted by hand).
      { causes: VOLUME_NOT_FOUND_CAUSES, next: 'Migration done' },
    ],
  });
  m.why('Why - detach old failed', 'Old volume left', 'DetachVolume of the old volume failed', '$.error');
  m.waiter('Wait for old volume detached', {
    key: 'oldDetached',
    describe: describeVolume('$.decision.oldVolumeId', 'Why - old volume state unknown', [
      { causes: VOLUME_NOT_FOUND_CAUSES, next: 'Migration done' },
    ]),
    acceptors: [{ ...(volumeIs('oldDetached', 'available') as State), Next: 'Should the old volume be deleted' }],
    ...WAITS.detached,
    onTimeout: 'Why - old volume stays attached',
  });
  m.why('Why - old volume state unknown', 'Old volume left', 'could not read the old volume', '$.error');
  m.why('Why - old volume stays attached', 'Old volume left', 'the old volume did not detach in time');
  m.add('Should the old volume be deleted', {
    Type: 'Choice',
    Choices: [
      { Variable: '$.plan.request.deleteOldVolume', BooleanEquals: false, Next: 'Migration done' },
      { Variable: '$.snapshot.snapshotId', IsPresent: true, Next: 'Wait for snapshot' },
    ],
    Default: 'Delete old volume',
  });
  m.waiter('Wait for snapshot', {
    key: 'snapshot',
    describe: {
      service: 'ec2',
      action: 'describeSnapshots',
      parameters: { 'SnapshotIds.$': 'States.Array($.snapshot.snapshotId)' },
      resultSelector: { 'snapshots.$': '$.Snapshots' },
      fallback: 'Why - snapshot unknown',
    },
    acceptors: [
      {
        And: [{ Variable: '$.r.snapshot.snapshots[0].State', IsPresent: true }, { Variable: '$.r.snapshot.snapshots[0].State', StringEquals: 'completed' }],
        Next: 'Delete old volume',
      },
      {
        And: [{ Variable: '$.r.snapshot.snapshots[0].State', IsPresent: true }, { Variable: '$.r.snapshot.snapshots[0].State', StringEquals: 'error' }],
        Next: 'Why - snapshot failed',
      },
    ],
    ...WAITS.snapshot,
    onTimeout: 'Why - snapshot not completed',
  });
  m.why('Why - snapshot unknown', 'Old volume left', 'could not read the snapshot', '$.error');
  m.why('Why - snapshot failed', 'Old volume left', 'the snapshot of the old volume failed, so it was not deleted', '$.r.snapshot');
  m.why('Why - snapshot not completed', 'Old volume left', 'the snapshot of the old volume did not complete in time, so it was not deleted');
  m.awsCall('Delete old volume', {
    service: 'ec2',
    action: 'deleteVolume',
    key: 'deleteOld',
    parameters: { 'VolumeId.$': '$.decision.oldVolumeId' },
    resultPath: null,
    next: 'Wait for old volume deleted',
    fallback: 'Why - delete old failed',
    onCause: [{ causes: VOLUME_NOT_FOUND_CAUSES, next: 'Migration done' }],
  });
  m.why('Why - delete old failed', 'Old volume left', 'DeleteVolume of the old volume failed', '$.error');
  m.waiter('Wait for old volume deleted', {
    key: 'oldDeleted',
    describe: describeVolume('$.decision.oldVolumeId', 'Why - old volume state unknown', [
      { causes: VOLUME_NOT_FOUND_CAUSES, next: 'Migration done' },
    ]),
    acceptors: [{ ...(volumeIs('oldDeleted', 'deleted') as State), Next: 'Migration done' }],
    ...WAITS.deleted,
    onTimeout: 'Why - old volume not deleted',
  });
  m.why('Why - old volume not deleted', 'Old volume left', 'the old volume was not deleted in time');
  m.end('Old volume left', 'completed-old-volume-left');
  m.add('Migration done', {
    Type: 'Choice',
    Choices: [{ Variable: '$.notGrown', IsPresent: true, Next: 'Completed not grown' }],
    Default: 'Completed',
  });
  m.end('Completed', 'completed');
  m.end('Completed not grown', 'completed-not-grown');

  // ---- rollback: abort the move, put the extents back, release and delete the new volume --------------------------
  m.add('Rollback', {
    Type: 'Choice',
    // Only a volume that got attached can have been touched on the instance.
    Choices: [{ Variable: '$.new.env', IsPresent: true, Next: 'Roll back on instance' }],
    Default: 'Release new volume',
  });
  m.pass('Roll back on instance', 'Run rollback', { Result: { attempt: 0 }, ResultPath: '$.w.rollback' });
  m.runStep('Run rollback', 'rollback', stepEnv, 'Is the instance rolled back');
  m.add('Is the instance rolled back', {
    Type: 'Choice',
    Choices: [
      {
        And: [
          stepOk,
          equalsAny('$.step.output.result.status', ['ok', 'noop']),
          { Variable: '$.step.output.result.newDeviceFree', IsPresent: true },
          { Variable: '$.step.output.result.newDeviceFree', BooleanEquals: true },
        ],
        Next: 'Release new volume',
      },
      { Variable: '$.w.rollback.attempt', NumericGreaterThanEquals: ROLLBACK_MAX_RUNS, Next: 'Rollback incomplete' },
      // Extents are moving back in the background, or the agent is away: run the step again later.
      {
        Or: [
          { And: [stepOk, { Variable: '$.step.output.result.status', StringEquals: 'in-progress' }] },
          { Variable: '$.step.outcome', StringEquals: 'undeliverable' },
        ],
        Next: 'Wait for rollback',
      },
    ],
    Default: 'Rollback incomplete',
  });
  m.add('Wait for rollback', { Type: 'Wait', SecondsPath: '$.plan.pollIntervalSeconds', Next: 'Count rollback run' });
  m.pass('Count rollback run', 'Run rollback', {
    Parameters: { 'attempt.$': 'States.MathAdd($.w.rollback.attempt, 1)' },
    ResultPath: '$.w.rollback',
  });
  // Never delete a volume the rollback did not prove free: it may hold the only copy of some extents.
  m.end('Rollback incomplete', 'rollback-incomplete');

  m.add('Release new volume', {
    Type: 'Choice',
    Choices: [
      { Not: { Variable: '$.new.volumeId', IsPresent: true }, Next: 'Rolled back' },
      { Variable: '$.new.forceDetach', IsPresent: true, Next: 'Force-detach new volume' },
    ],
    Default: 'Detach new volume',
  });
  const detachNew = (name: string, force: boolean) =>
    m.awsCall(name, {
      service: 'ec2',
      action: 'detachVolume',
      key: 'detachNew',
      parameters: {
        'VolumeId.$': '$.new.volumeId',
        'InstanceId.$': '$.plan.instanceId',
        ...(force ? { Force: true } : {}),
      },
      resultPath: null,
      next: 'Wait for new volume detached',
      fallback: 'Rollback incomplete',
      onCause: [{ causes: [...INCORRECT_STATE_CAUSES, ...VOLUME_NOT_FOUND_CAUSES], next: 'Wait for new volume detached' }],
    });
  detachNew('Detach new volume', false);
  detachNew('Force-detach new volume', true);
  m.waiter('Wait for new volume detached', {
    key: 'newDetached',
    describe: describeVolume('$.new.volumeId', 'Rollback incomplete', [{ causes: VOLUME_NOT_FOUND_CAUSES, next: 'Rolled back' }]),
    acceptors: [
      {
        And: [{ Variable: VOLUME('newDetached'), IsPresent: true }, equalsAny(`${VOLUME('newDetached')}.State`, ['available', 'error'])],
        Next: 'Delete new volume',
      },
      { ...(volumeIs('newDetached', 'deleted') as State), Next: 'Rolled back' },
    ],
    ...WAITS.detached,
    onTimeout: 'Rollback incomplete',
  });
  m.awsCall('Delete new volume', {
    service: 'ec2',
    action: 'deleteVolume',
    key: 'deleteNew',
    parameters: { 'VolumeId.$': '$.new.volumeId' },
    resultPath: null,
    next: 'Wait for new volume deleted',
    fallback: 'Rollback incomplete',
    onCause: [{ causes: VOLUME_NOT_FOUND_CAUSES, next: 'Rolled back' }],
  });
  m.waiter('Wait for new volume deleted', {
    key: 'newDeleted',
    describe: describeVolume('$.new.volumeId', 'Rollback incomplete', [{ causes: VOLUME_NOT_FOUND_CAUSES, next: 'Rolled back' }]),
    acceptors: [{ ...(volumeIs('newDeleted', 'deleted') as State), Next: 'Rolled back' }],
    ...WAITS.deleted,
    onTimeout: 'Rollback incomplete',
  });
  m.end('Rolled back', 'rolled-back');

  // ---- grow in place: Elastic Volumes, then pvresize + lvextend + filesystem grow ---------------------------------
  m.add('Is a modification needed', {
    Type: 'Choice',
    Choices: [{ Variable: '$.decision.modifyNeeded', BooleanEquals: true, Next: 'Modify volume' }],
    Default: 'Grow in place',
  });
  m.awsCall('Modify volume', {
    service: 'ec2',
    action: 'modifyVolume',
    key: 'modify',
    inputPath: '$.decision.modifyVolume',
    resultPath: null,
    next: 'Wait for modification',
    fallback: 'Failed before any change',
  });
  m.waiter('Wait for modification', {
    key: 'modification',
    describe: {
      service: 'ec2',
      action: 'describeVolumesModifications',
      parameters: { 'VolumeIds.$': 'States.Array($.decision.oldVolumeId)' },
      resultSelector: { 'modifications.$': '$.VolumesModifications' },
      fallback: 'Why - modification unknown',
    },
    acceptors: [
      // The new size is usable from "optimizing" on.
      {
        And: [{ Variable: MODIFICATION_STATE, IsPresent: true }, equalsAny(MODIFICATION_STATE, ['optimizing', 'completed'])],
        Next: 'Grow in place',
      },
      {
        And: [{ Variable: MODIFICATION_STATE, IsPresent: true }, { Variable: MODIFICATION_STATE, StringEquals: 'failed' }],
        Next: 'Why - modification failed',
      },
    ],
    ...WAITS.modification,
    onTimeout: 'Why - modification slow',
  });
  m.why('Why - modification unknown', 'Grow in place failed', 'could not read the volume modification', '$.error');
  m.why('Why - modification failed', 'Grow in place failed', 'the volume modification failed', '$.r.modification');
  m.why('Why - modification slow', 'Grow in place failed', 'the volume modification did not reach "optimizing" in time');
  m.runStep('Grow in place', 'grow-in-place', '$.decision.env', 'Did the grow in place succeed');
  m.add('Did the grow in place succeed', {
    Type: 'Choice',
    Choices: [{ ...(stepOk as State), Next: 'Grown' }],
    Default: 'Why - grow in place failed',
  });
  m.why('Why - grow in place failed', 'Grow in place failed', 'the grow-in-place step did not succeed', '$.step.output');
  m.end('Grown', 'grown-in-place');
  m.end('Grow in place failed', 'grow-in-place-failed');

  // ---- the end: report, notify, release the lock ---------------------------------------------------------------------
  m.lambda(
    'Report',
    notifyFunction,
    { action: 'finalize', 'state.$': '$', 'executionArn.$': '$$.Execution.Id' },
    '$.final',
    'Is there a lock to release',
    'Report failed',
  );
  m.pass('Report failed', 'Is there a lock to release', {
    Result: {
      succeeded: false,
      error: 'Migration.ReportFailed',
      reportJson: '{"message":"the final report could not be built; the execution history has the details"}',
    },
    ResultPath: '$.final',
  });
  m.add('Is there a lock to release', {
    Type: 'Choice',
    Choices: [
      { Not: { Variable: '$.plan', IsPresent: true }, Next: 'Done' },
      // The continuation execution holds the lock now.
      { Variable: '$.end.outcome', StringEquals: 'continued', Next: 'Done' },
    ],
    Default: 'Release lock',
  });
  m.add('Release lock', {
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:deleteItem',
    Parameters: {
      TableName: stateTable,
      Key: { pk: { 'S.$': '$.plan.lock.key' } },
      // Only our own lock: a refusal because another migration holds it must not release theirs.
      ConditionExpression: 'executionArn = :me',
      ExpressionAttributeValues: { ':me': { 'S.$': '$$.Execution.Id' } },
    },
    ResultPath: null,
    Retry: ddbRetry,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'Done' }],
    Next: 'Done',
  });
  m.add('Done', {
    Type: 'Choice',
    Choices: [{ Variable: '$.final.succeeded', BooleanEquals: true, Next: 'Succeeded' }],
    Default: 'Failed',
  });
  m.add('Succeeded', { Type: 'Succeed', OutputPath: '$.final.report' });
  m.add('Failed', { Type: 'Fail', ErrorPath: '$.final.error', CausePath: '$.final.reportJson' });

  return m.definition(
    'vigil: move an instance LVM volume group online to a new EBS volume (or grow it in place), with rollback. See docs/migration.md.',
    'Start',
  );
}

/**
 * The child workflow: run one contract step (shared/lvm/README.md) on the instance with SSM Run Command and report
 * its parsed JSON. It always succeeds with {outcome: ok | refused | failed | undeliverable}; the parent decides.
 */
export function runStepDefinition(): Json {
  const m = new Machine();
  m.lambda('Build command', planFunction, { action: 'step-request', 'request.$': '$' }, '$.request', 'Send command', 'Failed to run');
  m.awsCall('Send command', {
    service: 'ssm',
    action: 'sendCommand',
    key: 'send',
    inputPath: '$.request.sendCommand',
    resultSelector: { 'commandId.$': '$.Command.CommandId' },
    resultPath: '$.command',
    retry: [{ ErrorEquals: ['Ssm.InternalServerErrorException'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: 'FULL' }],
    // SSM answers InvalidInstanceId when the instance is not managed or its agent is not connected.
    catches: [{ ErrorEquals: ['Ssm.InvalidInstanceIdException'], ResultPath: '$.error', Next: 'Not delivered' }],
    next: 'Start polling',
    fallback: 'Failed to run',
  });
  m.pass('Start polling', 'Wait for command', { Result: { attempt: 0 }, ResultPath: '$.poll' });
  m.add('Wait for command', { Type: 'Wait', SecondsPath: '$.request.pollSeconds', Next: 'Get invocation' });
  m.awsCall('Get invocation', {
    service: 'ssm',
    action: 'getCommandInvocation',
    key: 'get',
    parameters: { 'CommandId.$': '$.command.commandId', 'InstanceId.$': '$.instanceId' },
    resultSelector: {
      'status.$': '$.Status',
      'statusDetails.$': '$.StatusDetails',
      'responseCode.$': '$.ResponseCode',
      'stdout.$': '$.StandardOutputContent',
      'stderr.$': '$.StandardErrorContent',
    },
    resultPath: '$.invocation',
    retry: [
      // The invocation appears a moment after SendCommand returns.
      { ErrorEquals: ['Ssm.InvocationDoesNotExistException'], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 },
      { ErrorEquals: ['Ssm.InternalServerErrorException'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: 'FULL' },
    ],
    next: 'Is the command done',
    fallback: 'Failed to run',
  });
  m.add('Is the command done', {
    Type: 'Choice',
    Choices: [
      { Variable: '$.invocation.status', StringEquals: 'Success', Next: 'Ok' },
      {
        And: [{ Variable: '$.invocation.status', StringEquals: 'Failed' }, { Variable: '$.invocation.responseCode', NumericEquals: 3 }],
        Next: 'Refused',
      },
      {
        And: [
          equalsAny('$.invocation.status', ['Pending', 'InProgress', 'Delayed', 'Cancelling']),
          { Variable: '$.poll.attempt', NumericLessThanPath: '$.request.maxPolls' },
        ],
        Next: 'Count poll',
      },
      { ...(equalsAny('$.invocation.statusDetails', ['Undeliverable', 'Delivery Timed Out', 'DeliveryTimedOut']) as State), Next: 'Undeliverable' },
    ],
    Default: 'Failed',
  });
  m.pass('Count poll', 'Wait for command', {
    Parameters: { 'attempt.$': 'States.MathAdd($.poll.attempt, 1)' },
    ResultPath: '$.poll',
  });
  const invocation = {
    'step.$': '$.step',
    'status.$': '$.invocation.status',
    'statusDetails.$': '$.invocation.statusDetails',
    'responseCode.$': '$.invocation.responseCode',
  };
  m.add('Ok', {
    Type: 'Pass',
    Parameters: { outcome: 'ok', ...invocation, 'result.$': 'States.StringToJson($.invocation.stdout)' },
    End: true,
  });
  m.add('Refused', {
    Type: 'Pass',
    Parameters: { outcome: 'refused', ...invocation, 'result.$': 'States.StringToJson($.invocation.stdout)' },
    End: true,
  });
  m.add('Undeliverable', { Type: 'Pass', Parameters: { outcome: 'undeliverable', ...invocation }, End: true });
  m.add('Not delivered', {
    Type: 'Pass',
    Parameters: { outcome: 'undeliverable', 'step.$': '$.step', statusDetails: 'InvalidInstanceId', 'error.$': '$.error' },
    End: true,
  });
  m.add('Failed', {
    Type: 'Pass',
    Parameters: { outcome: 'failed', ...invocation, 'stdout.$': '$.invocation.stdout', 'stderr.$': '$.invocation.stderr' },
    End: true,
  });
  m.add('Failed to run', {
    Type: 'Pass',
    Parameters: { outcome: 'failed', 'step.$': '$.step', 'error.$': '$.error' },
    End: true,
  });
  return m.definition('vigil: run one LVM migration step on an instance with SSM Run Command and return its JSON result.', 'Build command');
}
