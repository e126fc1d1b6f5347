import { createHash } from 'node:crypto';
import { Alert, type Severity, severityRank } from '../../alerts/schema';
import { type Enricher, createEnricher } from '../../cloudtrail/enrich';
import { eventTimeMs } from '../../cloudtrail/helpers';
import type { CloudTrailRecord } from '../../cloudtrail/record';
import {
  DEFAULT_PROFILE,
  type DetectionConfig,
  type ProfileSettings,
  accountProfiles,
  resolveProfiles,
} from '../../config/detection';
import { formatZodIssues } from '../../config/parse';
import { ConfigError, describeError } from '../../core/errors';
import type { Logger } from '../../core/deps';
import { type IpIndex, buildCidrSet } from '../../ip-ranges/lookup';
import { type CidrSet } from '../../ip-ranges/lookup';
import { type ProfileRuntime, RecordContext, accountOf } from './context';
import { OfficeClock } from './office-clock';
import { type GlobList, compileSafeRegex, globList } from './patterns';
import type { AnyRuleModule, Requirement } from './types';

export interface EngineOptions {
  config: DetectionConfig;
  /** The rules to run (normally `rules` from shared/rules/registry). */
  rules: readonly AnyRuleModule[];
  /** Run only these rule ids (`vigil scan --rules`); unknown ids are a ConfigError. */
  only?: readonly string[];
  /** AWS ip-ranges index for source enrichment; without it enrichment is off. */
  ipIndex?: IpIndex;
  logger: Pick<Logger, 'warn'>;
}

/** A rule that will not run for some accounts, and why (printed once by `vigil scan`, logged by the Lambda). */
export interface InactiveRule {
  ruleId: string;
  profile: string;
  reason: string;
}

/**
 * Each inactive rule once, with the profiles it is inactive for (the reason with the profile path generalised), for
 * people: `vigil scan` and `vigil config validate` print these.
 */
export function inactiveByRule(inactive: readonly InactiveRule[]): { ruleId: string; reason: string; profiles: string[] }[] {
  const byRule = new Map<string, { ruleId: string; reason: string; profiles: string[] }>();
  for (const r of inactive) {
    let entry = byRule.get(r.ruleId);
    if (!entry) byRule.set(r.ruleId, (entry = { ruleId: r.ruleId, reason: r.reason.replace(/detection\.profiles\.[^.]+\./g, 'detection.…'), profiles: [] }));
    entry.profiles.push(r.profile);
  }
  return [...byRule.values()];
}

export interface AlertSource {
  bucket?: string;
  key: string;
}

export interface EvalStats {
  records: number;
  /** Rule matches before allow-lists and thresholds. */
  matches: number;
  /** Matches dropped by a rule's allow-list. */
  suppressed: number;
  /** Groups that stayed under their rule's threshold. */
  belowThreshold: number;
  /** Distinct incidents beyond the per-file cap (never expected; logged). */
  droppedGroups: number;
  /** Exceptions thrown by rules, per rule id (the record is skipped for that rule only). */
  ruleErrors: Record<string, number>;
}

export interface FileResult {
  alerts: Alert[];
  stats: EvalStats;
}

/** The evaluation of one log file: feed records in file order, then `finish` for its alerts. */
export interface FileRun {
  evaluate(record: CloudTrailRecord): void;
  /** Alerts of everything evaluated so far (also after a failure half-way: what was read still counts). */
  finish(): FileResult;
  readonly stats: Readonly<EvalStats>;
}

export interface Engine {
  /** The rules this engine runs for at least one profile. */
  readonly active: readonly AnyRuleModule[];
  readonly inactive: readonly InactiveRule[];
  /** Rules switched off by `enabled: false`, per profile. */
  readonly disabled: readonly InactiveRule[];
  readonly enrichment: Pick<Enricher, 'enabled' | 'snapshot'>;
  beginFile(source: AlertSource & { account?: string }): FileRun;
}

interface CompiledAllow {
  principals?: GlobList;
  userAgents?: GlobList;
  sources?: CidrSet;
}

interface CompiledRule {
  rule: AnyRuleModule;
  /** The rule's position among the selected rules (the same in every profile): it indexes a file's group tables. */
  index: number;
  options: unknown;
  baseSeverity: Severity;
  threshold: number;
  allow?: CompiledAllow;
}

interface CompiledProfile {
  runtime: ProfileRuntime;
  /** eventName → (eventSource, rule) pairs: one hash lookup per record finds the interested rules. */
  byName: Map<string, { source: string; rule: CompiledRule }[]>;
  /** Rules with `events: 'all'`. */
  everyRecord: CompiledRule[];
}

