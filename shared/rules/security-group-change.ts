import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepString } from './lib/deep';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { isWorldOpen } from './lib/network';
import { type Obj, actorKey, adjust, asArray, attempt, ec2Items, isObject, listText } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  worldOpenMaxPrefix: z
    .number()
    .int()
    .min(0)
    .max(32)
    .default(0)
    .describe(
      'The widest prefix length that still counts as "the world": 0 means only /0 (0.0.0.0/0, ::/0, and anonymised values ' +
        'such as 208.236.235.254/0); 8 would also count /8-sized grants.',
    ),
});
type Options = z.infer<typeof Options>;

interface OpenRule {
  cidr: string;
  protocol: string;
  ports: string;
  allTraffic: boolean;
}

const CIDR_KEYS = ['cidrIp', 'cidrIpv4', 'cidrIpv6', 'CidrIp', 'CidrIpv4', 'CidrIpv6'];
const get = (o: Obj, ...keys: string[]): unknown => {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
};

function describePorts(o: Obj): { protocol: string; ports: string; allTraffic: boolean } {
  const protocol = String(get(o, 'ipProtocol', 'IpProtocol') ?? 'unknown');
  const from = Number(get(o, 'fromPort', 'FromPort'));
  const to = Number(get(o, 'toPort', 'ToPort'));
  const allProtocols = protocol === '-1' || protocol === 'all';
  const allPorts = (from === 0 || from === -1) && (to === 65535 || to === -1);
  const ports = allProtocols ? 'all' : Number.isFinite(from) && Number.isFinite(to) ? (from === to ? String(from) : `${from}-${to}`) : 'unknown';
  return { protocol: allProtocols ? 'all' : protocol, ports, allTraffic: allProtocols || (allPorts && protocol !== 'icmp' && protocol !== '1') };
}

/**
 * Every rule in the request that opens to the world, with its ports. Handles the three shapes CloudTrail records:
 * top-level `cidrIp` + ports (the Stratus record), `ipPermissions.items[].ipRanges/ipv6Ranges.items[]`, and
 * ModifySecurityGroupRules' `SecurityGroupRule` objects (capitalised keys, one object or a list).
 */
export function worldOpenRules(record: CloudTrailRecord, maxPrefix: number): OpenRule[] {
  const out: OpenRule[] = [];
  const consider = (holder: Obj) => {
    const ranges = [
      ...CIDR_KEYS.map((k) => holder[k]),
      ...ec2Items(holder.ipRanges).map((r) => r.cidrIp),
      ...ec2Items(holder.ipv6Ranges).map((r) => r.cidrIpv6),
    ];
    for (const cidr of ranges) if (typeof cidr === 'string' && isWorldOpen(cidr, maxPrefix)) out.push({ cidr, ...describePorts(holder) });
  };
  const p = record.requestParameters ?? {};
  consider(p);
  for (const perm of ec2Items(p.ipPermissions)) consider(perm);
  const modify = isObject(p.ModifySecurityGroupRulesRequest) ? p.ModifySecurityGroupRulesRequest : undefined;
  if (modify) {
    for (const wrapper of asArray(modify.SecurityGroupRule).concat(isObject(modify.SecurityGroupRule) ? [modify.SecurityGroupRule] : [])) {
      if (isObject(wrapper) && isObject(wrapper.SecurityGroupRule)) consider(wrapper.SecurityGroupRule);
    }
  }
  return out;
}

const isIngress = (name: string): boolean => name === 'AuthorizeSecurityGroupIngress' || name === 'ModifySecurityGroupRules';

function groupOf(record: CloudTrailRecord): string {
  return (
    deepString(record.requestParameters, 'groupId') ??
    deepString(record.responseElements, 'groupId') ??
    deepString(record.requestParameters, 'groupName') ??
    'unknown group'
  );
}

function exposure(record: CloudTrailRecord, ctx: RuleContext<Options>): OpenRule[] {
  return isIngress(record.eventName) ? worldOpenRules(record, ctx.options.worldOpenMaxPrefix) : [];
}

const openText = (open: OpenRule[]): string =>
  listText([...new Set(open.map((o) => (o.ports === 'all' ? `all traffic from ${o.cidr}` : `${o.protocol}/${o.ports} from ${o.cidr}`)))]);

