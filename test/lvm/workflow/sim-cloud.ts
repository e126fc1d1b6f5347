import { randomUUID } from 'node:crypto';
import { ssmCommands, type LvmStep } from '../../../shared/lvm/command';
import { ACCOUNT, REGION } from './definitions';
import type { SimInstance } from './sim-instance';

/**
 * EC2, SSM, DynamoDB (the lock item) and Step Functions as the migration workflow's SDK integrations see them, with
 * the behaviour the workflow must cope with: volumes that take a few polls to become available, attach, detach and
 * delete; idempotent CreateVolume client tokens; eventual consistency; throttling; agents that go offline; errors
 * shaped the way Step Functions reports them (`Ec2.Ec2Exception` with the code only in the cause text).
 */

export interface Tag {
  Key: string;
  Value: string;
}
export interface Attachment {
  InstanceId: string;
  Device: string;
  State: 'attaching' | 'attached' | 'detaching';
  DeleteOnTermination: boolean;
}
export interface Volume {
  VolumeId: string;
  Size: number;
  VolumeType: string;
  State: 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';
  AvailabilityZone: string;
  Encrypted: boolean;
  KmsKeyId?: string;
  Iops?: number;
  Throughput?: number;
  MultiAttachEnabled: boolean;
  Attachments: Attachment[];
  Tags: Tag[];
  /** Describe calls until the pending transition completes. */
  pendingPolls: number;
  clientToken?: string;
}
interface Snapshot {
  SnapshotId: string;
  VolumeId: string;
  State: 'pending' | 'completed' | 'error';
  Progress: string;
  Tags: Tag[];
  pendingPolls: number;
}
interface Modification {
  VolumeId: string;
  ModificationState: 'modifying' | 'optimizing' | 'completed' | 'failed';
  TargetSize: number;
  TargetVolumeType: string;
  pendingPolls: number;
}
interface Command {
  CommandId: string;
  InstanceId: string;
  step: string;
  env: Record<string, string>;
  gets: number;
  run?: { exitCode: number; stdout: string; stderr: string };
  undeliverable: boolean;
}

export interface CloudFaults {
  /** Throttle the first attempt of every EC2 call (each request is answered RequestLimitExceeded once). */
  throttleEveryEc2Call?: boolean;
  /** The attachment of a new volume never completes. */
  attachStuck?: boolean;
  /** The SSM agent: 'online', or lost (PingStatus ConnectionLost, SendCommand → InvalidInstanceId). */
  agentOffline?: boolean;
  /** CreateVolume creates the volume, then the response is lost (503 to the caller), once. */
  createVolumeResponseLostOnce?: boolean;
  /** DeleteVolume of this volume is denied (an SCP, say), until the scenario clears it. */
  deleteDenied?: string;
  /** Called before each SendCommand; lets a scenario change the world mid-run (reboot, agent loss). */
  beforeSendCommand?: (step: string, cloud: SimCloud) => void;
}

export class StepFunctionsError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

const ec2Error = (status: number, message: string): StepFunctionsError =>
  new StepFunctionsError('Ec2.Ec2Exception', `${message} (Service: Ec2, Status Code: ${status}, Request ID: ${randomUUID()})`);

export interface Call {
  api: string;
  input: Record<string, unknown>;
  error?: string;
}

export class SimCloud {
  readonly volumes = new Map<string, Volume>();
  readonly snapshots = new Map<string, Snapshot>();
  readonly modifications = new Map<string, Modification>();
  readonly commands = new Map<string, Command>();
  readonly lockTable = new Map<string, Record<string, { S?: string; N?: string }>>();
  readonly executions = new Map<string, { status: string }>();
  readonly startedExecutions: { name: string; input: unknown; stateMachineArn: string }[] = [];
  readonly calls: Call[] = [];
  readonly instance: { InstanceId: string; State: string; AvailabilityZone: string; RootVolumeId: string; Tags: Tag[] };
  faults: CloudFaults = {};
  /** Commands sent while this is above zero are not delivered (the agent is away: a reboot); each one counts down. */
  agentAway = 0;
  /** Deleting a volume vigil did not create needs a completed snapshot of it (snapshotOldVolume, the default). */
  requireSnapshotBeforeDelete = true;
  /** Things the workflow must never do; a scenario asserts this stays empty. */
  readonly violations: string[] = [];
  private seq = 0;
  private throttled = new Set<string>();

