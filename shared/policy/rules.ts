import type { Severity } from '../alerts/schema';
import type { PolicyKind, PolicyRuleId } from './schema';

/**
 * The catalog of policy checks: what each one means, why it matters and how to fix it. `vigil policy lint` turns it
 * into SARIF rule metadata, and docs/security.md lists the same ids. `severity` is the usual level; a finding may be
 * raised or lowered from it by the context the analyzer sees (a condition, a narrower resource).
 */
export interface PolicyRuleMeta {
  id: PolicyRuleId;
  title: string;
  severity: Severity;
  appliesTo: PolicyKind[];
  rationale: string;
  fixHint: string;
  helpUri: string;
}

const iamDocs = 'https://docs.aws.amazon.com/IAM/latest/UserGuide';

export const policyRules: readonly PolicyRuleMeta[] = [
  {
    id: 'admin-wildcard',
    title: 'Allow of every action on every resource',
    severity: 'critical',
    appliesTo: ['identity'],
    rationale:
      'Action "*" on Resource "*" is full administrator access: whoever holds it can do anything in the account, including removing logging and granting itself more.',
    fixHint: 'List the actions and resource ARNs the workload needs; for break-glass administrators use a role with MFA, not a standing grant.',
    helpUri: `${iamDocs}/best-practices.html#grant-least-privilege`,
  },
  {
    id: 'allow-not-action',
    title: 'Allow with NotAction',
    severity: 'high',
    appliesTo: ['identity', 'resource'],
    rationale:
      'Allow + NotAction grants every action except the listed ones, including every action AWS adds in the future.',
    fixHint: 'Replace NotAction with an explicit Action list; keep NotAction only in Deny statements (guardrails).',
    helpUri: `${iamDocs}/reference_policies_elements_notaction.html`,
  },
  {
    id: 'allow-not-resource',
    title: 'Allow with NotResource',
    severity: 'medium',
    appliesTo: ['identity', 'resource'],
    rationale: 'Allow + NotResource grants the actions on every resource except the listed ones, including resources created later.',
    fixHint: 'List the resources in Resource instead; use NotResource only with Deny.',
    helpUri: `${iamDocs}/reference_policies_elements_notresource.html`,
  },
  {
    id: 'allow-not-principal',
    title: 'Allow with NotPrincipal',
    severity: 'high',
    appliesTo: ['resource', 'trust'],
    rationale: 'Allow + NotPrincipal grants access to every principal, anonymous ones included, except those listed.',
    fixHint: 'Name the principals in Principal; AWS recommends NotPrincipal only with Deny, and aws:PrincipalArn conditions instead.',
    helpUri: `${iamDocs}/reference_policies_elements_notprincipal.html`,
  },
  {
    id: 'privilege-escalation',
    title: 'Action that lets a principal grant itself more permissions',
    severity: 'high',
    appliesTo: ['identity'],
    rationale:
      'Actions such as iam:CreatePolicyVersion, iam:Attach*Policy, iam:Put*Policy, iam:CreateAccessKey or iam:UpdateAssumeRolePolicy on any user, role or policy are equivalent to administrator access, because the holder can grant itself anything.',
    fixHint:
      'Scope the Resource to the exact users/roles/policies the workload manages, and add conditions (iam:PolicyARN, iam:PermissionsBoundary) so it cannot attach broader policies.',
    helpUri: `${iamDocs}/access_policies_boundaries.html`,
  },
  {
    id: 'passrole-wildcard',
    title: 'iam:PassRole on every role',
    severity: 'high',
    appliesTo: ['identity'],
    rationale:
      'iam:PassRole on "*" lets the holder hand any role, an administrator role included, to a Lambda function, an EC2 instance or a CloudFormation stack, and act with it.',
    fixHint: 'Set Resource to the ARNs of the roles that may be passed and add an iam:PassedToService condition.',
    helpUri: `${iamDocs}/id_roles_use_passrole.html`,
  },
  {
    id: 'assume-role-wildcard',
    title: 'sts:AssumeRole on every role',
    severity: 'high',
    appliesTo: ['identity'],
    rationale: 'sts:AssumeRole on "*" lets the holder assume every role that trusts its account, whatever those roles can do.',
    fixHint: 'List the role ARNs the principal has to assume.',
    helpUri: `${iamDocs}/id_roles_use_permissions-to-switch.html`,
  },
  {
    id: 'service-wildcard',
    title: 'Every action of a service',
    severity: 'medium',
    appliesTo: ['identity'],
    rationale:
      'service:* grants every present and future action of the service; on "*" it is administrator access to that service (high for IAM, STS, Organizations, KMS, S3, EC2, Lambda and other services that control data or identities).',
    fixHint: 'List the actions the workload calls (CloudTrail or IAM Access Analyzer policy generation shows them).',
    helpUri: `${iamDocs}/reference_policies_elements_action.html`,
  },
  {
    id: 'resource-wildcard',
    title: 'Resource "*"',
    severity: 'medium',
    appliesTo: ['identity'],
    rationale:
      'Resource "*" applies the actions to every resource of the account. Some calls only accept "*" (most Describe*/List* calls, cloudwatch:PutMetricData, xray:PutTraceSegments); those are reported as low so that each exception is accepted deliberately, with a reason.',
    fixHint:
      'Use the ARNs of the resources (or a name prefix); where AWS only allows "*", accept the finding with a suppression that gives the reason (see docs/security.md).',
    helpUri: 'https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html',
  },
  {
    id: 'missing-condition',
    title: 'Long-term-key policy without a network or MFA condition',
    severity: 'low',
    appliesTo: ['identity'],
    rationale:
      'Access keys of IAM users do not expire; a policy for them that does not require aws:SourceIp/aws:SourceVpce, aws:SecureTransport or MFA works for whoever copies the key. Low because such conditions do not fit every workload; roles (temporary credentials) are not checked.',
    fixHint:
      'Add a condition such as "IpAddress": {"aws:SourceIp": [...]}, "Bool": {"aws:SecureTransport": "true"} or "Bool": {"aws:MultiFactorAuthPresent": "true"}, or a Deny-all statement with the negated condition; better, use roles instead of access keys.',
    helpUri: `${iamDocs}/reference_policies_condition-keys.html`,
  },
  {
    id: 's3-put-without-encryption',
    title: 's3:PutObject without an encryption or private-ACL condition',
    severity: 'low',
    appliesTo: ['identity', 'resource'],
    rationale:
      'Without an s3:x-amz-server-side-encryption condition, writers choose the encryption (or the KMS key) of the objects; without an s3:x-amz-acl condition they can set a public ACL. S3 encrypts new objects with SSE-S3 by default since 2023, hence low; it is medium in bucket policies, which usually grant other principals.',
    fixHint:
      'Add "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"} (or "AES256"), or "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}; enforce bucket-owner-enforced object ownership.',
    helpUri: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html',
  },
  {
    id: 'principal-wildcard',
    title: 'Principal open to everyone',
    severity: 'high',
    appliesTo: ['resource', 'trust'],
    rationale:
      'Principal "*" (or {"AWS": "*"}) in an Allow admits every AWS account, and in resource policies also anonymous callers. In a trust policy anyone can assume the role (critical). Conditions on aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceVpce and the like narrow it (then low).',
    fixHint: 'Name the accounts or roles in Principal, or add an aws:PrincipalOrgID / aws:PrincipalAccount condition.',
    helpUri: `${iamDocs}/reference_policies_elements_principal.html`,
  },
  {
    id: 'principal-unknown-account',
    title: 'Principal in an account that is not known',
    severity: 'high',
    appliesTo: ['resource', 'trust'],
    rationale:
      'A trust or resource policy that names an account outside your organization is how backdoor roles and exfiltration buckets are made. Reported as info when no list of known accounts is given.',
    fixHint: 'Remove the account, or add it to the known accounts (--known-account, detection profile) if it is a partner you trust.',
    helpUri: `${iamDocs}/id_roles_common-scenarios_third-party.html`,
  },
  {
    id: 'trust-missing-external-id',
    title: 'Third-party trust without sts:ExternalId',
    severity: 'medium',
    appliesTo: ['trust'],
    rationale: 'A role that a third party assumes needs an sts:ExternalId condition, or any customer of that party can make it act on your account (confused deputy).',
    fixHint: 'Add "StringEquals": {"sts:ExternalId": "<id the third party gave you>"}.',
    helpUri: `${iamDocs}/id_roles_create_for-user_externalid.html`,
  },
  {
    id: 'trust-oidc-unscoped',
    title: 'Web-identity trust without a subject condition',
    severity: 'high',
    appliesTo: ['trust'],
    rationale:
      'A role trusting an OIDC provider such as GitHub Actions (token.actions.githubusercontent.com) without a condition on the token\'s sub claim can be assumed from any repository or workload of every customer of that provider.',
    fixHint: 'Add "StringEquals" (or "StringLike") on "<provider>:sub" naming your repository and branch/environment, and "<provider>:aud".',
    helpUri: `${iamDocs}/id_roles_create_for-idp_oidc.html`,
  },
  {
    id: 'service-principal-no-source',
    title: 'Service principal without aws:SourceArn / aws:SourceAccount',
    severity: 'medium',
    appliesTo: ['resource'],
    rationale:
      'A resource policy that lets an AWS service (cloudtrail, sns, events, logging…) in without aws:SourceArn or aws:SourceAccount lets that service act for any AWS customer (confused deputy): another account could point its trail or topic at your bucket or queue.',
    fixHint: 'Add "StringEquals": {"aws:SourceAccount": "<your account>"} or "ArnLike": {"aws:SourceArn": "<the trail/topic/rule ARN>"}.',
    helpUri: `${iamDocs}/confused-deputy.html`,
  },
  {
    id: 'hardcoded-az',
    title: 'Hard-coded Availability Zone or subnet',
    severity: 'medium',
    appliesTo: ['identity', 'resource', 'trust'],
    rationale:
      'AZ names (us-east-1a), AZ ids (use1-az1) and subnet ids in a policy break when the Region gains an AZ or the network changes: an Allow stops working, and a Deny guardrail silently leaves the new AZ open. AZ names also map to different AZs in each account.',
    fixHint: 'Condition on the VPC (ec2:Vpc, aws:SourceVpc) or on tags instead of AZs and subnet ids.',
    helpUri: 'https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html',
  },
  {
    id: 'policy-version',
    title: 'Missing or legacy policy Version',
    severity: 'low',
    appliesTo: ['identity', 'resource', 'trust'],
    rationale:
      'Without "Version": "2012-10-17" IAM evaluates the policy with the 2008 grammar, where policy variables such as ${aws:username} are literal text (medium when the policy uses them).',
    fixHint: 'Add "Version": "2012-10-17".',
    helpUri: `${iamDocs}/reference_policies_elements_version.html`,
  },
  {
    id: 'managed-policy-risk',
    title: 'Broad AWS managed policy attached',
    severity: 'high',
    appliesTo: ['identity'],
    rationale:
      'AWS managed policies such as AdministratorAccess, PowerUserAccess or IAMFullAccess grant far more than one workload needs, and change when AWS updates them.',
    fixHint: 'Replace the managed policy with a customer-managed or inline policy that lists the needed actions and resources.',
    helpUri: `${iamDocs}/access_policies_managed-vs-inline.html`,
  },
];

export const policyRule = (id: PolicyRuleId): PolicyRuleMeta => {
  const rule = policyRules.find((r) => r.id === id);
  if (!rule) throw new Error(`unknown policy rule ${id}`);
  return rule;
};
