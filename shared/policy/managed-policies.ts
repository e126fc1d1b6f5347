import type { Severity } from '../alerts/schema';
import { parseArn } from './arn';

export interface ManagedPolicyRisk {
  /** The policy name (last path segment of the ARN). */
  name: string;
  severity: Severity;
  reason: string;
}

/**
 * AWS managed policies whose attachment deserves attention, by name. The names are stable; their documents change
 * when AWS updates them, which is one more reason to prefer customer-managed policies.
 */
const known: Record<string, { severity: Severity; reason: string }> = {
  AdministratorAccess: { severity: 'high', reason: 'full administrator access to every service and resource' },
  'AdministratorAccess-Amplify': { severity: 'high', reason: 'IAM and CloudFormation administration (admin-equivalent)' },
  'AdministratorAccess-AWSElasticBeanstalk': { severity: 'high', reason: 'administration of Elastic Beanstalk and the services it drives, iam:PassRole included' },
  AWSOrganizationsFullAccess: { severity: 'high', reason: 'full control of the organization: accounts, SCPs, delegated administrators' },
  IAMFullAccess: { severity: 'high', reason: 'full IAM access, which lets the holder grant itself anything (admin-equivalent)' },
  PowerUserAccess: { severity: 'high', reason: 'every service except IAM and Organizations: all data, compute and logging' },
  SystemAdministrator: { severity: 'high', reason: 'broad infrastructure administration including iam:PassRole' },
  AWSCloudTrail_FullAccess: { severity: 'high', reason: 'can stop, delete and reconfigure trails (defense evasion)' },
  NetworkAdministrator: { severity: 'medium', reason: 'full control of VPCs, routes, gateways, VPN and Direct Connect' },
  DatabaseAdministrator: { severity: 'medium', reason: 'full control of the database services' },
  DataScientist: { severity: 'medium', reason: 'broad data and compute access' },
  AmazonS3FullAccess: { severity: 'medium', reason: 'read, write, delete and re-permission every bucket' },
  AmazonEC2FullAccess: { severity: 'medium', reason: 'full control of EC2, including security groups and instance roles' },
  AWSLambda_FullAccess: { severity: 'medium', reason: 'create and change any function (code runs with the function roles)' },
  AmazonDynamoDBFullAccess: { severity: 'medium', reason: 'read, write and delete every table' },
  SecretsManagerReadWrite: { severity: 'medium', reason: 'read and change every secret' },
  AWSKeyManagementServicePowerUser: { severity: 'medium', reason: 'create keys and change key policies' },
  AmazonSSMFullAccess: { severity: 'medium', reason: 'run commands and sessions on managed instances' },
  AWSCloudFormationFullAccess: { severity: 'medium', reason: 'create and change stacks (which act with their service roles)' },
  ReadOnlyAccess: { severity: 'medium', reason: 'read every resource, including S3 objects and DynamoDB items' },
  AmazonSQSFullAccess: { severity: 'low', reason: 'full control of every queue' },
  AmazonSNSFullAccess: { severity: 'low', reason: 'full control of every topic' },
  ViewOnlyAccess: { severity: 'low', reason: 'lists and describes every resource (no data)' },
  SecurityAudit: { severity: 'low', reason: 'reads the configuration of every service (no data)' },
  Billing: { severity: 'low', reason: 'billing and cost management' },
  AWSLambdaBasicExecutionRole: { severity: 'info', reason: 'CloudWatch Logs for a Lambda function' },
  AWSLambdaVPCAccessExecutionRole: { severity: 'info', reason: 'network interfaces and logs for a Lambda function in a VPC' },
};

/**
 * The risk of attaching a managed policy, from its ARN (`arn:aws:iam::aws:policy/AdministratorAccess`, also
 * `job-function/…` and `service-role/…` paths and other partitions). Unknown AWS managed `…FullAccess` policies are
 * medium. Returns undefined for customer-managed policies (their risk is in their document: analyse it) and for AWS
 * managed policies vigil has no opinion on.
 */
export function managedPolicyRisk(policyArn: string): ManagedPolicyRisk | undefined {
  const arn = parseArn(policyArn.trim());
  if (!arn || arn.service !== 'iam' || arn.account !== 'aws' || !arn.resource.startsWith('policy/')) return undefined;
  const name = arn.resource.slice(arn.resource.lastIndexOf('/') + 1);
  const entry = Object.hasOwn(known, name) ? known[name] : undefined;
  if (entry) return { name, ...entry };
  if (/FullAccess$/i.test(name)) return { name, severity: 'medium', reason: 'full access to a service' };
  return undefined;
}

/** Whether a string is an AWS managed policy ARN (for callers that need to tell them from customer-managed ones). */
export function isAwsManagedPolicyArn(policyArn: string): boolean {
  const arn = parseArn(policyArn.trim());
  return arn !== undefined && arn.service === 'iam' && arn.account === 'aws' && arn.resource.startsWith('policy/');
}
