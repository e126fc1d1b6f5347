import { z } from 'zod';
import type { Alert, Severity } from '../alerts/schema';
import { parseExecutionArn, Plan } from './plan';
import { InstanceCheck, VolumeGroupCheck } from './preflight';
import { MoveState } from './progress';
import { StepOutcome } from './step-outcome';

/**
 * Every way a migration execution ends, what it means for the data and the volumes, and what ops do next. The
 * workflow names one of these in its report (execution output, or the `Cause` of a failed execution) and in the final
 * notification; docs/migration.md has the same table for people.
 */
export const Outcome = z.enum([
  'completed',
  'completed-not-grown',
  'completed-old-volume-left',
  'grown-in-place',
  'dry-run',
  'continued',
  'refused',
  'failed-unchanged',
  'rolled-back',
  'rollback-incomplete',
  'paused',
  'grow-in-place-failed',
]);
export type Outcome = z.infer<typeof Outcome>;

/** Phases a new execution can resume at (continue-as-new, `vigil migrate resume`). */
export const ResumePhase = z.enum(['move', 'rollback', 'release-old', 'grow-in-place']);
export type ResumePhase = z.infer<typeof ResumePhase>;

interface OutcomeInfo {
  succeeded: boolean;
  severity: Severity;
  /** The state machine's Fail error name for failed outcomes. */
  error?: string;
  resumeAt?: ResumePhase;
  whatToDo: string;
}

export const OUTCOMES: Record<Outcome, OutcomeInfo> = {
  completed: { succeeded: true, severity: 'info', whatToDo: 'Nothing: the volume group runs on the new volume.' },
  'completed-not-grown': {
    succeeded: true,
    severity: 'medium',
    whatToDo:
      'The data runs on the new volume, but growing the LV/filesystem failed: run lvextend and resize2fs/xfs_growfs by hand (the report has the error).',
  },
  'completed-old-volume-left': {
    succeeded: true,
    severity: 'medium',
    resumeAt: 'release-old',
    whatToDo:
      'The data runs on the new volume; the old volume was not deleted (see reason). Fix the cause and run `vigil migrate resume <arn>`, or delete it by hand once you have checked it holds nothing you need.',
  },
  'grown-in-place': { succeeded: true, severity: 'info', whatToDo: 'Nothing: the volume, PV, LV and filesystem are grown.' },
  'dry-run': { succeeded: true, severity: 'info', whatToDo: 'The pre-flight passed; start the migration without --dry-run.' },
  continued: {
    succeeded: true,
    severity: 'info',
    whatToDo: 'Nothing: the migration continues in the execution named in continuedAs (`vigil migrate status` follows it).',
  },
  refused: {
    succeeded: false,
    severity: 'low',
    error: 'Migration.Refused',
    whatToDo: 'Nothing was changed. Fix what the refusals say and start again.',
  },
  'failed-unchanged': {
    succeeded: false,
    severity: 'medium',
    error: 'Migration.FailedUnchanged',
    whatToDo: 'Nothing was changed on the instance and no volume is left behind. Fix the error (often IAM or a quota) and start again.',
  },
  'rolled-back': {
    succeeded: false,
    severity: 'medium',
    error: 'Migration.RolledBack',
    whatToDo: 'The volume group is back on the old volume only and the new volume is deleted. Read the reason, fix it, start again.',
  },
  'rollback-incomplete': {
    succeeded: false,
    severity: 'high',
    error: 'Migration.RollbackIncomplete',
    resumeAt: 'rollback',
    whatToDo:
      'Needs attention: the rollback could not finish, so the new volume was kept (it may hold data). Check the instance (pvs, lvs -a), then run `vigil migrate resume <arn>` to retry the rollback.',
  },
  paused: {
    succeeded: false,
    severity: 'high',
    error: 'Migration.Paused',
    resumeAt: 'move',
    whatToDo:
      'Needs attention: the workflow stopped watching the move (see reason); both volumes stay attached and nothing was deleted. Fix the cause (SSM agent, instance) and run `vigil migrate resume <arn>`.',
  },
  'grow-in-place-failed': {
    succeeded: false,
    severity: 'high',
    error: 'Migration.GrowInPlaceFailed',
    resumeAt: 'grow-in-place',
    whatToDo:
      'Needs attention: the EBS volume may already be modified, but the PV/LV/filesystem were not grown. Fix the cause and run `vigil migrate resume <arn>`.',
  },
};

