import { z } from 'zod';
import { Severity } from '../../alerts/schema';
import { RuleCategory } from './categories';

/**
 * The metadata every rule must have, checked for every registered rule by the registry test (test/rules/). Its own
 * module, not types.ts: the deployed functions import types.ts and need not build a schema only the tests use.
 */
export const RuleMetadata = z.object({
  id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
  title: z.string().min(5).max(100),
  description: z.string().min(20),
  severity: Severity,
  categories: z.array(RuleCategory).min(1),
  references: z.array(z.url()).min(1),
  falsePositives: z.array(z.string().min(5)),
  runbook: z.string().min(20),
  events: z.union([
    z.literal('all'),
    z
      .array(
        z.object({
          source: z.string().regex(/^[a-z0-9.-]+\.amazonaws\.com$/),
          names: z.array(z.string().regex(/^[A-Za-z0-9_]+$/)).min(1),
        }),
      )
      .min(1),
  ]),
  requires: z.array(z.enum(['officeHours', 'allowedSourceCidrs', 'expectedRegions', 'iamUserNamePattern'])).optional(),
  threshold: z.number().int().min(1).optional(),
});
