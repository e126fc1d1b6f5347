import { eventTimeMs } from '../../cloudtrail/helpers';
import { type OfficeHours, type Weekday, minutesOf } from '../../config/detection';

/** An event's time in the office's timezone, and whether that is within office hours. */
export interface LocalTime {
  timezone: string;
  /** Local calendar date, YYYY-MM-DD. */
  date: string;
  weekday: Weekday;
  /** Local "HH:MM". */
  time: string;
  /** Minutes since local midnight. */
  minutes: number;
  holiday: boolean;
  /** Inside the configured weekdays and start–end, and not a holiday. */
  withinOfficeHours: boolean;
}

const WEEKDAY_OF: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

// `Intl.DateTimeFormat#formatToParts` costs microseconds; a log file spans a few minutes, so answers are cached per
// UTC minute (timezone offsets change only on whole minutes).
const CACHE_LIMIT = 50_000;

/** Answers "when is this, locally, and is it office hours?" for one profile's office hours. */
export class OfficeClock {
  private readonly format: Intl.DateTimeFormat;
  private readonly weekdays: ReadonlySet<Weekday>;
  private readonly holidays: ReadonlySet<string>;
  private readonly start: number;
  private readonly end: number;
  private readonly cache = new Map<number, LocalTime>();
  private lastKey = Number.NaN;
  private lastLocal: LocalTime | undefined;

  constructor(readonly hours: OfficeHours) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: hours.timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    this.weekdays = new Set(hours.weekdays);
    this.holidays = new Set(hours.holidays);
    this.start = minutesOf(hours.start);
    this.end = minutesOf(hours.end);
  }

  /** `eventTime` (ISO 8601) in local terms, or undefined when it is not a valid time. */
  at(eventTime: string): LocalTime | undefined {
    const ms = eventTimeMs(eventTime);
    if (Number.isNaN(ms)) return undefined;
    // Keyed by the UTC minute as a number: no string to cut out and hash per record. Records come roughly in time
    // order, so most hit the minute of the record before.
    const key = Math.floor(ms / 60_000);
    if (key === this.lastKey) return this.lastLocal;
    const hit = this.cache.get(key);
    if (hit) {
      this.lastKey = key;
      this.lastLocal = hit;
      return hit;
    }
    const parts: Record<string, string> = {};
    for (const p of this.format.formatToParts(ms)) parts[p.type] = p.value;
    const date = `${parts.year}-${parts.month}-${parts.day}`;
    const time = `${parts.hour}:${parts.minute}`;
    const minutes = Number(parts.hour) * 60 + Number(parts.minute);
    const weekday = WEEKDAY_OF[parts.weekday ?? ''] ?? 'mon';
    const holiday = this.holidays.has(date);
    const local: LocalTime = Object.freeze({
      timezone: this.hours.timezone,
      date,
      weekday,
      time,
      minutes,
      holiday,
      withinOfficeHours: !holiday && this.weekdays.has(weekday) && minutes >= this.start && minutes < this.end,
    });
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, local);
    this.lastKey = key;
    this.lastLocal = local;
    return local;
  }
}
