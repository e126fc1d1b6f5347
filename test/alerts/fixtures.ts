import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Alert } from '../../shared/alerts/schema';
import { repoRoot } from '../support/shared-data';

export const alertFixtureNames = [
  'cloudtrail-stop-logging',
  'cloudtrail-aws-owned',
  'ip-space-changed',
  'migration-progress',
] as const;
export type AlertFixtureName = (typeof alertFixtureNames)[number];

/** Alert fixtures of each kind the pipelines emit, parsed with the Alert schema (so a fixture can never drift). */
export function alertFixture(name: AlertFixtureName, patch: Partial<Alert> = {}): Alert {
  const raw = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/alerts', `${name}.json`), 'utf8')) as unknown;
  return Alert.parse({ ...(raw as object), ...patch });
}