export const ErrorInfo = z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() });
export const RunStepResult = z.looseObject({ outcome: z.string(), output: StepOutcome });

/** The workflow's data as the final step receives it: everything optional, because any path may end here. */
export const WorkflowState = z.looseObject({
  input: z.unknown().optional(),
  plan: Plan.optional(),
  refusals: z.array(z.string()).optional(),
  preflight: InstanceCheck.optional(),
  decision: VolumeGroupCheck.optional(),
  new: z.looseObject({ volumeId: z.string().optional() }).optional(),
  snapshot: z.looseObject({ snapshotId: z.string().optional() }).optional(),
  move: MoveState.optional(),
  /** The last on-instance step: {outcome, output} with the child workflow's report in output. */
  step: RunStepResult.optional(),
  growStep: RunStepResult.optional(),
  /** Why the workflow left its happy path (set by the `Why: …` states). */
  failure: z.looseObject({ reason: z.string(), detail: z.unknown().optional() }).optional(),
  notGrown: z.looseObject({ reason: z.string(), detail: z.unknown().optional() }).optional(),
  error: ErrorInfo.optional(),
  continuedAs: z.looseObject({ executionArn: z.string().optional() }).optional(),
  end: z.looseObject({ outcome: Outcome, reason: z.string().optional() }),
});
export type WorkflowState = z.infer<typeof WorkflowState>;

export const VolumeFate = z.object({
  volumeId: z.string().nullable(),
  state: z.string(),
});

export const Report = z.object({
  outcome: Outcome,
  succeeded: z.boolean(),
  error: z.string().optional(),
  message: z.string(),
  whatToDo: z.string(),
  reason: z.string().optional(),
  migrationId: z.string().optional(),
  executionArn: z.string(),
  instanceId: z.string().optional(),
  volumeGroup: z.string().optional(),
  mode: z.string().optional(),
  oldVolume: VolumeFate,
  newVolume: VolumeFate,
  snapshotId: z.string().nullable(),
  percent: z.number().nullable(),
  refusals: z.array(z.string()),
  warnings: z.array(z.string()),
  continuedAs: z.string().optional(),
  /** For resumable outcomes: the input of the execution `vigil migrate resume` starts. */
  resume: z.unknown().optional(),
  /** The pre-flight's findings (dry runs show them). */
  preflight: z.record(z.string(), z.unknown()).optional(),
});
export type Report = z.infer<typeof Report>;

/** Step Functions limits a Fail state's Cause to 32,768 characters; the report must fit with room to spare. */
const MAX_TEXT = 2000;
const clip = (s: string | undefined, max = MAX_TEXT): string | undefined =>
  s === undefined ? undefined : s.length <= max ? s : `${s.slice(0, max - 1)}…`;

function volumeFates(state: WorkflowState, outcome: Outcome): { oldVolume: z.infer<typeof VolumeFate>; newVolume: z.infer<typeof VolumeFate> } {
  const oldId = state.decision?.oldVolumeId ?? state.preflight?.oldVolumeId ?? state.plan?.request.oldVolumeId ?? null;
  const newId = state.new?.volumeId ?? null;
  const keepOld = state.plan ? !state.plan.request.deleteOldVolume : false;
  switch (outcome) {
    case 'completed':
    case 'completed-not-grown':
      return {
        oldVolume: { volumeId: oldId, state: keepOld ? 'detached (kept, deleteOldVolume=false)' : 'deleted' },
        newVolume: { volumeId: newId, state: 'in use: holds the volume group' },
      };
    case 'completed-old-volume-left':
      return {
        oldVolume: { volumeId: oldId, state: 'removed from the volume group, not deleted' },
        newVolume: { volumeId: newId, state: 'in use: holds the volume group' },
      };
    case 'grown-in-place':
    case 'grow-in-place-failed':
      return { oldVolume: { volumeId: oldId, state: 'in use (modified in place)' }, newVolume: { volumeId: null, state: 'none' } };
    case 'rolled-back':
      return {
        oldVolume: { volumeId: oldId, state: 'in use: holds the volume group' },
        newVolume: { volumeId: newId, state: newId ? 'deleted' : 'never created' },
      };
    case 'rollback-incomplete':
      return {
        oldVolume: { volumeId: oldId, state: 'in use' },
        newVolume: { volumeId: newId, state: 'kept: may still be part of the volume group' },
      };
    case 'paused':
    case 'continued':
      return {
        oldVolume: { volumeId: oldId, state: 'in use: pvmove source' },
        newVolume: { volumeId: newId, state: 'in use: pvmove target' },
      };
    default:
      return { oldVolume: { volumeId: oldId, state: 'unchanged' }, newVolume: { volumeId: newId, state: newId ? 'deleted' : 'none' } };
  }
}