  constructor(readonly host: SimInstance, opts: { instanceId: string; az: string; tags?: Tag[] }) {
    this.instance = {
      InstanceId: opts.instanceId,
      State: 'running',
      AvailabilityZone: opts.az,
      RootVolumeId: this.id('vol'),
      Tags: opts.tags ?? [{ Key: 'vigil:lvm-migration', Value: 'enabled' }],
    };
    this.volumes.set(this.instance.RootVolumeId, {
      VolumeId: this.instance.RootVolumeId,
      Size: 8,
      VolumeType: 'gp3',
      State: 'in-use',
      AvailabilityZone: opts.az,
      Encrypted: true,
      MultiAttachEnabled: false,
      Attachments: [{ InstanceId: opts.instanceId, Device: '/dev/xvda', State: 'attached', DeleteOnTermination: true }],
      Tags: [],
      pendingPolls: 0,
    });
  }

  /** Ids like EC2's: 17 hex digits. */
  id(prefix: string): string {
    this.seq += 1;
    return `${prefix}-0${this.seq.toString(16).padStart(16, 'a')}`;
  }

  /** Adds a data volume that is already attached (the old volume of a migration). */
  addAttachedVolume(sizeGiB: number, device: string, tags: Tag[] = []): string {
    const id = this.id('vol');
    this.volumes.set(id, {
      VolumeId: id,
      Size: sizeGiB,
      VolumeType: 'gp2',
      State: 'in-use',
      AvailabilityZone: this.instance.AvailabilityZone,
      Encrypted: false,
      MultiAttachEnabled: false,
      Attachments: [{ InstanceId: this.instance.InstanceId, Device: device, State: 'attached', DeleteOnTermination: false }],
      Tags: [{ Key: 'InstanceId', Value: this.instance.InstanceId }, ...tags],
      pendingPolls: 0,
    });
    this.host.attachDisk(id, sizeGiB);
    return id;
  }

  callsTo(api: string): Call[] {
    return this.calls.filter((c) => c.api === api && !c.error);
  }

  private record(api: string, input: Record<string, unknown>): void {
    this.calls.push({ api, input: structuredClone(input) });
  }

  private ec2(api: string, input: Record<string, unknown>): void {
    const key = `${api}:${JSON.stringify(input)}:${this.attemptsOf(api, input)}`;
    if (this.faults.throttleEveryEc2Call && !this.throttled.has(key)) {
      this.throttled.add(key);
      this.calls.push({ api, input: structuredClone(input), error: 'RequestLimitExceeded' });
      throw ec2Error(503, `Request limit exceeded. Account ${ACCOUNT} has been throttled on ${api} because it exceeded its request rate limit.`);
    }
    this.record(api, input);
  }

  /** How many successful calls with exactly this input came before (so each new request is throttled once). */
  private attemptsOf(api: string, input: Record<string, unknown>): number {
    const text = JSON.stringify(input);
    return this.calls.filter((c) => c.api === api && !c.error && JSON.stringify(c.input) === text).length;
  }

  private volume(id: string): Volume {
    const v = this.volumes.get(id);
    if (!v || v.State === 'deleted') throw ec2Error(400, `The volume '${id}' does not exist.`);
    return v;
  }

  /** One describe poll moves pending transitions along. */
  private advance(v: Volume): void {
    if (v.pendingPolls > 0) {
      v.pendingPolls -= 1;
      return;
    }
    if (v.State === 'creating') v.State = 'available';
    if (v.State === 'deleting') {
      v.State = 'deleted';
      return;
    }
    for (const a of v.Attachments) {
      if (a.State === 'attaching' && !this.faults.attachStuck) {
        a.State = 'attached';
        this.host.attachDisk(v.VolumeId, v.Size);
      }
    }
    const detaching = v.Attachments.filter((a) => a.State === 'detaching');
    if (detaching.length > 0) {
      v.Attachments = v.Attachments.filter((a) => a.State !== 'detaching');
      this.host.detachDisk(v.VolumeId);
      if (v.Attachments.length === 0) v.State = 'available';
    }
  }

  private publicVolume(v: Volume): Record<string, unknown> {
    const { pendingPolls: _p, clientToken: _c, ...rest } = v;
    return structuredClone(rest);
  }

