// The explicit list of detection rules, one module per file in this directory (`<id>.ts`). A test checks that
// this list and the files agree, that every id equals its file name, and runs every inline example.
import accessKeyCreated from './access-key-created';
import cloudtrailBucketChange from './cloudtrail-bucket-change';
import cloudtrailInsightsReduced from './cloudtrail-insights-reduced';
import cloudtrailTampering from './cloudtrail-tampering';
import configChange from './config-change';
import consoleLoginFailure from './console-login-failure';
import consoleLoginNoMfa from './console-login-no-mfa';
import customerGatewayChange from './customer-gateway-change';
import directConnectChange from './direct-connect-change';
import type { AnyRuleModule } from './engine/types';
import foreignSourceIp from './foreign-source-ip';
import iamIdentityProviderChange from './iam-identity-provider-change';
import iamPolicyChange from './iam-policy-change';
import iamTrustPolicyChange from './iam-trust-policy-change';
import iamUserCreated from './iam-user-created';
import identityCenterIdpChange from './identity-center-idp-change';
import kmsKeyDisable from './kms-key-disable';
import loginProfileChange from './login-profile-change';
import networkAclChange from './network-acl-change';
import networkGatewayChange from './network-gateway-change';
import offHoursApiCall from './off-hours-api-call';
import organizationsChange from './organizations-change';
import rootAccountUsage from './root-account-usage';
import routeTableChange from './route-table-change';
import s3BucketPolicyChange from './s3-bucket-policy-change';
import securityGroupChange from './security-group-change';
import snapshotOrAmiShared from './snapshot-or-ami-shared';
import transitGatewayAttachmentChange from './transit-gateway-attachment-change';
import unauthorizedApiCall from './unauthorized-api-call';
import unusedRegion from './unused-region';
import vpcChange from './vpc-change';
import vpcPeeringChange from './vpc-peering-change';
import vpnConnectionChange from './vpn-connection-change';

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
  securityGroupChange,
  networkAclChange,
  routeTableChange,
  networkGatewayChange,
  customerGatewayChange,
  vpnConnectionChange,
  directConnectChange,
  vpcPeeringChange,
  transitGatewayAttachmentChange,
  vpcChange,
  consoleLoginNoMfa,
  consoleLoginFailure,
  unauthorizedApiCall,
  unusedRegion,
  foreignSourceIp,
  kmsKeyDisable,
  s3BucketPolicyChange,
  configChange,
  organizationsChange,
  snapshotOrAmiShared,
  iamIdentityProviderChange,
  identityCenterIdpChange,
  cloudtrailBucketChange,
  cloudtrailInsightsReduced,
];
