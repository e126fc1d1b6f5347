/**
 * The dependencies domain code receives. Every domain function takes the part of `Deps` it needs
 * (`Pick<Deps, 'logger' | 'clock'>` …), so a test passes fakes and nothing reaches for a module-global client.
 */
export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown> | Error): void;
  error(message: string, extra?: Record<string, unknown> | Error): void;
}

export interface Clock {
  now(): Date;
}

export type Fetch = typeof fetch;

export const systemClock: Clock = { now: () => new Date() };

export const fixedClock = (iso: string): Clock => ({ now: () => new Date(iso) });

/** Discards everything; for tests that do not assert on logs. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface BaseDeps {
  logger: Logger;
  clock: Clock;
  fetch: Fetch;
}
