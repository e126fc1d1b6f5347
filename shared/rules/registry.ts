// The explicit list of detection rules, one module per file in this directory (`<id>.ts`). A test checks that
// this list and the files agree, that every id equals its file name, and runs every inline example.
import accessKeyCreated from './access-key-created';
import cloudtrailTampering from './cloudtrail-tampering';
import customerGatewayChange from './customer-gateway-change';
import directConnectChange from './direct-connect-change';
import type { AnyRuleModule } from './engine/types';
import iamPolicyChange from './iam-policy-change';
import iamTrustPolicyChange from './iam-trust-policy-change';
import iamUserCreated from './iam-user-created';
import loginProfileChange from './login-profile-change';
import networkAclChange from './network-acl-change';
import networkGatewayChange from './network-gateway-change';
import offHoursApiCall from './off-hours-api-call';
import rootAccountUsage from './root-account-usage';
import routeTableChange from './route-table-change';
import securityGroupChange from './security-group-change';
import transitGatewayAttachmentChange from './transit-gateway-attachment-change';
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
];