interface Group {
  compiled: CompiledRule;
  runtime: ProfileRuntime;
  dedupKey: string;
  account: string;
  count: number;
  eventIds: string[];
  firstSeen: string;
  firstMs: number;
  lastSeen: string;
  lastMs: number;
  /** The eventTime of the group's first match in file order: the same on every (re)read, so the alert id is too. */
  anchor: string;
  severity: Severity;
  /** The record that gave the highest severity: it titles and describes the alert. */
  representative: CloudTrailRecord;
  /** Distinct event names in the group (bounded), shown when an incident spans several calls. */
  eventNames: Set<string>;
}

const MAX_EVENT_IDS = 100;
const MAX_EVENT_NAMES = 20;
const MAX_GROUPS_PER_FILE = 10_000;

function requirementMissing(settings: ProfileSettings, req: Requirement): boolean {
  const value = settings[req];
  return value === undefined || (Array.isArray(value) && value.length === 0);
}

function compileAllow(settings: ProfileSettings, ruleId: string): CompiledAllow | undefined {
  const allow = settings.rules[ruleId]?.allow;
  if (!allow) return undefined;
  const out: CompiledAllow = {};
  if (allow.principals?.length) out.principals = globList(allow.principals);
  if (allow.userAgents?.length) out.userAgents = globList(allow.userAgents);
  if (allow.sourceCidrs?.length) {
    try {
      out.sources = buildCidrSet(allow.sourceCidrs);
    } catch (cause) {
      throw new ConfigError(`${settings.path}.rules.${ruleId}.allow.sourceCidrs: ${describeError(cause)}`, { cause });
    }
  }
  return out;
}

function profileRuntime(settings: ProfileSettings): ProfileRuntime {
  let allowedSources: CidrSet | undefined;
  if (settings.allowedSourceCidrs?.length) {
    try {
      allowedSources = buildCidrSet(settings.allowedSourceCidrs);
    } catch (cause) {
      throw new ConfigError(`${settings.path}.allowedSourceCidrs: ${describeError(cause)}`, { cause });
    }
  }
  let userNamePattern: RegExp | undefined;
  if (settings.iamUserNamePattern !== undefined) {
    try {
      userNamePattern = compileSafeRegex(settings.iamUserNamePattern);
    } catch (cause) {
      throw new ConfigError(`${settings.path}.iamUserNamePattern: ${describeError(cause)}`, { cause });
    }
  }
  return {
    settings,
    ...(settings.officeHours ? { clock: new OfficeClock(settings.officeHours) } : {}),
    ...(allowedSources ? { allowedSources } : {}),
    ...(settings.expectedRegions?.length ? { expectedRegions: new Set(settings.expectedRegions) } : {}),
    ...(userNamePattern ? { userNamePattern } : {}),
  };
}

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

function sourceLabel(ctx: RecordContext): string {
  const s = ctx.source;
  switch (s.kind) {
    case 'ip':
      return s.aws ? `${s.value} (AWS-owned: ${s.aws.label})` : s.value;
    case 'aws-service':
      return `${s.value} (AWS service)`;
    case 'aws-internal':
      return 'AWS Internal';
    case 'invalid':
      return `"${s.value}" (not an IP address)`;
    default:
      return 'an unknown source';
  }
}

function defaultSummary(record: CloudTrailRecord, ctx: RecordContext): string {
  const failure = ctx.succeeded ? '' : ` — failed: ${record.errorCode ?? clip(record.errorMessage ?? 'Failure', 120)}`;
  return `${ctx.actor.display} called ${record.eventName} (${record.eventSource}) from ${sourceLabel(ctx)} in ${
    record.awsRegion ?? 'an unknown region'
  }${failure}`;
}

