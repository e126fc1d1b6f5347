import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { actorKey, adjust, at, attempt, isObject, param, str } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

const CLASSIC_LINK = ['AttachClassicLinkVpc', 'DetachClassicLinkVpc', 'EnableVpcClassicLink', 'DisableVpcClassicLink', 'EnableVpcClassicLinkDnsSupport', 'DisableVpcClassicLinkDnsSupport'];

const vpcOf = (record: CloudTrailRecord): string => param(record, 'vpcId') ?? str(at(record.responseElements, 'vpc', 'vpcId')) ?? 'unknown VPC';

/** The attributes a ModifyVpcAttribute call sets, as "enableDnsSupport=false". */
function attributeChanges(record: CloudTrailRecord): string[] {
  const p = record.requestParameters ?? {};
  return Object.entries(p)
    .filter(([k]) => k !== 'vpcId')
    .map(([k, v]) => `${k}=${isObject(v) && 'value' in v ? String(v.value) : JSON.stringify(v)}`);
}

export default defineRule({
  id: 'vpc-change',
  title: 'VPC created, deleted or modified',
  description:
    'Changes to VPCs themselves (CIS 4.14 without the peering calls, which have their own rule): VPCs created or ' +
    'deleted, VPC attributes modified (DNS support and hostnames), and the ClassicLink calls that connect ' +
    'EC2-Classic instances to a VPC. A new VPC is low (nothing is reachable yet); deletion, attribute and ' +
    'ClassicLink changes are medium.',
  severity: 'medium',
  categories: ['vpc-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-14',
    'https://docs.aws.amazon.com/vpc/latest/userguide/vpc-dns.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_ec2_vpc_modified.yml',
  ],
  falsePositives: ['Infrastructure as code (allow-list the deployment role or CloudFormation).'],
  runbook:
    '1. Identify the VPC and the change (alert context). ' +
    '2. If unplanned: restore the attribute or investigate what was created in the new VPC (instances, gateways).',
  events: [{ source: EC2, names: ['CreateVpc', 'DeleteVpc', 'ModifyVpcAttribute', ...CLASSIC_LINK] }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, record.eventName === 'CreateVpc' ? -1 : 0);
  },

  alertTitle(record, ctx) {
    const changes = record.eventName === 'ModifyVpcAttribute' ? ` (${attributeChanges(record).join(', ')})` : '';
    return attempt(ctx, `${record.eventName} ${vpcOf(record)}${changes} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and VPC.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${vpcOf(record)}`;
  },

  alertContext(record) {
    return {
      vpcId: vpcOf(record),
      ...(record.eventName === 'ModifyVpcAttribute' ? { attributes: attributeChanges(record) } : {}),
      ...(param(record, 'cidrBlock') ? { cidrBlock: param(record, 'cidrBlock') } : {}),
      ...(param(record, 'instanceId') ? { instanceId: param(record, 'instanceId') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'DNS support switched off on a VPC',
        record: ec2Call('ModifyVpcAttribute', { vpcId: 'vpc-0a1b2c3d4e5f60718', enableDnsSupport: { value: false } }),
        expect: { severity: 'medium', title: 'ModifyVpcAttribute vpc-0a1b2c3d4e5f60718 (enableDnsSupport=false)', dedupKey: 'arn:aws:iam::111122223333:user/alice|vpc-0a1b2c3d4e5f60718' },
      },
      {
        name: 'a VPC deleted',
        record: ec2Call('DeleteVpc', { vpcId: 'vpc-0a1b2c3d4e5f60718' }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a new VPC is low',
        record: ec2Call('CreateVpc', { cidrBlock: '10.42.0.0/16', instanceTenancy: 'default', amazonProvidedIpv6CidrBlock: false }, {
          vpc: { vpcId: 'vpc-0c0ffee000000001', state: 'pending', cidrBlock: '10.42.0.0/16', ownerId: '111122223333' },
        }),
        expect: { severity: 'low', title: 'vpc-0c0ffee000000001' },
      },
      {
        name: 'ClassicLink enabled',
        record: ec2Call('EnableVpcClassicLink', { vpcId: 'vpc-0a1b2c3d4e5f60718' }),
      },
      {
        name: 'a denied deletion',
        record: ec2Call('DeleteVpc', { vpcId: 'vpc-0a1b2c3d4e5f60718' }, null, deniedEc2('DeleteVpc')),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing VPCs',
        record: ec2Call('DescribeVpcs', { vpcSet: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation creating a VPC, allow-listed',
        config: { rules: { 'vpc-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateVpc', { cidrBlock: '10.42.0.0/16' }, null, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'VPC Flow Logs deleted (log tampering, not a VPC change; Stratus vpc-remove-flow-logs)',
        record: ec2Call('DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: { tag: 1, content: 'fl-0a1b2c3d4e5f60718' } } }),
      },
    ],
  },
});
