/**
 * Action sets the analyzer reasons about. Names are written as AWS documents them; matching is case-insensitive.
 */

/**
 * Actions that let a principal raise its own permissions directly (Rhino Security Labs' IAM privilege-escalation
 * methods and their successors): on any user, role or policy they are administrator access.
 */
export const directEscalationActions = [
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:AttachUserPolicy',
  'iam:AttachGroupPolicy',
  'iam:AttachRolePolicy',
  'iam:PutUserPolicy',
  'iam:PutGroupPolicy',
  'iam:PutRolePolicy',
  'iam:AddUserToGroup',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:UpdateLoginProfile',
  'iam:DeleteUserPermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:PutUserPermissionsBoundary',
  'iam:PutRolePermissionsBoundary',
] as const;

/**
 * Credential self-service: AWS's documented "manage your own credentials" policy grants these on
 * `user/${aws:username}`, which is not an escalation.
 */
export const selfServiceActions = new Set(['iam:createaccesskey', 'iam:createloginprofile', 'iam:updateloginprofile']);

/** Actions that escalate through another resource's role: running code or commands as that role. */
export const indirectEscalationActions = [
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'glue:UpdateDevEndpoint',
  'cloudformation:UpdateStack',
  'ssm:SendCommand',
  'ssm:StartSession',
  'ec2-instance-connect:SendSSHPublicKey',
  'codebuild:UpdateProject',
  'sagemaker:CreatePresignedNotebookInstanceUrl',
] as const;

/** Services whose `service:*` on every resource controls identities, keys, data or logging: high rather than medium. */
export const highRiskServices = new Set([
  'iam',
  'sts',
  'organizations',
  'account',
  'sso',
  'identitystore',
  'kms',
  's3',
  'ec2',
  'lambda',
  'cloudformation',
  'ssm',
  'secretsmanager',
  'cloudtrail',
  'config',
  'logs',
  'dynamodb',
  'rds',
  'ecr',
  'eks',
  'ecs',
  'glue',
  'sagemaker',
]);

/**
 * Calls AWS only authorizes on Resource "*" (no resource-level permissions), beyond the Describe* and List* families.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/
 */
export const starOnlyActions = new Set(
  [
    'cloudwatch:PutMetricData',
    'cloudwatch:GetMetricData',
    'cloudwatch:GetMetricStatistics',
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets',
    'sts:GetCallerIdentity',
    'iam:GetAccountPasswordPolicy',
    'iam:GetAccountSummary',
    'iam:GetAccountAuthorizationDetails',
    's3:ListAllMyBuckets',
    'kms:CreateKey',
    'tag:GetResources',
    'pricing:GetProducts',
    'ec2:CreateNetworkInterface',
    'ec2:DeleteNetworkInterface',
    'ec2:AssignPrivateIpAddresses',
    'ec2:UnassignPrivateIpAddresses',
    'cloudformation:ValidateTemplate',
    'ce:GetCostAndUsage',
    // Vended logs (Step Functions, API Gateway…): AWS documents Resource "*" for these.
    'logs:CreateLogDelivery',
    'logs:GetLogDelivery',
    'logs:UpdateLogDelivery',
    'logs:DeleteLogDelivery',
    'logs:PutResourcePolicy',
    // Session Manager / Run Command agent channels and results.
    'ssm:GetCommandInvocation',
    'ssmmessages:CreateControlChannel',
    'ssmmessages:CreateDataChannel',
    'ssmmessages:OpenControlChannel',
    'ssmmessages:OpenDataChannel',
    'ec2messages:AcknowledgeMessage',
    'ec2messages:DeleteMessage',
    'ec2messages:FailMessage',
    'ec2messages:GetEndpoint',
    'ec2messages:GetMessages',
    'ec2messages:SendReply',
  ].map((a) => a.toLowerCase()),
);

/**
 * Describe/List calls that do take resource ARNs, so "*" on them is a choice, not an AWS constraint: the common ones
 * in serverless stacks (the "Describe or List means star-only" rule of thumb is wrong for these).
 */
const listOrDescribeWithResources = new Set(
  [
    's3:ListBucket',
    's3:ListBucketVersions',
    's3:ListBucketMultipartUploads',
    's3:ListMultipartUploadParts',
    'sqs:ListQueueTags',
    'sqs:ListDeadLetterSourceQueues',
    'sns:ListSubscriptionsByTopic',
    'dynamodb:DescribeTable',
    'dynamodb:DescribeStream',
    'dynamodb:DescribeTimeToLive',
    'dynamodb:ListTagsOfResource',
    'lambda:ListTags',
    'lambda:ListVersionsByFunction',
    'lambda:ListAliases',
    'logs:DescribeLogStreams',
    'kms:DescribeKey',
    'kms:ListGrants',
    'kms:ListKeyPolicies',
    'secretsmanager:DescribeSecret',
    'secretsmanager:ListSecretVersionIds',
    'states:DescribeStateMachine',
    'states:DescribeExecution',
    'states:ListExecutions',
    'iam:ListAttachedRolePolicies',
    'iam:ListRolePolicies',
    'iam:ListAttachedUserPolicies',
    'iam:ListUserPolicies',
    'iam:ListAccessKeys',
    'iam:ListGroupsForUser',
    'cloudformation:DescribeStacks',
    'cloudformation:DescribeStackResources',
    'cloudformation:ListStackResources',
    'ecr:DescribeImages',
    'ecr:ListImages',
  ].map((a) => a.toLowerCase()),
);

/** `ec2:DescribeInstances`, `ec2:Describe*`, `iam:ListRoles`: calls that mostly only accept "*". */
export function isDescribeOrList(actionPattern: string): boolean {
  const lower = actionPattern.toLowerCase();
  const name = lower.split(':')[1] ?? '';
  return (name.startsWith('describe') || name.startsWith('list')) && !listOrDescribeWithResources.has(lower);
}

export const isStarOnly = (actionPattern: string): boolean =>
  starOnlyActions.has(actionPattern.toLowerCase()) || isDescribeOrList(actionPattern);