function defaultContext(record: CloudTrailRecord, ctx: RecordContext, enricher: Enricher): Record<string, unknown> {
  const actor = ctx.actor;
  const source = ctx.source;
  return {
    actorType: actor.kind,
    actorName: actor.display,
    ...(actor.sessionIssuer?.arn ? { sessionIssuer: actor.sessionIssuer.arn } : {}),
    ...(actor.invokedBy ? { invokedBy: actor.invokedBy } : {}),
    ...(actor.mfa !== undefined ? { mfa: actor.mfa } : {}),
    ...(record.userAgent !== undefined ? { userAgent: clip(record.userAgent, 300) } : {}),
    sourceKind: source.kind,
    ...(source.aws ? { awsOwner: source.aws.label, awsPrefix: source.aws.prefix } : {}),
    ...(ctx.sourceAllowed !== undefined ? { sourceAllowed: ctx.sourceAllowed } : {}),
    ipRanges: enricher.snapshot ? `${enricher.snapshot.createDate} (${enricher.snapshot.syncToken})` : 'off',
    succeeded: ctx.succeeded,
    ...(record.errorCode !== undefined ? { errorCode: record.errorCode } : {}),
    ...(record.errorMessage !== undefined ? { errorMessage: clip(record.errorMessage, 300) } : {}),
    ...(record.readOnly !== undefined ? { readOnly: record.readOnly } : {}),
    ...(ctx.consoleSession ? { consoleSession: true } : {}),
    profile: ctx.profile,
  };
}

/** The alert id: one per (rule, dedup key, time window), so a redelivered file yields the same ids. */
export function alertId(ruleId: string, dedupKey: string, windowStart: string): string {
  return createHash('sha256').update(`${ruleId}\n${dedupKey}\n${windowStart}`).digest('hex').slice(0, 32);
}

/**
 * Builds the rule engine for one configuration. Everything that can be wrong with the configuration surfaces here
 * as a ConfigError naming the field (unknown rule ids, invalid options, bad CIDRs), before any record is read.
 */
