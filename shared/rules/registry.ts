// The explicit list of detection rules, one module per file in this directory (`<id>.ts`). A test checks that
// this list and the files agree, that every id equals its file name, and runs every inline example.
import cloudtrailTampering from './cloudtrail-tampering';
import type { AnyRuleModule } from './engine/types';
import accessKeyCreated from './access-key-created';
import iamPolicyChange from './iam-policy-change';
import iamTrustPolicyChange from './iam-trust-policy-change';
import iamUserCreated from './iam-user-created';
import loginProfileChange from './login-profile-change';
import offHoursApiCall from './off-hours-api-call';
import rootAccountUsage from './root-account-usage';

export const rules: readonly AnyRuleModule[] = [
  cloudtrailTampering,
  rootAccountUsage,
  offHoursApiCall,
  // The rule pack (issue 4).
  iamUserCreated,
  accessKeyCreated,
  loginProfileChange,
  iamPolicyChange,
  iamTrustPolicyChange,
];