  // ---- EC2 ----------------------------------------------------------------------------------------------------------
  describeInstances(input: { InstanceIds: string[] }): unknown {
    this.ec2('ec2:describeInstances', input);
    if (!input.InstanceIds.includes(this.instance.InstanceId)) {
      throw ec2Error(400, `The instance ID '${input.InstanceIds.join(',')}' does not exist`);
    }
    const mappings = [...this.volumes.values()].flatMap((v) =>
      v.Attachments.filter((a) => a.InstanceId === this.instance.InstanceId).map((a) => ({
        DeviceName: a.Device,
        Ebs: { VolumeId: v.VolumeId, Status: a.State, DeleteOnTermination: a.DeleteOnTermination },
      })),
    );
    return {
      Reservations: [
        {
          ReservationId: 'r-0123',
          Instances: [
            {
              InstanceId: this.instance.InstanceId,
              InstanceType: 'm7g.large',
              State: { Code: 16, Name: this.instance.State },
              Placement: { AvailabilityZone: this.instance.AvailabilityZone },
              RootDeviceName: '/dev/xvda',
              RootDeviceType: 'ebs',
              PlatformDetails: 'Linux/UNIX',
              BlockDeviceMappings: mappings,
              Tags: this.instance.Tags,
            },
          ],
        },
      ],
    };
  }

  describeVolumes(input: { VolumeIds?: string[]; Filters?: { Name: string; Values: string[] }[] }): unknown {
    this.ec2('ec2:describeVolumes', input);
    let volumes: Volume[];
    if (input.VolumeIds) {
      volumes = input.VolumeIds.map((id) => this.volume(id));
      for (const v of volumes) this.advance(v);
    } else {
      volumes = [...this.volumes.values()].filter(
        (v) =>
          v.State !== 'deleted' &&
          (input.Filters ?? []).every((f) => {
            if (f.Name === 'attachment.instance-id') return v.Attachments.some((a) => f.Values.includes(a.InstanceId));
            if (f.Name.startsWith('tag:')) return v.Tags.some((t) => t.Key === f.Name.slice(4) && f.Values.includes(t.Value));
            throw new Error(`filter ${f.Name} not simulated`);
          }),
      );
    }
    return { Volumes: volumes.filter((v) => v.State !== 'deleted' || input.VolumeIds).map((v) => this.publicVolume(v)) };
  }

  createVolume(input: Record<string, unknown> & { ClientToken?: string; Size: number; AvailabilityZone: string }): unknown {
    this.ec2('ec2:createVolume', input);
    const existing = [...this.volumes.values()].find((v) => input.ClientToken && v.clientToken === input.ClientToken);
    if (existing) {
      if (existing.Size !== input.Size) throw ec2Error(400, 'IdempotentParameterMismatch: the client token was used with other parameters.');
      return { VolumeId: existing.VolumeId, State: existing.State, Size: existing.Size };
    }
    if (input.AvailabilityZone !== this.instance.AvailabilityZone) {
      // Not an EC2 error as such, but attaching it would fail: the workflow must never ask for it.
      throw new Error(`CreateVolume in ${input.AvailabilityZone}, the instance is in ${this.instance.AvailabilityZone}`);
    }
    const id = this.id('vol');
    const tags = ((input.TagSpecifications as { Tags: Tag[] }[] | undefined) ?? []).flatMap((t) => t.Tags);
    this.volumes.set(id, {
      VolumeId: id,
      Size: input.Size,
      VolumeType: String(input.VolumeType),
      State: 'creating',
      AvailabilityZone: input.AvailabilityZone,
      Encrypted: Boolean(input.Encrypted),
      ...(input.KmsKeyId ? { KmsKeyId: String(input.KmsKeyId) } : {}),
      ...(input.Iops ? { Iops: Number(input.Iops) } : {}),
      ...(input.Throughput ? { Throughput: Number(input.Throughput) } : {}),
      MultiAttachEnabled: false,
      Attachments: [],
      Tags: tags,
      pendingPolls: 1,
      ...(input.ClientToken ? { clientToken: input.ClientToken } : {}),
    });
    if (this.faults.createVolumeResponseLostOnce) {
      this.faults.createVolumeResponseLostOnce = false;
      throw ec2Error(503, 'We encountered an internal error. Please try again.');
    }
    return { VolumeId: id, State: 'creating', Size: input.Size };
  }

