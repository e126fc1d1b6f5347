import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { LOGICAL_IDS } from '../../../shared/lvm/workflow-definition';
import { repoRoot } from '../../support/shared-data';

/** The committed definitions: what serverless-step-functions deploys and what these tests run. */
export const DEFINITION_FILES = {
  migration: path.join(repoRoot, 'infra/state-machines/migration.asl.json'),
  runStep: path.join(repoRoot, 'infra/state-machines/migration-run-step.asl.json'),
} as const;

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const STAGE = 'test';

/** What the CloudFormation intrinsics in the definitions stand for in these tests. */
export const FAKE_ARNS: Record<string, string> = {
  [LOGICAL_IDS.planFunction]: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:vigil-${STAGE}-migrationPlan`,
  [LOGICAL_IDS.notifyFunction]: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:vigil-${STAGE}-migrationNotify`,
  [LOGICAL_IDS.runStepMachine]: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:vigil-${STAGE}-migration-run-step`,
  [LOGICAL_IDS.stateTable]: `vigil-${STAGE}-state`,
};
export const MIGRATION_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:vigil-${STAGE}-migration`;

/** Replaces {"Fn::GetAtt": [id, "Arn"]} and {"Ref": id} with the fake values, the way CloudFormation's Fn::Sub will. */
export function resolveIntrinsics(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [id] = obj['Fn::GetAtt'] as [string, string];
      const arn = FAKE_ARNS[id];
      if (!arn) throw new Error(`unknown Fn::GetAtt ${id}`);
      return arn;
    }
    if (keys.length === 1 && keys[0] === 'Ref') {
      const ref = FAKE_ARNS[obj.Ref as string];
      if (!ref) throw new Error(`unknown Ref ${String(obj.Ref)}`);
      return ref;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveIntrinsics(v)]));
  }
  return value;
}

export const readDefinition = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

export const loadDefinition = (which: keyof typeof DEFINITION_FILES): StateMachineDefinition =>
  resolveIntrinsics(readDefinition(DEFINITION_FILES[which])) as StateMachineDefinition;