export default defineRule({
  id: 'security-group-change',
  title: 'Security group changed',
  description:
    'Changes to security groups (CIS 4.10): rules authorised or revoked, groups created or deleted, rules modified. ' +
    'An ingress rule open to the world is high — any /0 prefix, whatever the address in front of it (anonymised ' +
    'logs show 208.236.235.254/0 where 0.0.0.0/0 was opened); all traffic open to the world is critical. ' +
    'Revocations, egress rules, new and deleted groups are low. ModifySecurityGroupRules does not record the ' +
    'direction, so a world-open CIDR there is treated as ingress.',
  severity: 'medium',
  categories: ['security-group-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-10',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-security-group-open-port-22-ingress/',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_ec2_security_group_modified.yml',
  ],
  falsePositives: [
    'Public load balancers and web servers that must accept 443 from anywhere (allow-list the deployment role, or accept the alert).',
    'Infrastructure as code creating and tearing down groups (allow-list its principal, or CloudFormation through allowAwsServices).',
  ],
  runbook:
    '1. Check the rule (alert context `worldOpen`) and the instances in the group. ' +
    '2. If unplanned: revoke it (`aws ec2 revoke-security-group-ingress` or the rule id), look for connections in ' +
    'VPC Flow Logs since firstSeen, and ask the caller.',
  events: [
    {
      source: EC2,
      names: [
        'AuthorizeSecurityGroupIngress',
        'AuthorizeSecurityGroupEgress',
        'RevokeSecurityGroupIngress',
        'RevokeSecurityGroupEgress',
        'CreateSecurityGroup',
        'DeleteSecurityGroup',
        'ModifySecurityGroupRules',
      ],
    },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    const open = exposure(record, ctx);
    if (open.length > 0) return adjust(ctx, base, open.some((o) => o.allTraffic) ? 2 : 1);
    return adjust(ctx, base, isIngress(record.eventName) ? 0 : -1);
  },

  alertTitle(record, ctx) {
    const group = groupOf(record);
    const open = exposure(record, ctx);
    const via = viaService(record);
    if (open.length > 0) return attempt(ctx, `Security group ${group} opened to the world: ${openText(open)}${via}`);
    return attempt(ctx, `Security group ${group}: ${record.eventName} by ${ctx.actor.display}${via}`);
  },

  // Per caller and group: several rules added to one group in one change are one incident.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${groupOf(record)}`;
  },

  alertContext(record, ctx) {
    const open = exposure(record, ctx);
    return { groupId: groupOf(record), worldOpen: open.slice(0, 10) };
  },

  examples: {
    match: [
      {
        name: 'SSH opened to the world, anonymised /0 CIDR in the top-level cidrIp (Stratus open-port-22-ingress)',
        record: ec2Call(
          'AuthorizeSecurityGroupIngress',
          { groupId: 'sg-003dc7f1f1c686164', ipPermissions: {}, cidrIp: '208.236.235.254/0', ipProtocol: 'tcp', fromPort: 22, toPort: 22 },
          { _return: true },
        ),
        expect: { severity: 'high', title: 'opened to the world: tcp/22 from 208.236.235.254/0', dedupKey: 'arn:aws:iam::111122223333:user/alice|sg-003dc7f1f1c686164' },
      },
      {
        name: 'all traffic from ::/0 through ipPermissions is critical',
        record: ec2Call('AuthorizeSecurityGroupIngress', {
          groupId: 'sg-0a1b2c3d4e5f60718',
          ipPermissions: { items: [{ ipProtocol: '-1', groups: {}, ipRanges: {}, ipv6Ranges: { items: [{ cidrIpv6: '::/0' }] }, prefixListIds: {} }] },
        }),
        expect: { severity: 'critical', title: 'all traffic from ::/0' },
      },
      {
        name: 'a rule for the office network is medium',
        record: ec2Call('AuthorizeSecurityGroupIngress', {
          groupId: 'sg-0a1b2c3d4e5f60718',
          ipPermissions: {
            items: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, groups: {}, ipRanges: { items: [{ cidrIp: '198.51.100.0/24', description: 'office' }] }, ipv6Ranges: {}, prefixListIds: {} }],
          },
        }),
        expect: { severity: 'medium' },
      },
      {
        name: 'ModifySecurityGroupRules to 0.0.0.0/0 on 3389',
        record: ec2Call('ModifySecurityGroupRules', {
          ModifySecurityGroupRulesRequest: {
            GroupId: 'sg-0a1b2c3d4e5f60718',
            SecurityGroupRule: {
              tag: 1,
              SecurityGroupRuleId: 'sgr-0f1e2d3c4b5a69788',
              SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, CidrIpv4: '0.0.0.0/0', Description: '' },
            },
          },
        }),
        expect: { severity: 'high', title: 'tcp/3389 from 0.0.0.0/0' },
      },
      {
        name: 'a denied world-open attempt is one level lower',
        record: ec2Call(
          'AuthorizeSecurityGroupIngress',
          { groupId: 'sg-0a1b2c3d4e5f60718', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } },
          null,
          deniedEc2('AuthorizeSecurityGroupIngress'),
        ),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
      {
        name: 'a deleted group is low',
        record: ec2Call('DeleteSecurityGroup', { groupId: 'sg-0a1b2c3d4e5f60718' }),
        expect: { severity: 'low' },
      },
    ],
    noMatch: [
      {
        name: 'describing security groups',
        record: ec2Call('DescribeSecurityGroups', { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation changing a group, CloudFormation allow-listed',
        config: { rules: { 'security-group-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call(
          'AuthorizeSecurityGroupIngress',
          { groupId: 'sg-0a1b2c3d4e5f60718', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } },
          { _return: true },
          {
            sourceIPAddress: 'cloudformation.amazonaws.com',
            userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
          },
        ),
      },
      {
        name: 'a network ACL entry (its own rule)',
        record: ec2Call('CreateNetworkAclEntry', { networkAclId: 'acl-0a1b2c3d', ruleNumber: 100, egress: false, ruleAction: 'allow', aclProtocol: '-1', cidrBlock: '0.0.0.0/0' }),
      },
    ],
  },
});
