import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The migration request (the execution input ops give) and the plan the first workflow step derives from it.
 *
 * The request is what a person types (CLI flags or the console's input box), so every field has a clear error and a
 * default where one is safe. The plan adds what the workflow derives once and must never change afterwards: the
 * migration id (the first execution's name, kept across continuation executions), the CreateVolume client token, the
 * lock key and the tags every resource it creates carries.
 */

export const InstanceId = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an EC2 instance id such as i-0123456789abcdef0');
export const VolumeId = z.string().regex(/^vol-[0-9a-f]{8,17}$/, 'an EBS volume id such as vol-0123456789abcdef0');

/** LVM names: letters, digits and `+_.-`, not starting with `-`, and not `.`/`..` (lvm(8) "VALID NAMES"). */
const lvmName = (what: string) =>
  z
    .string()
    .max(127)
    .regex(/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/, `${what}: letters, digits and + _ . - (not starting with -)`)
    .refine((s) => s !== '.' && s !== '..', `${what} cannot be "." or ".."`);
export const VolumeGroupName = lvmName('volume group name');
export const LogicalVolumeName = lvmName('logical volume name');

/** The volume types a migration may create; the IAM policy allows the same list (infra/resources/migration.yml). */
export const VolumeType = z.enum(['gp3', 'gp2', 'io2']);
export type VolumeType = z.infer<typeof VolumeType>;

/** A KMS key id, key ARN, alias name or alias ARN, as CreateVolume's KmsKeyId accepts. */
export const KmsKeyRef = z
  .string()
  .regex(
    /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[0-9a-f-]{36}|alias\/[A-Za-z0-9/_-]+)|[0-9a-f-]{36}|alias\/[A-Za-z0-9/_-]+|mrk-[0-9a-f]{32})$/,
    'a KMS key id, key ARN, alias/NAME or alias ARN',
  );

/** `100%FREE` (all free space of the VG) or an absolute size in MiB, as the `grow` step's LV_SIZE takes it. */
export const LvSize = z.union([z.literal('100%FREE'), z.number().int().positive()]);

export const Target = z
  .strictObject({
    volumeType: VolumeType.default('gp3'),
    sizeGiB: z.number().int().min(1).max(65_536),
    iops: z.number().int().positive().optional(),
    throughput: z.number().int().positive().optional(),
    /**
     * vigil only ever creates encrypted volumes (the IAM policy enforces it). Without a key EBS uses the account's
     * default EBS key.
     */
    encrypted: z.literal(true, { error: 'vigil only creates encrypted volumes (encrypted must be true)' }).default(true),
    kmsKeyId: KmsKeyRef.optional(),
  })
  .superRefine((t, ctx) => {
    // The documented EBS limits; the rest (IOPS per GiB for io2 and so on) is EC2's to reject, before any change.
    if (t.volumeType === 'gp2' && (t.iops !== undefined || t.throughput !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'gp2 takes neither iops nor throughput', path: ['iops'] });
    }
    if (t.volumeType === 'io2') {
      if (t.iops === undefined) ctx.addIssue({ code: 'custom', message: 'io2 needs iops', path: ['iops'] });
      if (t.throughput !== undefined) {
        ctx.addIssue({ code: 'custom', message: 'throughput is only for gp3', path: ['throughput'] });
      }
      if (t.sizeGiB < 4) ctx.addIssue({ code: 'custom', message: 'io2 volumes are at least 4 GiB', path: ['sizeGiB'] });
    }
    if (t.volumeType === 'gp3') {
      if (t.iops !== undefined && (t.iops < 3000 || t.iops > 80_000)) {
        ctx.addIssue({ code: 'custom', message: 'gp3 iops must be 3000..80000', path: ['iops'] });
      }
      if (t.throughput !== undefined && (t.throughput < 125 || t.throughput > 2000)) {
        ctx.addIssue({ code: 'custom', message: 'gp3 throughput must be 125..2000 MiB/s', path: ['throughput'] });
      }
    }
    if (t.volumeType !== 'io2' && t.sizeGiB > 16_384) {
      ctx.addIssue({ code: 'custom', message: `${t.volumeType} volumes are at most 16384 GiB`, path: ['sizeGiB'] });
    }
  });
export type Target = z.infer<typeof Target>;

export const Grow = z.strictObject({
  /** The logical volume to grow; empty = every LV of the VG (the `grow` step's contract). */
  lv: z.union([z.literal(''), LogicalVolumeName]).default(''),
  size: LvSize.default('100%FREE'),
});

/** What ops put in the execution input (see docs/migration.md). Unknown keys are errors: a typo must not be ignored. */
export const MigrationRequest = z.strictObject({
  instanceId: InstanceId,
  volumeGroup: VolumeGroupName,
  /** The EBS volume to move off; default: the one PV of the volume group. */
  oldVolumeId: VolumeId.optional(),
  /** `migrate` moves the VG to a new volume; `grow-in-place` resizes/retypes the existing volume (Elastic Volumes). */
  mode: z.enum(['migrate', 'grow-in-place']).default('migrate'),
  target: Target,
  /** Grow a logical volume and its filesystem afterwards; `false` leaves the LVs as they are. */
  grow: z.union([z.literal(false), Grow]).default({ lv: '', size: '100%FREE' }),
  snapshotOldVolume: z.boolean().default(true),
  deleteOldVolume: z.boolean().default(true),
  /** Seconds between pvmove status polls. */
  pollIntervalSeconds: z.number().int().min(30).max(3600).default(300),
  /**
   * Polls before the workflow hands over to a fresh execution. An execution holds at most 25,000 history events; a
   * poll costs 19, so 900 polls (75 hours at the default interval) leave room for everything before and after the
   * move, including the longest wait loops (see WAITS and ROLLBACK_MAX_RUNS in workflow-definition.ts).
   */
  maxPollsPerExecution: z.number().int().min(3).max(900).default(900),
  /** Run the read-only pre-flight checks, then stop. */
  dryRun: z.boolean().default(false),
  /** Free text for the notifications (the CLI puts the caller's user name here). */
  requestedBy: z.string().max(200).optional(),
});
export type MigrationRequest = z.infer<typeof MigrationRequest>;
export type MigrationRequestInput = z.input<typeof MigrationRequest>;

