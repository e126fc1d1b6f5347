import { writeFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { migrationDefinition, runStepDefinition } from '../../../shared/lvm/workflow-definition';
import { DEFINITION_FILES, loadDefinition, readDefinition } from './definitions';

const generated = { migration: migrationDefinition(), runStep: runStepDefinition() };

if (process.env.VIGIL_WRITE_ASL === '1') {
  for (const [key, file] of Object.entries(DEFINITION_FILES)) {
    writeFileSync(file, `${JSON.stringify(generated[key as keyof typeof generated], null, 2)}\n`);
  }
}

describe.each(['migration', 'runStep'] as const)('state machine definition %s', (which) => {
  it('is the committed file (regenerate with VIGIL_WRITE_ASL=1)', () => {
    expect(readDefinition(DEFINITION_FILES[which])).toEqual(generated[which]);
  });
});

type States = Record<string, { Type: string; Next?: string; Default?: string; Choices?: { Next: string }[]; Catch?: { Next: string }[]; End?: boolean }>;

const successors = (state: States[string]): string[] => [
  ...(state.Next ? [state.Next] : []),
  ...(state.Default ? [state.Default] : []),
  ...(state.Choices ?? []).map((c) => c.Next),
  ...(state.Catch ?? []).map((c) => c.Next),
];

describe.each(['migration', 'runStep'] as const)('state machine %s', (which) => {
  const definition = loadDefinition(which);
  const states = definition.States as unknown as States;

  it('is valid Amazon States Language (asl-validator)', () => {
    const { isValid, errorsText } = aslValidator(definition as unknown as Record<string, unknown>);
    expect(isValid, errorsText('\n')).toBe(true);
  });

  it('is accepted by aws-local-stepfunctions with path and ARN checks on', () => {
    expect(() => new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: true } })).not.toThrow();
  });

  it('reaches every state and every path ends in a terminal state', () => {
    const seen = new Set<string>();
    const queue = [definition.StartAt];
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (seen.has(name)) continue;
      expect(states[name], `state ${name}`).toBeDefined();
      seen.add(name);
      queue.push(...successors(states[name] as States[string]));
    }
    expect([...Object.keys(states)].filter((n) => !seen.has(n))).toEqual([]);
    // From every state some terminal state is reachable (no trap loops).
    const terminal = Object.keys(states).filter((n) => ['Succeed', 'Fail'].includes(states[n]?.Type ?? '') || states[n]?.End);
    const reachesEnd = new Set(terminal);
    for (let changed = true; changed; ) {
      changed = false;
      for (const [name, state] of Object.entries(states)) {
        if (!reachesEnd.has(name) && successors(state).some((s) => reachesEnd.has(s))) {
          reachesEnd.add(name);
          changed = true;
        }
      }
    }
    expect(Object.keys(states).filter((n) => !reachesEnd.has(n))).toEqual([]);
  });

  it('names states with letters, digits, spaces and hyphens only (what CloudWatch, X-Ray and the API accept everywhere)', () => {
    expect(Object.keys(states).filter((n) => !/^[A-Za-z0-9][A-Za-z0-9 -]{0,79}$/.test(n))).toEqual([]);
  });

  it('holds no serverless variables (a `${` would be resolved at deploy time)', () => {
    expect(JSON.stringify(readDefinition(DEFINITION_FILES[which]))).not.toContain('${');
    expect(JSON.stringify(readDefinition(DEFINITION_FILES[which]))).not.toContain('#{');
  });

  it('never tests `IsPresent: false` (aws-local-stepfunctions 3.0 evaluates it wrongly; `Not` + `IsPresent: true` is portable)', () => {
    expect(JSON.stringify(readDefinition(DEFINITION_FILES[which]))).not.toContain('"IsPresent":false');
  });

  it('never matches EC2 errors by their code as an error name (they arrive as Ec2.Ec2Exception)', () => {
    const errorNames = Object.values(states).flatMap((s) => [
      ...((s as { Retry?: { ErrorEquals: string[] }[] }).Retry ?? []).flatMap((r) => r.ErrorEquals),
      ...((s as { Catch?: { ErrorEquals: string[] }[] }).Catch ?? []).flatMap((c) => c.ErrorEquals),
    ]);
    expect(errorNames.filter((n) => n.startsWith('Ec2.') && n !== 'Ec2.Ec2Exception')).toEqual([]);
  });
});