  attachVolume(input: { Device: string; InstanceId: string; VolumeId: string }): unknown {
    this.ec2('ec2:attachVolume', input);
    const v = this.volume(input.VolumeId);
    if (v.Attachments.some((a) => a.InstanceId === input.InstanceId)) {
      throw ec2Error(400, `${input.VolumeId} is already attached to an instance`);
    }
    if (v.State !== 'available') throw ec2Error(400, `Volume '${input.VolumeId}' is in the '${v.State}' state.`);
    const used = [...this.volumes.values()].flatMap((x) => x.Attachments.filter((a) => a.InstanceId === input.InstanceId).map((a) => a.Device));
    if (used.includes(input.Device)) throw ec2Error(400, `Attachment point ${input.Device} is already in use`);
    v.State = 'in-use';
    v.Attachments.push({ InstanceId: input.InstanceId, Device: input.Device, State: 'attaching', DeleteOnTermination: false });
    return { State: 'attaching', VolumeId: v.VolumeId, InstanceId: input.InstanceId, Device: input.Device };
  }

  detachVolume(input: { VolumeId: string; InstanceId?: string; Force?: boolean }): unknown {
    this.ec2('ec2:detachVolume', input);
    const v = this.volume(input.VolumeId);
    const a = v.Attachments.find((x) => !input.InstanceId || x.InstanceId === input.InstanceId);
    if (!a) throw ec2Error(400, `Volume '${input.VolumeId}' is in the '${v.State}' state.`);
    if (a.State === 'attaching' && !input.Force) {
      throw ec2Error(400, `Volume '${input.VolumeId}' is in the 'attaching' state.`);
    }
    if (this.host.pvs.has(v.VolumeId) || this.host.orphanPvs.has(v.VolumeId)) {
      // Pulling a disk that is still a PV: the very thing the workflow must never do.
      this.violations.push(`DetachVolume of ${v.VolumeId} while it is still a PV`);
      throw new Error(`DetachVolume of ${v.VolumeId} while it is still a PV of ${this.host.vg}`);
    }
    a.State = 'detaching';
    return { State: 'detaching', VolumeId: v.VolumeId };
  }

  deleteVolume(input: { VolumeId: string }): unknown {
    if (this.faults.deleteDenied === input.VolumeId) {
      this.calls.push({ api: 'ec2:deleteVolume', input: structuredClone(input), error: 'UnauthorizedOperation' });
      throw ec2Error(403, 'You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: ec2:DeleteVolume with an explicit deny in a service control policy');
    }
    this.ec2('ec2:deleteVolume', input);
    const v = this.volume(input.VolumeId);
    if (v.State !== 'available' && v.State !== 'error') throw ec2Error(400, `Volume ${input.VolumeId} is currently attached to ${v.Attachments[0]?.InstanceId}`);
    const ours = v.Tags.some((t) => t.Key === 'vigil:migration');
    const snapshotted = [...this.snapshots.values()].some((x) => x.VolumeId === v.VolumeId && x.State === 'completed');
    if (this.requireSnapshotBeforeDelete && !ours && !snapshotted) this.violations.push(`DeleteVolume of ${v.VolumeId} without a completed snapshot`);
    v.State = 'deleting';
    return {};
  }

  createSnapshot(input: { VolumeId: string; TagSpecifications?: { Tags: Tag[] }[] }): unknown {
    this.ec2('ec2:createSnapshot', input);
    this.volume(input.VolumeId);
    const id = this.id('snap');
    this.snapshots.set(id, {
      SnapshotId: id,
      VolumeId: input.VolumeId,
      State: 'pending',
      Progress: '0%',
      Tags: (input.TagSpecifications ?? []).flatMap((t) => t.Tags),
      pendingPolls: 2,
    });
    return { SnapshotId: id, State: 'pending', VolumeId: input.VolumeId };
  }

  describeSnapshots(input: { SnapshotIds?: string[]; OwnerIds?: string[]; Filters?: { Name: string; Values: string[] }[] }): unknown {
    this.ec2('ec2:describeSnapshots', input);
    let found = [...this.snapshots.values()];
    if (input.SnapshotIds) {
      found = input.SnapshotIds.map((id) => {
        const s = this.snapshots.get(id);
        if (!s) throw ec2Error(400, `The snapshot '${id}' does not exist.`);
        if (s.pendingPolls > 0) s.pendingPolls -= 1;
        else if (s.State === 'pending') {
          s.State = 'completed';
          s.Progress = '100%';
        }
        return s;
      });
    }
    for (const f of input.Filters ?? []) {
      if (f.Name === 'volume-id') found = found.filter((s) => f.Values.includes(s.VolumeId));
      else if (f.Name.startsWith('tag:')) found = found.filter((s) => s.Tags.some((t) => t.Key === f.Name.slice(4) && f.Values.includes(t.Value)));
      else throw new Error(`filter ${f.Name} not simulated`);
    }
    return { Snapshots: found.map(({ pendingPolls: _p, ...s }) => structuredClone(s)) };
  }