export function createEngine(options: EngineOptions): Engine {
  const { config, logger } = options;
  const known = new Map(options.rules.map((r) => [r.id, r]));
  if (known.size !== options.rules.length) throw new Error('duplicate rule ids in the registry');

  let selected = options.rules;
  if (options.only) {
    const unknown = options.only.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new ConfigError(`unknown rule id(s): ${unknown.join(', ')} (known: ${[...known.keys()].sort().join(', ')})`);
    }
    const only = new Set(options.only);
    selected = options.rules.filter((r) => only.has(r.id));
  }

  const inactive: InactiveRule[] = [];
  const disabled: InactiveRule[] = [];
  const active = new Set<AnyRuleModule>();
  const profiles = new Map<string, CompiledProfile>();

  for (const settings of resolveProfiles(config)) {
    for (const id of Object.keys(settings.rules)) {
      if (!known.has(id)) {
        throw new ConfigError(
          `${settings.path}.rules.${id}: unknown rule id (known: ${[...known.keys()].sort().join(', ')})`,
        );
      }
    }
    const runtime = profileRuntime(settings);
    const compiled: CompiledProfile = { runtime, byName: new Map(), everyRecord: [] };
    for (const [index, rule] of selected.entries()) {
      const ruleSettings = settings.rules[rule.id] ?? {};
      // Options are validated even for a disabled rule: a typo must not wait until someone enables it.
      let ruleOptions: unknown = {};
      if (rule.options) {
        const parsed = rule.options.safeParse(ruleSettings.options ?? {});
        if (!parsed.success) {
          throw new ConfigError(`${settings.path}.rules.${rule.id}.options: ${formatZodIssues(parsed.error)}`);
        }
        ruleOptions = parsed.data;
      } else if (ruleSettings.options && Object.keys(ruleSettings.options).length > 0) {
        throw new ConfigError(`${settings.path}.rules.${rule.id}.options: this rule has no options`);
      }
      if (ruleSettings.enabled === false) {
        disabled.push({ ruleId: rule.id, profile: settings.name, reason: `${settings.path}.rules.${rule.id}.enabled is false` });
        continue;
      }
      const missing = (rule.requires ?? []).filter((req) => requirementMissing(settings, req));
      if (missing.length > 0) {
        inactive.push({
          ruleId: rule.id,
          profile: settings.name,
          reason: missing.map((m) => `${settings.path}.${m} is not set`).join('; '),
        });
        continue;
      }
      const allow = compileAllow(settings, rule.id);
      const cr: CompiledRule = {
        rule,
        index,
        options: ruleOptions,
        baseSeverity: ruleSettings.severity ?? rule.severity,
        threshold: ruleSettings.threshold ?? rule.threshold ?? 1,
        ...(allow ? { allow } : {}),
      };
      active.add(rule);
      if (rule.events === 'all') {
        compiled.everyRecord.push(cr);
      } else {
        for (const selector of rule.events) {
          for (const name of selector.names) {
            let list = compiled.byName.get(name);
            if (!list) compiled.byName.set(name, (list = []));
            list.push({ source: selector.source, rule: cr });
          }
        }
      }
    }
    profiles.set(settings.name, compiled);
  }

  const defaultProfile = profiles.get(DEFAULT_PROFILE)!;
  const profileOfAccount = new Map<string, CompiledProfile>();
  for (const [account, name] of accountProfiles(config)) profileOfAccount.set(account, profiles.get(name)!);

  const enricher = createEnricher(options.ipIndex);
  const windowMs = config.alertWindowMinutes * 60_000;

  return {
    active: selected.filter((r) => active.has(r)),
    inactive,
    disabled,
    enrichment: { enabled: enricher.enabled, ...(enricher.snapshot ? { snapshot: enricher.snapshot } : {}) },
    beginFile(source) {
      const fileAccount = source.account ?? '';
      const ctx = new RecordContext(enricher);
      // rule index → account → the rule's own dedup key → group. Nested rather than one map of joined keys: a match
      // then costs lookups of strings the record already holds, not a new joined string to build and hash.
      const tables: (Map<string, Map<string, Group>> | undefined)[] = [];
      // Every group in the order it was first matched, which is the order of the file's alerts.
      const groups: Group[] = [];
      const stats: EvalStats = {
        records: 0,
        matches: 0,
        suppressed: 0,
        belowThreshold: 0,
        droppedGroups: 0,
        ruleErrors: {},
      };
      const loggedErrors = new Set<string>();

      const ruleFailed = (rule: AnyRuleModule, record: CloudTrailRecord, err: unknown, phase: string) => {
        stats.ruleErrors[rule.id] = (stats.ruleErrors[rule.id] ?? 0) + 1;
        // One log line per rule per file: a rule broken on every record must not flood the logs.
        if (!loggedErrors.has(rule.id)) {
          loggedErrors.add(rule.id);
          logger.warn(`rule ${rule.id} threw in ${phase}; the record is skipped for this rule`, {
            ruleId: rule.id,
            eventID: record.eventID,
            eventName: record.eventName,
            key: source.key,
            error: describeError(err),
          });
        }
      };

      const allowed = (allow: CompiledAllow, record: CloudTrailRecord): boolean => {
        if (allow.principals) {
          const actor = ctx.actor;
          if (allow.principals.matches(actor.arn) || allow.principals.matches(actor.sessionIssuer?.arn)) return true;
        }
        if (allow.userAgents?.matches(record.userAgent)) return true;
        if (allow.sources) {
          const s = ctx.source;
          if (s.kind === 'ip' && allow.sources.contains(s.value)) return true;
        }
        return false;
      };

      const onMatch = (cr: CompiledRule, record: CloudTrailRecord, runtime: ProfileRuntime) => {
        stats.matches++;
        if (cr.allow && allowed(cr.allow, record)) {
          stats.suppressed++;
          return;
        }
        const rule = cr.rule;
        const own = rule.dedupKey ? rule.dedupKey(record, ctx) : (ctx.actor.arn ?? ctx.actor.principalId ?? ctx.actor.display);
        const severity = rule.severityFor ? rule.severityFor(record, ctx, cr.baseSeverity) : cr.baseSeverity;
        const account = ctx.account;
        const ms = eventTimeMs(record.eventTime);
        const time = Number.isNaN(ms) ? 0 : ms;
        let byAccount = tables[cr.index];
        if (byAccount === undefined) tables[cr.index] = byAccount = new Map();
        let byOwn = byAccount.get(account);
        if (byOwn === undefined) byAccount.set(account, (byOwn = new Map()));
        let group = byOwn.get(own);
        if (!group) {
          if (groups.length >= MAX_GROUPS_PER_FILE) {
            if (stats.droppedGroups++ === 0) {
              logger.warn('too many distinct alerts in one log file; further ones are counted, not raised', {
                key: source.key,
                limit: MAX_GROUPS_PER_FILE,
              });
            }
            return;
          }
          group = {
            compiled: cr,
            runtime,
            dedupKey: `${rule.id}|${account}|${own}`,
            account,
            count: 0,
            eventIds: [],
            firstSeen: record.eventTime,
            firstMs: time,
            lastSeen: record.eventTime,
            lastMs: time,
            anchor: record.eventTime,
            severity,
            representative: record,
            eventNames: new Set(),
          };
          byOwn.set(own, group);
          groups.push(group);
        }
        group.count++;
        if (group.eventNames.size < MAX_EVENT_NAMES) group.eventNames.add(record.eventName);
        if (record.eventID !== undefined && group.eventIds.length < MAX_EVENT_IDS) group.eventIds.push(record.eventID);
        if (time < group.firstMs) {
          group.firstMs = time;
          group.firstSeen = record.eventTime;
        }
        if (time > group.lastMs) {
          group.lastMs = time;
          group.lastSeen = record.eventTime;
        }
        if (severityRank[severity] > severityRank[group.severity]) {
          group.severity = severity;
          group.representative = record;
        }
      };

      const run = (cr: CompiledRule, record: CloudTrailRecord, runtime: ProfileRuntime) => {
        ctx.options = cr.options;
        try {
          if (cr.rule.match(record, ctx)) onMatch(cr, record, runtime);
        } catch (err) {
          ruleFailed(cr.rule, record, err, 'match');
        }
      };

      const toAlert = (group: Group): Alert | undefined => {
        const { compiled: cr, representative: record } = group;
        const rule = cr.rule;
        const alertCtx = new RecordContext(enricher).reset(record, group.runtime, fileAccount);
        alertCtx.options = cr.options;
        const hook = <T>(name: string, fn: (() => T) | undefined, fallback: () => T): T => {
          if (!fn) return fallback();
          try {
            return fn();
          } catch (err) {
            ruleFailed(rule, record, err, name);
            return fallback();
          }
        };
        const title = hook('alertTitle', rule.alertTitle && (() => rule.alertTitle!(record, alertCtx)), () => rule.title);
        const summary = hook('summary', rule.summary && (() => rule.summary!(record, alertCtx)), () =>
          defaultSummary(record, alertCtx),
        );
        const extra = hook('alertContext', rule.alertContext && (() => rule.alertContext!(record, alertCtx)), () => ({}));
        const anchorMs = eventTimeMs(group.anchor);
        const windowStart = new Date(
          Math.floor((Number.isNaN(anchorMs) ? 0 : anchorMs) / windowMs) * windowMs,
        ).toISOString();
        const actor = alertCtx.actor;
        const candidate = {
          id: alertId(rule.id, group.dedupKey, windowStart),
          ruleId: rule.id,
          title: clip(title || rule.title, 200),
          severity: group.severity,
          categories: [...rule.categories],
          account: group.account,
          region: record.awsRegion ?? '',
          eventTime: record.eventTime,
          summary: clip(summary, 1000),
          context: {
            ...defaultContext(record, alertCtx, enricher),
            ...(group.eventNames.size > 1 ? { eventNames: [...group.eventNames] } : {}),
            ...extra,
            alertWindowStart: windowStart,
          },
          count: group.count,
          dedupKey: group.dedupKey,
          eventName: record.eventName,
          eventSource: record.eventSource,
          actor: actor.arn ?? actor.display,
          ...(record.sourceIPAddress !== undefined ? { sourceIp: record.sourceIPAddress } : {}),
          eventIds: group.eventIds,
          firstSeen: group.firstSeen,
          lastSeen: group.lastSeen,
          runbook: rule.runbook,
          source: { ...(source.bucket !== undefined ? { bucket: source.bucket } : {}), key: source.key },
        };
        const parsed = Alert.safeParse(candidate);
        if (!parsed.success) {
          // Only a record with a malformed eventTime gets here; the alert must not be lost, so time falls back.
          const repaired = Alert.safeParse({
            ...candidate,
            eventTime: new Date(group.firstMs).toISOString(),
            firstSeen: new Date(group.firstMs).toISOString(),
            lastSeen: new Date(group.lastMs).toISOString(),
          });
          if (repaired.success) return repaired.data;
          ruleFailed(rule, record, new Error(formatZodIssues(parsed.error)), 'alert');
          return undefined;
        }
        return parsed.data;
      };

      return {
        stats,
        evaluate(record) {
          stats.records++;
          const compiled = profileOfAccount.get(accountOf(record, fileAccount)) ?? defaultProfile;
          const runtime = compiled.runtime;
          ctx.reset(record, runtime, fileAccount);
          const specific = compiled.byName.get(record.eventName);
          if (specific !== undefined) {
            for (let i = 0; i < specific.length; i++) {
              const entry = specific[i]!;
              if (entry.source === record.eventSource) run(entry.rule, record, runtime);
            }
          }
          const every = compiled.everyRecord;
          for (let i = 0; i < every.length; i++) run(every[i]!, record, runtime);
        },
        finish() {
          const alerts: Alert[] = [];
          for (const group of groups) {
            if (group.count < group.compiled.threshold) {
              stats.belowThreshold++;
              continue;
            }
            const alert = toAlert(group);
            if (alert) alerts.push(alert);
          }
          return { alerts, stats };
        },
      };
    },
  };
}
