import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/core/errors';
import { LVM_STEPS } from '../../shared/lvm/command';
import { parseLvmStepOutput, statusMatchesExitCode } from '../../shared/lvm/step-result';

/*
 * test/fixtures/lvm/step-outputs.jsonl holds real outputs of the scripts, captured from the VM test's console
 * (npm run test:lvm), one {name, rc, stdout} per line: the shapes the state machine really receives.
 */
const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/lvm/step-outputs.jsonl');
const captured = readFileSync(fixture, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { name: string; rc: number; stdout: string });

describe('parseLvmStepOutput', () => {
  it.each(captured.map((c) => [c.name, c.rc, c] as const))('accepts the captured output of %s (exit %i)', (_n, _rc, c) => {
    const result = parseLvmStepOutput(c.stdout, c.rc);
    expect(LVM_STEPS).toContain(result.step);
  });

  it('the captured outputs cover every step and every status', () => {
    const parsed = captured.map((c) => parseLvmStepOutput(c.stdout, c.rc));
    expect(new Set(parsed.map((p) => p.step))).toEqual(new Set(LVM_STEPS));
    expect(new Set(parsed.map((p) => p.status))).toEqual(new Set(['ok', 'noop', 'in-progress', 'refused']));
  });

  const ok = '{"step":"pvmove-status","status":"ok","message":"m","changed":false,"inProgress":false,"percent":100,"remainingExtents":0,"remainingMiB":0,"done":true,"direction":null}';

  it('rejects empty output, several lines, and invalid JSON', () => {
    expect(() => parseLvmStepOutput('', 1)).toThrow(/nothing/);
    expect(() => parseLvmStepOutput(`${ok}\n${ok}`, 0)).toThrow(/more than one line/);
    expect(() => parseLvmStepOutput('{"step":', 0)).toThrow(ValidationError);
  });

  it('rejects a field the contract does not know (a renamed or misspelt field fails loudly)', () => {
    expect(() => parseLvmStepOutput(ok.replace('"done"', '"finished"'), 0)).toThrow(/contract/);
  });

  it('rejects a status that does not match the exit code', () => {
    expect(() => parseLvmStepOutput(ok, 3)).toThrow(/exit code 3/);
    expect(statusMatchesExitCode('refused', 3)).toBe(true);
    expect(statusMatchesExitCode('refused', 1)).toBe(false);
    expect(statusMatchesExitCode('failed', 5)).toBe(true);
    expect(statusMatchesExitCode('failed', 3)).toBe(false);
    expect(statusMatchesExitCode('in-progress', 0)).toBe(true);
  });
});