  modifyVolume(input: { VolumeId: string; Size?: number; VolumeType?: string }): unknown {
    this.ec2('ec2:modifyVolume', input);
    const v = this.volume(input.VolumeId);
    const current = this.modifications.get(v.VolumeId);
    if (current && current.ModificationState !== 'completed') {
      throw ec2Error(400, `IncorrectModificationState: Volume ${v.VolumeId} is already being modified.`);
    }
    const m: Modification = {
      VolumeId: v.VolumeId,
      ModificationState: 'modifying',
      TargetSize: input.Size ?? v.Size,
      TargetVolumeType: input.VolumeType ?? v.VolumeType,
      pendingPolls: 1,
    };
    this.modifications.set(v.VolumeId, m);
    return { VolumeModification: { ...m } };
  }

  describeVolumesModifications(input: { VolumeIds: string[] }): unknown {
    this.ec2('ec2:describeVolumesModifications', input);
    const mods = input.VolumeIds.flatMap((id) => {
      const m = this.modifications.get(id);
      if (!m) return [];
      if (m.pendingPolls > 0) m.pendingPolls -= 1;
      else if (m.ModificationState === 'modifying') {
        m.ModificationState = 'optimizing';
        const v = this.volume(id);
        v.Size = m.TargetSize;
        v.VolumeType = m.TargetVolumeType;
        this.host.resizeDisk(id, m.TargetSize);
      }
      const { pendingPolls: _p, ...rest } = m;
      return [rest];
    });
    return { VolumesModifications: mods };
  }

  // ---- SSM -------------------------------------------------------------------------------------------------------------
  describeInstanceInformation(input: { Filters: { Key: string; Values: string[] }[] }): unknown {
    this.record('ssm:describeInstanceInformation', input);
    return {
      InstanceInformationList: [
        {
          InstanceId: this.instance.InstanceId,
          PingStatus: this.faults.agentOffline ? 'ConnectionLost' : 'Online',
          PlatformType: 'Linux',
          PlatformName: 'Amazon Linux',
          AgentVersion: '3.3.1142.0',
        },
      ],
    };
  }

  sendCommand(input: {
    DocumentName: string;
    InstanceIds: string[];
    Comment: string;
    Parameters: { commands: string[]; executionTimeout: string[] };
  }): unknown {
    const step = input.Comment.split(' ')[1] ?? '';
    this.faults.beforeSendCommand?.(step, this);
    if (input.DocumentName !== 'AWS-RunShellScript') throw new Error(`unexpected document ${input.DocumentName}`);
    if (this.faults.agentOffline || !input.InstanceIds.includes(this.instance.InstanceId)) {
      this.calls.push({ api: 'ssm:sendCommand', input: structuredClone(input), error: 'InvalidInstanceId' });
      throw new StepFunctionsError('Ssm.InvalidInstanceIdException', 'Instances [[' + input.InstanceIds.join(', ') + ']] not in a valid state for account ' + ACCOUNT + ' (Service: Ssm, Status Code: 400, Request ID: x)');
    }
    this.record('ssm:sendCommand', input);
    const env = parseEnv(input.Parameters.commands);
    // The commands must be exactly what ssmCommands builds for this step and env.
    const expected = ssmCommands(step as LvmStep, env);
    if (JSON.stringify(expected) !== JSON.stringify(input.Parameters.commands)) throw new Error(`commands of ${step} are not ssmCommands(step, env)`);
    const command: Command = {
      CommandId: randomUUID(),
      InstanceId: this.instance.InstanceId,
      step,
      env,
      gets: 0,
      undeliverable: this.instance.State !== 'running' || this.agentAway > 0,
    };
    if (this.agentAway > 0) this.agentAway -= 1;
    this.commands.set(command.CommandId, command);
    return { Command: { CommandId: command.CommandId, DocumentName: input.DocumentName, Status: 'Pending' } };
  }

