import { z } from 'zod';
import type { VigilConfig } from '../config/schema';
import type { DisplayOptions } from './display';

/**
 * The detection section owns the account profiles and the office timezone; notify reads them instead of asking
 * people to write them twice. Read leniently (structurally), so the notifier does not depend on every detail of the
 * detection schema: profile name per account, and officeHours.timezone.
 */
const DetectionView = z
  .object({
    officeHours: z.object({ timezone: z.string() }).optional().catch(undefined),
    profiles: z
      .record(z.string(), z.object({ accounts: z.array(z.string()) }))
      .optional()
      .catch(undefined),
  })
  .catch({});

/**
 * How alerts are displayed for this configuration: `notify.officeTimezone`, else the detection office-hours timezone;
 * account names from the detection profiles (account → profile name), overridden by `notify.accountNames`.
 */
export function displayOptions(config: Pick<VigilConfig, 'notify' | 'detection'>): DisplayOptions {
  const detection = DetectionView.parse(config.detection);
  const accountNames: Record<string, string> = {};
  for (const [profile, { accounts }] of Object.entries(detection.profiles ?? {})) {
    for (const account of accounts) accountNames[account] = profile;
  }
  Object.assign(accountNames, config.notify.accountNames);
  const officeTimezone = config.notify.officeTimezone ?? detection.officeHours?.timezone;
  return { ...(officeTimezone ? { officeTimezone } : {}), accountNames };
}
