import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { isWorldOpen } from './lib/network';
import { actorKey, adjust, attempt, param, str } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  worldOpenMaxPrefix: z.number().int().min(0).max(32).default(0).describe('The widest prefix length that counts as "the world" (0: only /0).'),
});
type Options = z.infer<typeof Options>;

const isEntry = (name: string): boolean => name === 'CreateNetworkAclEntry' || name === 'ReplaceNetworkAclEntry';

/** An inbound allow of every protocol from the world: the ACL no longer filters anything. */
function opensEverything(record: CloudTrailRecord, ctx: RuleContext<Options>): boolean {
  if (!isEntry(record.eventName)) return false;
  const p = record.requestParameters ?? {};
  const cidr = p.cidrBlock ?? p.ipv6CidrBlock;
  const protocol = String(p.aclProtocol ?? p.protocol ?? '');
  return p.ruleAction === 'allow' && p.egress !== true && protocol === '-1' && isWorldOpen(cidr, ctx.options.worldOpenMaxPrefix);
}

const aclOf = (record: CloudTrailRecord): string =>
  param(record, 'networkAclId') ?? str((record.responseElements?.networkAcl as Record<string, unknown> | undefined)?.networkAclId) ?? param(record, 'associationId') ?? 'unknown ACL';

export default defineRule({
  id: 'network-acl-change',
  title: 'Network ACL changed',
  description:
    'Changes to network ACLs (CIS 4.11): ACLs created or deleted, entries created, replaced or deleted, subnets ' +
    'moved to another ACL. An inbound entry allowing every protocol from the world (any /0) is high: the subnet’s ' +
    'stateless firewall no longer filters. A deleted entry may have been a deny, so deletions keep the base severity.',
  severity: 'medium',
  categories: ['nacl-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-11',
    'https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_network_acl_permissive_entry.yml',
  ],
  falsePositives: ['Network changes through infrastructure as code (allow-list the deployment role or CloudFormation).'],
  runbook:
    '1. Compare the ACL with its intended state (`aws ec2 describe-network-acls --network-acl-ids <id>`). ' +
    '2. If unplanned: restore the entries or the association, and check VPC Flow Logs of the subnets since firstSeen.',
  events: [
    {
      source: EC2,
      names: ['CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl', 'DeleteNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation'],
    },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, opensEverything(record, ctx) ? 1 : record.eventName === 'CreateNetworkAcl' ? -1 : 0);
  },

  alertTitle(record, ctx) {
    const acl = aclOf(record);
    const via = viaService(record);
    if (opensEverything(record, ctx)) {
      const p = record.requestParameters ?? {};
      return attempt(ctx, `Network ACL ${acl} allows all inbound traffic from ${String(p.cidrBlock ?? p.ipv6CidrBlock)} (rule ${String(p.ruleNumber ?? '?')})${via}`);
    }
    return attempt(ctx, `Network ACL ${acl}: ${record.eventName} by ${ctx.actor.display}${via}`);
  },

  // Per caller and ACL.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${aclOf(record)}`;
  },

  alertContext(record) {
    const p = record.requestParameters ?? {};
    const pick = ['networkAclId', 'ruleNumber', 'egress', 'ruleAction', 'aclProtocol', 'cidrBlock', 'ipv6CidrBlock', 'portRange', 'associationId', 'vpcId'];
    return Object.fromEntries(pick.filter((k) => p[k] !== undefined).map((k) => [k, p[k]]));
  },

  examples: {
    match: [
      {
        name: 'an inbound allow-all entry from 0.0.0.0/0 is high',
        record: ec2Call('CreateNetworkAclEntry', {
          networkAclId: 'acl-0f1e2d3c4b5a69788',
          ruleNumber: 50,
          egress: false,
          ruleAction: 'allow',
          aclProtocol: '-1',
          cidrBlock: '0.0.0.0/0',
        }),
        expect: { severity: 'high', title: 'allows all inbound traffic from 0.0.0.0/0 (rule 50)', dedupKey: 'arn:aws:iam::111122223333:user/alice|acl-0f1e2d3c4b5a69788' },
      },
      {
        name: 'a deny entry deleted keeps the base severity',
        record: ec2Call('DeleteNetworkAclEntry', { networkAclId: 'acl-0f1e2d3c4b5a69788', ruleNumber: 90, egress: false }),
        expect: { severity: 'medium', title: 'DeleteNetworkAclEntry' },
      },
      {
        name: 'a subnet moved to another ACL',
        record: ec2Call('ReplaceNetworkAclAssociation', { associationId: 'aclassoc-0a1b2c3d', networkAclId: 'acl-0123456789abcdef0' }, { newAssociationId: 'aclassoc-0e1f2a3b' }),
      },
      {
        name: 'a denied replacement of an entry',
        record: ec2Call(
          'ReplaceNetworkAclEntry',
          { networkAclId: 'acl-0f1e2d3c4b5a69788', ruleNumber: 100, egress: false, ruleAction: 'allow', aclProtocol: '6', portRange: { from: 22, to: 22 }, cidrBlock: '0.0.0.0/0' },
          null,
          deniedEc2('ReplaceNetworkAclEntry'),
        ),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing network ACLs',
        record: ec2Call('DescribeNetworkAcls', { networkAclIdSet: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation creating an ACL, allow-listed',
        config: { rules: { 'network-acl-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateNetworkAcl', { vpcId: 'vpc-0a1b2c3d4e5f60718' }, { networkAcl: { networkAclId: 'acl-0f1e2d3c4b5a69788' } }, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'a security group rule (its own rule)',
        record: ec2Call('AuthorizeSecurityGroupIngress', { groupId: 'sg-0a1b2c3d4e5f60718', cidrIp: '0.0.0.0/0', ipProtocol: 'tcp', fromPort: 22, toPort: 22 }),
      },
    ],
  },
});
