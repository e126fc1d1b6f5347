import { z } from 'zod';
import { DetectionConfig } from './detection';
import { IpSpaceConfig } from './ip-space';
import { NotifyConfig } from './notify';

/**
 * The whole vigil configuration: one YAML/JSON document. The CLI reads it from `--config FILE`; the Lambdas from the
 * SSM parameter named by VIGIL_CONFIG_PARAMETER. Unknown keys are errors (a typo must not silently disable a rule).
 */
export const VigilConfig = z.strictObject({
  ipSpace: IpSpaceConfig.prefault({}),
  detection: DetectionConfig.prefault({}),
  notify: NotifyConfig.prefault({}),
});
export type VigilConfig = z.infer<typeof VigilConfig>;
export type VigilConfigInput = z.input<typeof VigilConfig>;