/** Tags on the volumes and snapshots vigil creates; the IAM policy requires the first two on CreateVolume. */
export const Tags = {
  instanceId: 'InstanceId',
  migration: 'vigil:migration',
  execution: 'vigil:execution',
  role: 'vigil:role',
} as const;

/** Instances opt in to migrations with this tag; the SendCommand permission requires it. */
export const INSTANCE_OPT_IN_TAG = { key: 'vigil:lvm-migration', value: 'enabled' } as const;

/** How long a migration lock outlives a crashed execution that never released it. */
const LOCK_TTL_SECONDS = 30 * 24 * 3600;

export const ExecutionContext = z.object({
  executionArn: z.string().regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/),
  executionName: z.string().min(1).max(80),
  startTime: z.string().optional(),
});
export type ExecutionContext = z.infer<typeof ExecutionContext>;

export const Ec2Tag = z.object({ Key: z.string(), Value: z.string() });
export type Ec2Tag = z.infer<typeof Ec2Tag>;

export const Plan = z.object({
  migrationId: z.string().min(1).max(80),
  /** The execution that created the plan; continuation executions keep it. */
  firstExecutionArn: z.string(),
  account: z.string(),
  region: z.string(),
  clientToken: z.string().max(64),
  instanceId: InstanceId,
  vg: VolumeGroupName,
  mode: z.enum(['migrate', 'grow-in-place']),
  dryRun: z.boolean(),
  request: MigrationRequest,
  pollIntervalSeconds: z.number().int(),
  maxPollsPerExecution: z.number().int(),
  lock: z.object({ key: z.string(), expiresAt: z.string().regex(/^\d+$/) }),
  tags: z.array(Ec2Tag),
});
export type Plan = z.infer<typeof Plan>;

export const parseExecutionArn = (arn: string): { region: string; account: string; stateMachine: string; name: string } => {
  const [, , , region = '', account = '', , stateMachine = '', name = ''] = arn.split(':');
  return { region, account, stateMachine, name };
};

/**
 * EC2 keeps a CreateVolume client token for at least 24 hours and returns the same volume for the same token, so a
 * retried or redriven CreateVolume never makes a second volume. The token is at most 64 ASCII characters; the
 * execution ARN is longer and unique per state machine (so per stage), which its hash keeps.
 */
export const clientTokenFor = (executionArn: string): string =>
  `vigil-${createHash('sha256').update(executionArn).digest('hex').slice(0, 58)}`;

export const lockKeyFor = (instanceId: string): string => `migration-lock#${instanceId}`;

/** The lock item's TTL (epoch seconds, as the string DynamoDB's N type takes in the state machine). */
export const lockExpiry = (now: Date): string => String(Math.floor(now.getTime() / 1000) + LOCK_TTL_SECONDS);

export function buildPlan(request: MigrationRequest, ctx: ExecutionContext, now: Date): Plan {
  const { region, account } = parseExecutionArn(ctx.executionArn);
  const migrationId = ctx.executionName;
  return {
    migrationId,
    firstExecutionArn: ctx.executionArn,
    account,
    region,
    clientToken: clientTokenFor(ctx.executionArn),
    instanceId: request.instanceId,
    vg: request.volumeGroup,
    mode: request.mode,
    dryRun: request.dryRun,
    request,
    pollIntervalSeconds: request.pollIntervalSeconds,
    maxPollsPerExecution: request.maxPollsPerExecution,
    lock: { key: lockKeyFor(request.instanceId), expiresAt: lockExpiry(now) },
    tags: [
      { Key: Tags.instanceId, Value: request.instanceId },
      { Key: Tags.migration, Value: migrationId },
      { Key: Tags.execution, Value: ctx.executionArn },
    ],
  };
}

/**
 * A default execution name for a migration: readable in the console and in `vigil migrate list`, unique per second,
 * within Step Functions' 80 characters of [A-Za-z0-9_-].
 */
export function executionNameFor(request: Pick<MigrationRequest, 'instanceId' | 'volumeGroup' | 'dryRun'>, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const vg = request.volumeGroup.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30);
  return `${request.dryRun ? 'dry' : 'mig'}-${request.instanceId}-${vg}-${stamp}`.slice(0, 80);
}

/** Names of continuation executions: derived from the migration id so a retried StartExecution is idempotent. */
export function continuationName(migrationId: string, n: number): string {
  const suffix = `-c${n}`;
  return `${migrationId.slice(0, 80 - suffix.length)}${suffix}`;
}

/** Zod issues as one line per problem, with the field path: what a person needs to fix the input. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'input'}: ${issue.message}`);
}
