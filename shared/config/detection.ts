import { z } from 'zod';
import { Severity } from '../alerts/schema';
import { parseCidrStrict } from '../ip-ranges/ip';
import { MAX_GLOB_LENGTH, unsafeRegexReason } from '../rules/engine/patterns';

/**
 * Detection settings for the CloudTrail rules (shared/rules). One document section:
 *
 *   detection:
 *     officeHours / allowedSourceCidrs / expectedRegions / iamUserNamePattern / rules   ← defaults for every account
 *     profiles:                                                                        ← per-account overrides
 *       prod: { accounts: ["111111111111"], officeHours: …, rules: { … } }
 *     alertWindowMinutes, limits
 *
 * A profile's setting replaces the default one wholesale (a profile's `allowedSourceCidrs` is the whole list for its
 * accounts); `rules` merge per rule id and per field (enabled, severity, threshold, allow, options). Every key is
 * strict: a typo is an error naming the field, never a silently disabled rule. Patterns from here are globs or
 * vetted regexes (shared/rules/patterns.ts), because configuration is input too.
 */

/** The name of the top-level settings, used by accounts that are in no profile. */
export const DEFAULT_PROFILE = 'default';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Weekday = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof Weekday>;

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** "HH:MM", 00:00–24:00. */
const ClockTime = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected a time of day as "HH:MM" (00:00–24:00)');

const IsoDate = z
  .string()
  .regex(/^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/, 'expected a date as "YYYY-MM-DD"');

export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export const OfficeHours = z
  .strictObject({
    /** IANA timezone, e.g. Europe/Berlin, America/New_York, UTC. */
    timezone: z.string().refine(isTimeZone, { message: 'not an IANA timezone (e.g. Europe/Berlin, UTC)' }),
    weekdays: z.array(Weekday).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
    start: ClockTime.default('08:00'),
    end: ClockTime.default('18:00'),
    /** Local dates (in `timezone`) that are entirely outside office hours. */
    holidays: z.array(IsoDate).max(1000).default([]),
  })
  .refine((o) => minutesOf(o.start) < minutesOf(o.end), {
    message: 'start must be before end (office hours within one day)',
    path: ['end'],
  });
export type OfficeHours = z.infer<typeof OfficeHours>;

export const CidrText = z.string().superRefine((text, ctx) => {
  try {
    parseCidrStrict(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const Glob = z
  .string()
  .min(1)
  .max(MAX_GLOB_LENGTH, `a pattern is at most ${MAX_GLOB_LENGTH} characters`);

export const SafeRegex = z.string().superRefine((source, ctx) => {
  const reason = unsafeRegexReason(source);
  if (reason) ctx.addIssue({ code: 'custom', message: `unsafe or invalid regular expression: ${reason}` });
});

export const AccountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');
export const RegionName = z.string().regex(/^[a-z0-9-]{2,40}$/, 'expected an AWS region name such as eu-central-1');
export const RuleId = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'expected a rule id (kebab-case)');

/** Calls that a rule must not alert on, whatever it matched. Applied by the engine, the same for every rule. */
export const AllowList = z.strictObject({
  /** Globs over the principal ARN; for assumed roles both the session ARN and the role ARN are tried. */
  principals: z.array(Glob).max(1000).optional(),
  /** Globs over `userAgent`. */
  userAgents: z.array(Glob).max(1000).optional(),
  /** Source networks (CIDR or single address). */
  sourceCidrs: z.array(CidrText).max(10_000).optional(),
});
export type AllowList = z.infer<typeof AllowList>;

export const RuleSettings = z.strictObject({
  enabled: z.boolean().optional(),
  /** Replaces the rule's base severity; the rule may still raise or lower it per event relative to this base. */
  severity: Severity.optional(),
  /** Alert only when at least this many matches with the same dedup key occur in one log file. */
  threshold: z.number().int().min(1).max(1_000_000).optional(),
  allow: AllowList.optional(),
  /** Rule-specific options, validated against the rule's own schema when the engine starts. */
  options: z.record(z.string(), z.unknown()).optional(),
});
export type RuleSettings = z.infer<typeof RuleSettings>;

/** The settings a profile can override. */
const settingsShape = {
  /** When people work. Rules about time of day are inactive without it. */
  officeHours: OfficeHours.optional(),
  /** Networks calls are expected from (offices, VPN egress). Rules about source IPs are inactive without it. */
  allowedSourceCidrs: z.array(CidrText).max(10_000).optional(),
  /** Regions the account uses. Rules about unused regions are inactive without it. */
  expectedRegions: z.array(RegionName).max(100).optional(),
  /** The whole IAM user name must match (anchored). Vetted against catastrophic backtracking. */
  iamUserNamePattern: SafeRegex.optional(),
  rules: z.record(RuleId, RuleSettings).optional(),
};

export const DetectionProfile = z.strictObject({
  accounts: z.array(AccountId).min(1),
  ...settingsShape,
});
export type DetectionProfile = z.infer<typeof DetectionProfile>;

export const DetectionLimits = z.strictObject({
  /** A log whose decompressed size passes this fails (gzip bomb); default 2 GiB. */
  maxDecompressedBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 ** 3)
    .default(2 * 1024 ** 3),
  /** A single record larger than this fails its file; default 8 MiB. */
  maxRecordBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 ** 2)
    .default(8 * 1024 ** 2),
});

export const DetectionConfig = z
  .strictObject({
    ...settingsShape,
    profiles: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a profile name'), DetectionProfile).default({}),
    /**
     * Alerts of one rule with the same dedup key are published once per window: the alert id is derived from
     * (rule, dedup key, window start), which is what makes redelivered log files publish nothing twice.
     */
    alertWindowMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    limits: DetectionLimits.prefault({}),
  })
  .superRefine((config, ctx) => {
    const owner = new Map<string, string>();
    for (const [name, profile] of Object.entries(config.profiles)) {
      if (name === DEFAULT_PROFILE) {
        ctx.addIssue({
          code: 'custom',
          path: ['profiles', name],
          message: `"${DEFAULT_PROFILE}" is the name of the top-level settings; choose another profile name`,
        });
      }
      profile.accounts.forEach((account, i) => {
        const other = owner.get(account);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['profiles', name, 'accounts', i],
            message: `account ${account} is already in profile "${other}"; an account belongs to one profile`,
          });
        }
        owner.set(account, name);
      });
    }
  });