  getCommandInvocation(input: { CommandId: string; InstanceId: string }): unknown {
    this.record('ssm:getCommandInvocation', input);
    const c = this.commands.get(input.CommandId);
    if (!c) throw new StepFunctionsError('Ssm.InvocationDoesNotExistException', 'InvocationDoesNotExist');
    c.gets += 1;
    // The first poll finds the command still running; the script runs between the first and second poll.
    if (c.gets === 1) return invocation('InProgress', 'InProgress', -1, '', '');
    if (c.undeliverable) return invocation('TimedOut', 'Delivery Timed Out', -1, '', '');
    c.run ??= this.host.run(c.step, c.env);
    const { exitCode, stdout, stderr } = c.run;
    return exitCode === 0 ? invocation('Success', 'Success', 0, stdout, stderr) : invocation('Failed', 'Failed', exitCode, stdout, stderr);
  }

  // ---- DynamoDB (the lock item; only the condition expressions the workflow uses) ------------------------------------
  putItem(input: { TableName: string; Item: Record<string, { S?: string; N?: string }>; ConditionExpression: string; ExpressionAttributeValues: Record<string, { S: string }> }): unknown {
    this.record('dynamodb:putItem', input);
    const key = input.Item.pk?.S ?? '';
    const current = this.lockTable.get(key);
    const values = input.ExpressionAttributeValues;
    const ok =
      input.ConditionExpression === 'attribute_not_exists(pk) OR migrationId = :mid'
        ? !current || current.migrationId?.S === values[':mid']?.S
        : input.ConditionExpression === 'executionArn = :stale'
          ? current?.executionArn?.S === values[':stale']?.S
          : (() => {
              throw new Error(`condition ${input.ConditionExpression} not simulated`);
            })();
    if (!ok) throw new StepFunctionsError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
    this.lockTable.set(key, structuredClone(input.Item));
    return {};
  }

  getItem(input: { Key: { pk: { S: string } } }): unknown {
    this.record('dynamodb:getItem', input);
    const item = this.lockTable.get(input.Key.pk.S);
    return item ? { Item: structuredClone(item) } : {};
  }

  deleteItem(input: { Key: { pk: { S: string } }; ConditionExpression: string; ExpressionAttributeValues: Record<string, { S: string }> }): unknown {
    this.record('dynamodb:deleteItem', input);
    const current = this.lockTable.get(input.Key.pk.S);
    if (current?.executionArn?.S !== input.ExpressionAttributeValues[':me']?.S) {
      throw new StepFunctionsError('DynamoDB.ConditionalCheckFailedException', 'The conditional request failed');
    }
    this.lockTable.delete(input.Key.pk.S);
    return {};
  }

  // ---- Step Functions -----------------------------------------------------------------------------------------------
  describeExecution(input: { ExecutionArn: string }): unknown {
    this.record('sfn:describeExecution', input);
    const e = this.executions.get(input.ExecutionArn);
    if (!e) throw new StepFunctionsError('Sfn.ExecutionDoesNotExistException', `Execution Does Not Exist: '${input.ExecutionArn}'`);
    return { ExecutionArn: input.ExecutionArn, Status: e.status };
  }

  startExecution(input: { StateMachineArn: string; Name: string; Input: unknown }): unknown {
    this.record('states:startExecution', input as unknown as Record<string, unknown>);
    this.startedExecutions.push({ name: input.Name, input: input.Input, stateMachineArn: input.StateMachineArn });
    const arn = `${input.StateMachineArn.replace(':stateMachine:', ':execution:')}:${input.Name}`;
    this.executions.set(arn, { status: 'RUNNING' });
    return { ExecutionArn: arn, StartDate: new Date(0).toISOString() };
  }
}

const invocation = (Status: string, StatusDetails: string, ResponseCode: number, out: string, err: string) => ({
  CommandId: 'x',
  Status,
  StatusDetails,
  ResponseCode,
  StandardOutputContent: out,
  StandardErrorContent: err,
});

/** The `export KEY='value'` lines of a commands array (values are single-quoted without embedded quotes here). */
export function parseEnv(commands: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of commands) {
    const m = /^export ([A-Z_]+)='([^']*)'$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined && m[2] !== '') env[m[1]] = m[2];
  }
  return env;
}

export const TEST_REGION = REGION;