const messageOf = (value: unknown): string =>
  value && typeof value === 'object' && 'message' in value && typeof value.message === 'string' ? value.message : '';

/** A failed step's stdout is still its one JSON object when the script reached its end (`failed` + message). */
const parseJson = (text: string | undefined): unknown => {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
};

/** One line for people from whatever a `Why` state or a Catch recorded: a step report, an error, a string. */
export function describeDetail(detail: unknown): string {
  if (detail === undefined || detail === null) return '';
  if (typeof detail === 'string') return detail;
  const step = StepOutcome.safeParse(detail);
  if (step.success && typeof detail === 'object' && 'outcome' in detail) {
    const s = step.data;
    const message = messageOf(s.result) || messageOf(parseJson(s.stdout));
    const error = ErrorInfo.safeParse(s.error);
    const why =
      message ||
      (error.success && (error.data.Cause || error.data.Error) ? [error.data.Error, error.data.Cause].filter(Boolean).join(': ') : '') ||
      (s.stderr ?? '').trim().split('\n').slice(-2).join(' ') ||
      [s.status, s.statusDetails].filter(Boolean).join(' ');
    return `${s.step ?? 'step'} ${s.outcome}${why ? `: ${why}` : ''}`;
  }
  const error = ErrorInfo.safeParse(detail);
  if (error.success && (error.data.Error || error.data.Cause)) return [error.data.Error, error.data.Cause].filter(Boolean).join(': ');
  return JSON.stringify(detail);
}

