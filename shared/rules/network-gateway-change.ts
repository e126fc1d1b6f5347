import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepString } from './lib/deep';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { actorKey, adjust, attempt, param } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

const gatewayOf = (record: CloudTrailRecord): string =>
  param(record, 'internetGatewayId') ??
  param(record, 'egressOnlyInternetGatewayId') ??
  param(record, 'natGatewayId') ??
  deepString(record.responseElements, 'internetGatewayId') ??
  deepString(record.responseElements, 'egressOnlyInternetGatewayId') ??
  deepString(record.responseElements, 'natGatewayId') ??
  deepString(record.requestParameters, 'NatGatewayId') ??
  'unknown gateway';

export default defineRule({
  id: 'network-gateway-change',
  title: 'Internet, egress-only or NAT gateway changed',
  description:
    'Changes to the gateways between a VPC and the Internet (CIS 4.12): internet gateways created, attached, ' +
    'detached or deleted; egress-only internet gateways and NAT gateways created or deleted. Attaching an internet ' +
    'gateway makes a VPC reachable; detaching or deleting one cuts it off (outage or cover for another change). ' +
    'Creating a gateway that is not yet attached or routed is low. Customer gateways (VPN) have their own rule.',
  severity: 'medium',
  categories: ['network-gateway-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-12',
    'https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_ec2_gateway_modified.yml',
  ],
  falsePositives: ['Network changes through infrastructure as code (allow-list the deployment role or CloudFormation).'],
  runbook:
    '1. Identify the VPC (alert context) and whether the change was planned. ' +
    '2. If not: detach/restore the gateway and check the VPC’s route tables and security groups for what became reachable.',
  events: [
    {
      source: EC2,
      names: [
        'CreateInternetGateway',
        'DeleteInternetGateway',
        'AttachInternetGateway',
        'DetachInternetGateway',
        'CreateEgressOnlyInternetGateway',
        'DeleteEgressOnlyInternetGateway',
        'CreateNatGateway',
        'DeleteNatGateway',
      ],
    },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, record.eventName.startsWith('Create') ? -1 : 0);
  },

  alertTitle(record, ctx) {
    const vpc = param(record, 'vpcId');
    return attempt(ctx, `${record.eventName} ${gatewayOf(record)}${vpc ? ` (${vpc})` : ''} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and gateway: creating and attaching one gateway is one change (a creation without a returned id,
  // e.g. a failed one, falls back to the VPC).
  dedupKey(record, ctx) {
    const gateway = gatewayOf(record);
    return `${actorKey(ctx)}|${gateway === 'unknown gateway' ? (param(record, 'vpcId') ?? gateway) : gateway}`;
  },

  alertContext(record) {
    return {
      gateway: gatewayOf(record),
      ...(param(record, 'vpcId') ? { vpcId: param(record, 'vpcId') } : {}),
      ...(param(record, 'subnetId') ? { subnetId: param(record, 'subnetId') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'an internet gateway attached to a VPC',
        record: ec2Call('AttachInternetGateway', { internetGatewayId: 'igw-0a1b2c3d4e5f60718', vpcId: 'vpc-0f1e2d3c4b5a69788' }),
        expect: { severity: 'medium', title: 'AttachInternetGateway igw-0a1b2c3d4e5f60718 (vpc-0f1e2d3c4b5a69788)', dedupKey: 'arn:aws:iam::111122223333:user/alice|igw-0a1b2c3d4e5f60718' },
      },
      {
        name: 'a NAT gateway deleted',
        record: ec2Call('DeleteNatGateway', { DeleteNatGatewayRequest: { NatGatewayId: 'nat-0a1b2c3d4e5f60718' } }, { DeleteNatGatewayResponse: { natGatewayId: 'nat-0a1b2c3d4e5f60718' } }),
        expect: { severity: 'medium', title: 'nat-0a1b2c3d4e5f60718' },
      },
      {
        name: 'an internet gateway created (not attached yet) is low',
        record: ec2Call('CreateInternetGateway', { tagSpecificationSet: {} }, { internetGateway: { internetGatewayId: 'igw-0a1b2c3d4e5f60718', attachmentSet: {}, tagSet: {} } }),
        expect: { severity: 'low' },
      },
      {
        name: 'root detaching an internet gateway, denied',
        record: ec2Call('DetachInternetGateway', { internetGatewayId: 'igw-0a1b2c3d4e5f60718', vpcId: 'vpc-0f1e2d3c4b5a69788' }, null, {
          ...deniedEc2('DetachInternetGateway'),
          userIdentity: identities.root(),
        }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing internet gateways',
        record: ec2Call('DescribeInternetGateways', { internetGatewayIdSet: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation creating a NAT gateway, allow-listed',
        config: { rules: { 'network-gateway-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateNatGateway', { CreateNatGatewayRequest: { SubnetId: 'subnet-0a1b2c3d', AllocationId: 'eipalloc-0a1b2c3d' } }, null, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'a customer gateway (its own rule)',
        record: ec2Call('CreateCustomerGateway', { type: 'ipsec.1', ipAddress: '198.51.100.7', bgpAsn: 65000 }),
      },
    ],
  },
});
