import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real public data sets live beside the repository (../shared/data), in CI too; never copied in. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDataDir = process.env.VIGIL_SHARED_DATA ?? path.resolve(repoRoot, '../shared/data');

export const ipRangesFile = (createDate: string): string =>
  path.join(sharedDataDir, 'ip-ranges', `ip-ranges-${createDate}.json`);

export const cloudtrailDir = (variant: 'stratus' | 'stratus-delivery'): string =>
  path.join(sharedDataDir, 'cloudtrail', variant);

if (!existsSync(sharedDataDir)) {
  throw new Error(`shared test data not found at ${sharedDataDir}; clone ../shared beside the repository`);
}