function reasonOf(state: WorkflowState): string | undefined {
  const outcome = state.end.outcome;
  const parts: string[] = [];
  if (state.end.reason) parts.push(state.end.reason);
  if (state.failure) {
    const detail = describeDetail(state.failure.detail);
    parts.push(detail ? `${state.failure.reason} (${detail})` : state.failure.reason);
  } else if (outcome === 'paused' && state.move?.reason) {
    parts.push(state.move.reason);
  } else if (state.error && (outcome === 'failed-unchanged' || outcome === 'rollback-incomplete' || outcome === 'refused')) {
    parts.push(describeDetail(state.error));
  }
  if (outcome === 'rollback-incomplete') {
    const last = state.step?.output;
    const rollbackFailed = last && last.step === 'rollback' ? describeDetail(last) : state.error ? describeDetail(state.error) : '';
    if (rollbackFailed) parts.push(`then the rollback did not finish: ${rollbackFailed}`);
  }
  if (outcome === 'completed-not-grown' && state.notGrown) parts.push(`${state.notGrown.reason} (${describeDetail(state.notGrown.detail)})`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

export function buildReport(state: WorkflowState, executionArn: string): Report {
  const outcome = state.end.outcome;
  const info = OUTCOMES[outcome];
  const plan = state.plan;
  const fates = volumeFates(state, outcome);
  const reason = clip(reasonOf(state));
  const refusals = (state.refusals ?? [...(state.preflight?.refusals ?? []), ...(state.decision?.refusals ?? [])]).map((r) => clip(r, 600) ?? '');
  const warnings = [...new Set([...(state.preflight?.warnings ?? []), ...(state.decision?.warnings ?? [])])];
  const what = plan ? `${plan.vg} on ${plan.instanceId}` : 'the migration';
  const messages: Record<Outcome, string> = {
    completed: `Migrated ${what} from ${fates.oldVolume.volumeId} to ${fates.newVolume.volumeId}.`,
    'completed-not-grown': `Migrated ${what} to ${fates.newVolume.volumeId}, but growing the LV/filesystem failed.`,
    'completed-old-volume-left': `Migrated ${what} to ${fates.newVolume.volumeId}; the old volume ${fates.oldVolume.volumeId} was not deleted.`,
    'grown-in-place': `Grew ${what} in place on ${fates.oldVolume.volumeId}.`,
    'dry-run': `Pre-flight passed for ${what}; nothing was changed.`,
    continued: `Migration of ${what} continues in a new execution.`,
    refused: `Refused${plan ? ` to migrate ${what}` : ''}: ${refusals[0] ?? reason ?? 'pre-flight failed'}`,
    'failed-unchanged': `Migration of ${what} failed before changing anything.`,
    'rolled-back': `Migration of ${what} failed and was rolled back; the new volume is deleted.`,
    'rollback-incomplete': `Migration of ${what} failed and the rollback did not finish: needs attention.`,
    paused: `Migration of ${what} paused at ${state.move?.percent ?? 0}%: needs attention.`,
    'grow-in-place-failed': `Growing ${what} in place failed: needs attention.`,
  };
  const resume =
    info.resumeAt && plan
      ? {
          resume: {
            phase: info.resumeAt,
            plan,
            preflight: state.preflight,
            decision: state.decision,
            new: state.new ?? {},
            snapshot: state.snapshot ?? {},
            move: state.move,
          },
        }
      : undefined;
  return Report.parse({
    outcome,
    succeeded: info.succeeded,
    ...(info.error ? { error: info.error } : {}),
    message: clip(messages[outcome], 600),
    whatToDo: info.whatToDo,
    ...(reason ? { reason } : {}),
    migrationId: plan?.migrationId,
    executionArn,
    instanceId: plan?.instanceId,
    volumeGroup: plan?.vg,
    mode: plan?.mode,
    ...fates,
    snapshotId: state.snapshot?.snapshotId ?? null,
    percent: state.move ? state.move.percent : null,
    refusals,
    warnings,
    ...(state.continuedAs?.executionArn ? { continuedAs: state.continuedAs.executionArn } : {}),
    ...(resume ? { resume } : {}),
    ...(outcome === 'dry-run' && state.decision ? { preflight: state.decision.summary } : {}),
  });
}

export type NotificationKind = 'started' | 'progress' | 'ended';

/** The Alert (shared/alerts/schema.ts) for a migration notification; the id is stable so a retried publish dedups. */
export function migrationAlert(
  kind: NotificationKind,
  args: { plan?: Plan; executionArn: string; percent?: number; report?: Report; now: Date },
): Alert {
  const { plan, executionArn, now } = args;
  const { region, account } = parseExecutionArn(executionArn);
  const migrationId = plan?.migrationId ?? parseExecutionArn(executionArn).name;
  const what = plan ? `${plan.vg} on ${plan.instanceId}` : migrationId;
  const base = {
    ruleId: 'lvm-migration',
    categories: ['lvm-migration'],
    account,
    region,
    eventTime: now.toISOString(),
    count: 1,
    dedupKey: `lvm-migration#${migrationId}`,
    runbook: 'docs/migration.md',
    context: {
      migrationId,
      executionArn,
      ...(plan ? { instanceId: plan.instanceId, volumeGroup: plan.vg, mode: plan.mode, target: plan.request.target } : {}),
    },
  };
  if (kind === 'started') {
    const verb = plan?.mode === 'grow-in-place' ? 'Growing in place' : 'Migrating';
    return {
      ...base,
      id: `lvm-migration#${migrationId}#started`,
      title: `${verb} ${what}`,
      severity: 'info',
      summary: `${verb} ${what} to ${plan ? `${plan.request.target.volumeType} ${plan.request.target.sizeGiB} GiB` : 'the target'}${plan?.request.requestedBy ? ` (requested by ${plan.request.requestedBy})` : ''}.`,
    };
  }
  if (kind === 'progress') {
    const percent = args.percent ?? 0;
    return {
      ...base,
      id: `lvm-migration#${migrationId}#progress-${percent}`,
      title: `Migration of ${what}: ${percent}% moved`,
      severity: 'info',
      summary: `pvmove has copied ${percent}% of the extents of ${what}.`,
      context: { ...base.context, percent },
    };
  }
  const report = args.report;
  if (!report) throw new Error('an "ended" notification needs the report');
  return {
    ...base,
    id: `lvm-migration#${migrationId}#ended-${report.outcome}`,
    title: `Migration of ${what}: ${report.outcome}`,
    severity: OUTCOMES[report.outcome].severity,
    summary: [report.message, report.reason ? `Reason: ${report.reason}` : '', `What to do: ${report.whatToDo}`].filter(Boolean).join('\n'),
    context: {
      ...base.context,
      outcome: report.outcome,
      oldVolume: report.oldVolume,
      newVolume: report.newVolume,
      snapshotId: report.snapshotId,
      ...(report.refusals.length > 0 ? { refusals: report.refusals } : {}),
    },
  };
}