export type DetectionConfig = z.infer<typeof DetectionConfig>;
export type DetectionConfigInput = z.input<typeof DetectionConfig>;

/** The effective settings of one profile (or of the defaults), after overrides. */
export interface ProfileSettings {
  /** "default" for accounts in no profile. */
  name: string;
  officeHours?: OfficeHours;
  allowedSourceCidrs?: string[];
  expectedRegions?: string[];
  iamUserNamePattern?: string;
  rules: Record<string, RuleSettings>;
  /** Where these settings live in the document, for error messages ("detection" or "detection.profiles.prod"). */
  path: string;
}

function mergeRules(
  base: Record<string, RuleSettings> | undefined,
  over: Record<string, RuleSettings> | undefined,
): Record<string, RuleSettings> {
  const out: Record<string, RuleSettings> = { ...base };
  for (const [id, settings] of Object.entries(over ?? {})) {
    const prev = out[id] ?? {};
    out[id] = {
      ...prev,
      ...settings,
      ...(prev.options || settings.options ? { options: { ...prev.options, ...settings.options } } : {}),
    };
  }
  return out;
}

/** The defaults plus every profile, resolved: what the engine compiles, one rule index per entry. */
export function resolveProfiles(config: DetectionConfig): ProfileSettings[] {
  const pick = (s: Partial<ProfileSettings>) => ({
    ...(s.officeHours !== undefined ? { officeHours: s.officeHours } : {}),
    ...(s.allowedSourceCidrs !== undefined ? { allowedSourceCidrs: s.allowedSourceCidrs } : {}),
    ...(s.expectedRegions !== undefined ? { expectedRegions: s.expectedRegions } : {}),
    ...(s.iamUserNamePattern !== undefined ? { iamUserNamePattern: s.iamUserNamePattern } : {}),
  });
  const defaults: ProfileSettings = {
    name: DEFAULT_PROFILE,
    ...pick(config),
    rules: mergeRules(undefined, config.rules),
    path: 'detection',
  };
  const profiles = Object.entries(config.profiles).map(
    ([name, p]): ProfileSettings => ({
      ...defaults,
      ...pick(p),
      name,
      rules: mergeRules(config.rules, p.rules),
      path: `detection.profiles.${name}`,
    }),
  );
  return [defaults, ...profiles];
}

/** Which profile an account's records use. */
export function accountProfiles(config: DetectionConfig): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, p] of Object.entries(config.profiles)) for (const a of p.accounts) map.set(a, name);
  return map;
}
