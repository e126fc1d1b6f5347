import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { isWorldOpen } from './lib/network';
import { actorKey, adjust, at, attempt, param, str } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

const TARGET_KEYS = [
  'gatewayId',
  'natGatewayId',
  'instanceId',
  'networkInterfaceId',
  'vpcPeeringConnectionId',
  'transitGatewayId',
  'egressOnlyInternetGatewayId',
  'localGatewayId',
  'carrierGatewayId',
  'coreNetworkArn',
  'vpcEndpointId',
] as const;

const routeTarget = (record: CloudTrailRecord): string | undefined => {
  for (const k of TARGET_KEYS) {
    const v = param(record, k);
    if (v !== undefined) return v;
  }
  return undefined;
};

const destination = (record: CloudTrailRecord): string | undefined =>
  param(record, 'destinationCidrBlock') ?? param(record, 'destinationIpv6CidrBlock') ?? param(record, 'destinationPrefixListId');

/** A route that sends traffic through a machine (an instance or a network interface): it can read and alter it. */
const throughMachine = (record: CloudTrailRecord): boolean =>
  (record.eventName === 'CreateRoute' || record.eventName === 'ReplaceRoute') &&
  (param(record, 'instanceId') !== undefined || param(record, 'networkInterfaceId') !== undefined);

/** The default route replaced: every flow out of the subnets now goes somewhere else. */
const defaultRouteReplaced = (record: CloudTrailRecord): boolean => record.eventName === 'ReplaceRoute' && isWorldOpen(destination(record));

const tableOf = (record: CloudTrailRecord): string =>
  param(record, 'routeTableId') ?? str(at(record.responseElements, 'routeTable', 'routeTableId')) ?? param(record, 'associationId') ?? param(record, 'vpcId') ?? 'unknown route table';

export default defineRule({
  id: 'route-table-change',
  title: 'Route table changed',
  description:
    'Changes to route tables (CIS 4.13): routes created, replaced or deleted, tables created or deleted, subnet ' +
    'associations changed. A route through an instance or a network interface is high (the machine sees and can ' +
    'alter the traffic), as is replacing a default route (/0), which redirects every flow out of the subnets.',
  severity: 'medium',
  categories: ['route-table-change'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-13',
    'https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_ec2_route_table_modified.yml',
  ],
  falsePositives: [
    'Infrastructure as code (allow-list the deployment role or CloudFormation).',
    'Transit gateway and VPN route propagation is done by AWS (not a call; not reported).',
  ],
  runbook:
    '1. Compare the table with its intended state (`aws ec2 describe-route-tables --route-table-ids <id>`). ' +
    '2. If unplanned: restore the route or association, then check VPC Flow Logs for traffic through the new target.',
  events: [
    {
      source: EC2,
      names: ['CreateRoute', 'ReplaceRoute', 'DeleteRoute', 'CreateRouteTable', 'DeleteRouteTable', 'AssociateRouteTable', 'ReplaceRouteTableAssociation', 'DisassociateRouteTable'],
    },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    const risky = throughMachine(record) || defaultRouteReplaced(record);
    return adjust(ctx, base, risky ? 1 : record.eventName === 'CreateRouteTable' ? -1 : 0);
  },

  alertTitle(record, ctx) {
    const table = tableOf(record);
    const dest = destination(record);
    const target = routeTarget(record);
    const route = dest !== undefined ? ` ${dest}${target !== undefined ? ` → ${target}` : ''}` : '';
    return attempt(ctx, `Route table ${table}: ${record.eventName}${route} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and table.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${tableOf(record)}`;
  },

  alertContext(record) {
    return {
      routeTable: tableOf(record),
      ...(destination(record) !== undefined ? { destination: destination(record) } : {}),
      ...(routeTarget(record) !== undefined ? { target: routeTarget(record) } : {}),
      ...(param(record, 'subnetId') !== undefined ? { subnetId: param(record, 'subnetId') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'a default route through an instance (traffic interception) is high',
        record: ec2Call('CreateRoute', { routeTableId: 'rtb-0a1b2c3d4e5f60718', destinationCidrBlock: '0.0.0.0/0', instanceId: 'i-0abcdef1234567890' }),
        expect: { severity: 'high', title: '0.0.0.0/0 → i-0abcdef1234567890', dedupKey: 'arn:aws:iam::111122223333:user/alice|rtb-0a1b2c3d4e5f60718' },
      },
      {
        name: 'the default route replaced to a peering connection',
        record: ec2Call('ReplaceRoute', { routeTableId: 'rtb-0a1b2c3d4e5f60718', destinationCidrBlock: '0.0.0.0/0', vpcPeeringConnectionId: 'pcx-0f1e2d3c4b5a69788' }),
        expect: { severity: 'high' },
      },
      {
        name: 'a route to a VPN gateway for an on-premises range',
        record: ec2Call('CreateRoute', { routeTableId: 'rtb-0a1b2c3d4e5f60718', destinationCidrBlock: '10.20.0.0/16', gatewayId: 'vgw-0a1b2c3d4e5f60718' }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a subnet associated with another table',
        record: ec2Call('AssociateRouteTable', { routeTableId: 'rtb-0a1b2c3d4e5f60718', subnetId: 'subnet-0a1b2c3d4e5f60718' }, { associationId: 'rtbassoc-0a1b2c3d', associationState: { state: 'associated' } }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a denied route deletion',
        record: ec2Call('DeleteRoute', { routeTableId: 'rtb-0a1b2c3d4e5f60718', destinationCidrBlock: '0.0.0.0/0' }, null, deniedEc2('DeleteRoute')),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing route tables',
        record: ec2Call('DescribeRouteTables', { routeTableIdSet: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation adding a route, allow-listed',
        config: { rules: { 'route-table-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateRoute', { routeTableId: 'rtb-0a1b2c3d4e5f60718', destinationCidrBlock: '0.0.0.0/0', natGatewayId: 'nat-0a1b2c3d4e5f60718' }, { _return: true }, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'a transit gateway route table (not a VPC route table)',
        record: ec2Call('CreateTransitGatewayRoute', { CreateTransitGatewayRouteRequest: { TransitGatewayRouteTableId: 'tgw-rtb-0a1b2c3d', DestinationCidrBlock: '10.0.0.0/8' } }),
      },
    ],
  },
});
