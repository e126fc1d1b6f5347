import { z } from 'zod';

/**
 * The categories an alert can carry — exactly these names (subscribers filter on them; the SNS `categories`
 * message attribute lists them). Every rule declares one or more.
 */
export const RULE_CATEGORIES = [
  'off-hours',
  'foreign-source-ip',
  'idp-change',
  'iam-user-created',
  'iam-policy-change',
  'access-key-created',
  'root-usage',
  'cloudtrail-tamper',
  'network-vpn-dx-peering',
  'route-table-change',
  'network-gateway-change',
  'security-group-change',
  'nacl-change',
  'vpc-change',
  'console-login-no-mfa',
  'console-login-failure',
  'unauthorized-api-call',
  'unused-region',
  'kms-key-disable',
  's3-bucket-policy-change',
  'config-change',
  'organizations-change',
  'snapshot-or-ami-shared',
  'login-profile-change',
] as const;

export const RuleCategory = z.enum(RULE_CATEGORIES);
export type RuleCategory = z.infer<typeof RuleCategory>;
