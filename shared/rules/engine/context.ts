import type { Enricher, SourceInfo } from '../../cloudtrail/enrich';
import {
  type Actor,
  actorOf,
  isAwsServiceCall,
  isConsoleSession,
  isHumanActor,
  readOnlyOrGuess,
  succeeded,
} from '../../cloudtrail/helpers';
import type { CloudTrailRecord } from '../../cloudtrail/record';
import type { ProfileSettings } from '../../config/detection';
import type { CidrSet } from '../../ip-ranges/lookup';
import type { LocalTime, OfficeClock } from './office-clock';

/** A profile's settings with the expensive parts built once: CIDR sets, the clock, the compiled name pattern. */
export interface ProfileRuntime {
  readonly settings: ProfileSettings;
  readonly clock?: OfficeClock;
  readonly allowedSources?: CidrSet;
  readonly expectedRegions?: ReadonlySet<string>;
  readonly userNamePattern?: RegExp;
}

/**
 * What a rule knows about the record in front of it. Every answer is computed on first use and memoised for the
 * record, so ten rules asking "who is the actor?" cost one classification; answers that depend only on a value
 * (the source address, the minute of the event) are cached across records as well.
 */
export interface RuleContext<O = unknown> {
  /** This rule's options (`detection.rules.<id>.options`, validated, defaults applied). */
  readonly options: O;
  /** The effective detection settings for the record's account. */
  readonly settings: ProfileSettings;
  /** The profile name ("default" for accounts in no profile). */
  readonly profile: string;
  /** The account the event belongs to: recipientAccountId, else the caller's account, else the log's. */
  readonly account: string;
  readonly actor: Actor;
  /** `sourceIPAddress` classified (ip / aws-service / aws-internal / invalid / none) and, with ip-ranges, its AWS owner. */
  readonly source: SourceInfo;
  /** No errorCode/errorMessage, and not a failed console sign-in. */
  readonly succeeded: boolean;
  /** `readOnly` as recorded: true, false, or undefined (not recorded). */
  readonly readOnly: boolean | undefined;
  /** `readOnly`, or a guess from the event name when not recorded (Get/List/Describe… are reads). */
  readonly readOnlyOrGuess: boolean;
  readonly consoleSession: boolean;
  /** An AWS service acting (AWSService principal, `invokedBy`, AwsServiceEvent). */
  readonly awsServiceCall: boolean;
  /** A person rather than a workload (see `isHumanActor`). */
  readonly human: boolean;
  /** The event time in the profile's office timezone; undefined when office hours are not configured. */
  readonly local: LocalTime | undefined;
  /** Whether the source address is in `allowedSourceCidrs`; undefined when the list is not configured. */
  readonly sourceAllowed: boolean | undefined;
  /** Whether `awsRegion` is in `expectedRegions`; undefined when the list is not configured. */
  readonly regionExpected: boolean | undefined;
  /** The profile's IAM user-name pattern (anchored), when configured. */
  readonly userNamePattern: RegExp | undefined;
  /** False when no ip-ranges snapshot is loaded: `source.aws` is then never set. */
  readonly enrichment: boolean;
}

const UNSET = Symbol('unset');
type Memo<T> = T | typeof UNSET;

/** The engine's one reusable context object: `reset` per record, memoised getters. */
export class RecordContext implements RuleContext<unknown> {
  options: unknown = {};
  private record!: CloudTrailRecord;
  private runtime!: ProfileRuntime;
  private fileAccount = '';
  private _actor: Memo<Actor> = UNSET;
  private _source: Memo<SourceInfo> = UNSET;
  private _succeeded: Memo<boolean> = UNSET;
  private _human: Memo<boolean> = UNSET;
  private _local: Memo<LocalTime | undefined> = UNSET;

  constructor(private readonly enricher: Enricher) {}

  reset(record: CloudTrailRecord, runtime: ProfileRuntime, fileAccount: string): this {
    this.record = record;
    this.runtime = runtime;
    this.fileAccount = fileAccount;
    this._actor = UNSET;
    this._source = UNSET;
    this._succeeded = UNSET;
    this._human = UNSET;
    this._local = UNSET;
    return this;
  }

  get settings(): ProfileSettings {
    return this.runtime.settings;
  }
  get profile(): string {
    return this.runtime.settings.name;
  }
  get account(): string {
    return accountOf(this.record, this.fileAccount);
  }
  get actor(): Actor {
    if (this._actor === UNSET) this._actor = actorOf(this.record);
    return this._actor;
  }
  get source(): SourceInfo {
    if (this._source === UNSET) this._source = this.enricher.source(this.record);
    return this._source;
  }
  get succeeded(): boolean {
    if (this._succeeded === UNSET) this._succeeded = succeeded(this.record);
    return this._succeeded;
  }
  get readOnly(): boolean | undefined {
    return this.record.readOnly;
  }
  get readOnlyOrGuess(): boolean {
    return readOnlyOrGuess(this.record);
  }
  get consoleSession(): boolean {
    return isConsoleSession(this.record);
  }
  get awsServiceCall(): boolean {
    return isAwsServiceCall(this.record);
  }
  get human(): boolean {
    if (this._human === UNSET) this._human = isHumanActor(this.actor, this.record);
    return this._human;
  }
  get local(): LocalTime | undefined {
    if (this._local === UNSET) this._local = this.runtime.clock?.at(this.record.eventTime);
    return this._local;
  }
  get sourceAllowed(): boolean | undefined {
    const set = this.runtime.allowedSources;
    if (!set) return undefined;
    const source = this.source;
    return source.kind === 'ip' && set.contains(source.value);
  }
  get regionExpected(): boolean | undefined {
    const regions = this.runtime.expectedRegions;
    if (!regions) return undefined;
    return this.record.awsRegion !== undefined && regions.has(this.record.awsRegion);
  }
  get userNamePattern(): RegExp | undefined {
    return this.runtime.userNamePattern;
  }
  get enrichment(): boolean {
    return this.enricher.enabled;
  }
}

/** The account an event belongs to, for profiles, dedup keys and alerts. */
export function accountOf(record: CloudTrailRecord, fallback = ''): string {
  return record.recipientAccountId ?? record.userIdentity?.accountId ?? fallback;
}
