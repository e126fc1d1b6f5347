import type { z } from 'zod';
import type { Severity } from '../../alerts/schema';
import type { CloudTrailRecord } from '../../cloudtrail/record';
import type { DetectionConfigInput } from '../../config/detection';
import type { RuleCategory } from './categories';
import type { RuleContext } from './context';

/** The events a rule cares about: the engine indexes rules by event name, then checks the source. */
export interface EventSelector {
  /** `eventSource`, e.g. `cloudtrail.amazonaws.com`. */
  source: string;
  /** `eventName` values. */
  names: readonly string[];
}

/** Detection settings a rule cannot work without; a rule whose requirement is unset is inactive (and says so). */
export type Requirement = 'officeHours' | 'allowedSourceCidrs' | 'expectedRegions' | 'iamUserNamePattern';

export interface RuleExample {
  /** What the example shows; it becomes the test name. */
  name: string;
  /** A complete record (build it with `exampleRecord` from ./example-record). */
  record: CloudTrailRecord;
  /** The `detection` settings in force for this example (office hours, allow-lists, rule options …). */
  config?: DetectionConfigInput;
  /** For examples that must match: what the alert must say. */
  expect?: {
    severity?: Severity;
    /** A substring of the alert title. */
    title?: string;
    /** The rule's own part of the dedup key (what `dedupKey` returns). */
    dedupKey?: string;
  };
}

/**
 * One detection rule, one file: `shared/rules/<id>.ts`, `export default defineRule({...})`, listed in
 * `shared/rules/registry.ts`.
 *
 * `match` is called only for records whose (eventSource, eventName) is in `events` — or for every record when
 * `events` is `'all'` — with a context that answers the common questions (actor, source and its AWS owner,
 * success, read-only, local time in office hours …) once per record, however many rules ask. Keep `match` cheap
 * and free of side effects; the hooks run only for matches (rare) and may do more work.
 *
 * Hooks are methods (not arrow properties) so a rule with its own option type still fits `AnyRuleModule`.
 */
export interface RuleModule<O = Record<string, never>> {
  /** kebab-case; equals the file name. */
  id: string;
  /** Short, for alert titles and tables: "CloudTrail logging stopped or reduced". */
  title: string;
  /** What the rule detects and why it matters. */
  description: string;
  /** Base severity; configuration may replace it, and `severity()` may raise or lower it per event. */
  severity: Severity;
  categories: readonly RuleCategory[];
  /** Sources: CIS control, Sigma/Panther/Elastic rule, AWS documentation. */
  references: readonly string[];
  /** Known benign causes, so on-call can tell quickly. */
  falsePositives: readonly string[];
  /** What on-call does first; carried in every alert. */
  runbook: string;
  events: readonly EventSelector[] | 'all';
  requires?: readonly Requirement[];
  /** Schema of `detection.rules.<id>.options` (defaults included); validated when the engine starts. */
  options?: z.ZodType<O>;
  /** Minimum matches with one dedup key in one log file before an alert is raised (default 1). */
  threshold?: number;

  match(record: CloudTrailRecord, ctx: RuleContext<O>): boolean;
  /** The alert title for this event (default: the rule title). */
  alertTitle?(record: CloudTrailRecord, ctx: RuleContext<O>): string;
  /** The severity for this event, given the base (the rule's, or the configured one). */
  severityFor?(record: CloudTrailRecord, ctx: RuleContext<O>, base: Severity): Severity;
  /**
   * What makes two matches "the same incident" (default: the actor's ARN). The engine prefixes the rule id and the
   * account, so return only the rule's own part, e.g. `${actor}|${trailName}`.
   */
  dedupKey?(record: CloudTrailRecord, ctx: RuleContext<O>): string;
  /** One line for people (default: who called what, from where, in which region, and whether it failed). */
  summary?(record: CloudTrailRecord, ctx: RuleContext<O>): string;
  /** Extra facts for the alert's `context` (request parameters that matter, the trail name …). */
  alertContext?(record: CloudTrailRecord, ctx: RuleContext<O>): Record<string, unknown>;

  examples: { match: readonly RuleExample[]; noMatch: readonly RuleExample[] };
}

/** A rule of any option type, as the registry and the engine hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- options are validated per rule at engine start
export type AnyRuleModule = RuleModule<any>;

/** Identity function that gives a rule file its types (and a place to hang checks later). */
export function defineRule<O = Record<string, never>>(rule: RuleModule<O>): RuleModule<O> {
  return rule;
}
