import type { Severity } from '../../alerts/schema';

const ORDER: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** `base` moved `steps` levels up (positive) or down (negative), clamped to info…critical. */
export function shiftSeverity(base: Severity, steps: number): Severity {
  const i = ORDER.indexOf(base) + steps;
  return ORDER[Math.max(0, Math.min(ORDER.length - 1, i))]!;
}
