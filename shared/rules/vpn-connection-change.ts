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

/** Calls that open a new path into the VPC, or re-point an existing tunnel at another endpoint. */
const OPENS = new Set(['CreateVpnConnection', 'AttachVpnGateway', 'ModifyVpnConnection']);
const REMOVES = new Set(['DeleteVpnConnection', 'DeleteVpnGateway', 'DetachVpnGateway', 'DeleteVpnConnectionRoute']);

const subjectOf = (record: CloudTrailRecord): string =>
  param(record, 'vpnConnectionId') ??
  deepString(record.responseElements, 'vpnConnectionId') ??
  param(record, 'vpnGatewayId') ??
  deepString(record.responseElements, 'vpnGatewayId') ??
  // A creation that failed has no id yet: name it by its customer gateway.
  (param(record, 'customerGatewayId') !== undefined ? `new VPN to ${param(record, 'customerGatewayId')}` : 'unknown VPN');

export default defineRule({
  id: 'vpn-connection-change',
  title: 'Site-to-site VPN changed',
  description:
    'A site-to-site VPN is a private path into the VPC from outside AWS. New connections, virtual private gateways ' +
    'attached to a VPC and connections re-pointed at another customer gateway or transit gateway ' +
    '(ModifyVpnConnection) are high; new gateways, tunnel option changes and static routes are medium; deletions ' +
    'and detachments are low (outage rather than access). Customer gateways have their own rule.',
  severity: 'medium',
  categories: ['network-vpn-dx-peering'],
  references: [
    'https://docs.aws.amazon.com/vpn/latest/s2svpn/VPC_VPN.html',
    'https://docs.aws.amazon.com/vpn/latest/s2svpn/modify-vpn-target.html',
    'https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpnConnection.html',
  ],
  falsePositives: ['Planned network work (a new office, a data-centre migration); allow-list the network team’s deployment role.'],
  runbook:
    '1. Identify the customer gateway (its public IP) and the VPC or transit gateway the VPN reaches. ' +
    '2. If unknown: delete the VPN connection (`aws ec2 delete-vpn-connection`), then review routes propagated ' +
    'from it and VPC Flow Logs of traffic from its address range.',
  events: [
    {
      source: EC2,
      names: [
        'CreateVpnConnection',
        'CreateVpnGateway',
        'AttachVpnGateway',
        'ModifyVpnConnection',
        'ModifyVpnConnectionOptions',
        'ModifyVpnTunnelOptions',
        'CreateVpnConnectionRoute',
        'DeleteVpnConnectionRoute',
        'DeleteVpnConnection',
        'DeleteVpnGateway',
        'DetachVpnGateway',
      ],
    },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, OPENS.has(record.eventName) ? 1 : REMOVES.has(record.eventName) ? -1 : 0);
  },

  alertTitle(record, ctx) {
    const cgw = param(record, 'customerGatewayId');
    const into = param(record, 'vpcId') ?? param(record, 'transitGatewayId') ?? param(record, 'vpnGatewayId');
    const detail = [cgw ? `customer gateway ${cgw}` : undefined, into ? `to ${into}` : undefined].filter(Boolean).join(' ');
    return attempt(ctx, `${record.eventName} ${subjectOf(record)}${detail ? ` (${detail})` : ''} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and VPN connection or gateway.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${subjectOf(record)}`;
  },

  alertContext(record) {
    const keys = ['vpnConnectionId', 'vpnGatewayId', 'customerGatewayId', 'transitGatewayId', 'vpcId', 'type', 'destinationCidrBlock', 'vpnTunnelOutsideIpAddress'];
    return Object.fromEntries(keys.map((k) => [k, param(record, k)]).filter(([, v]) => v !== undefined));
  },

  examples: {
    match: [
      {
        name: 'a VPN connection to a virtual private gateway is high',
        record: ec2Call(
          'CreateVpnConnection',
          { type: 'ipsec.1', customerGatewayId: 'cgw-0a1b2c3d4e5f60718', vpnGatewayId: 'vgw-0f1e2d3c4b5a69788', options: { staticRoutesOnly: true } },
          { vpnConnection: { vpnConnectionId: 'vpn-0a1b2c3d4e5f60718', state: 'pending', customerGatewayConfiguration: 'HIDDEN_DUE_TO_SECURITY_REASONS', type: 'ipsec.1' } },
        ),
        expect: { severity: 'high', title: 'vpn-0a1b2c3d4e5f60718 (customer gateway cgw-0a1b2c3d4e5f60718 to vgw-0f1e2d3c4b5a69788)', dedupKey: 'arn:aws:iam::111122223333:user/alice|vpn-0a1b2c3d4e5f60718' },
      },
      {
        name: 'a virtual private gateway attached to a VPC is high',
        record: ec2Call('AttachVpnGateway', { vpnGatewayId: 'vgw-0f1e2d3c4b5a69788', vpcId: 'vpc-0a1b2c3d4e5f60718' }, { attachment: { vpcId: 'vpc-0a1b2c3d4e5f60718', state: 'attaching' } }),
        expect: { severity: 'high' },
      },
      {
        name: 'a VPN re-pointed at another customer gateway',
        record: ec2Call('ModifyVpnConnection', { vpnConnectionId: 'vpn-0a1b2c3d4e5f60718', customerGatewayId: 'cgw-0badc0ffee0000001' }),
        expect: { severity: 'high' },
      },
      {
        name: 'a new virtual private gateway is medium',
        record: ec2Call('CreateVpnGateway', { type: 'ipsec.1', amazonSideAsn: 64512 }, { vpnGateway: { vpnGatewayId: 'vgw-0f1e2d3c4b5a69788', state: 'available', type: 'ipsec.1' } }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a denied VPN creation',
        record: ec2Call('CreateVpnConnection', { type: 'ipsec.1', customerGatewayId: 'cgw-0a1b2c3d4e5f60718', transitGatewayId: 'tgw-0a1b2c3d4e5f60718' }, null, deniedEc2('CreateVpnConnection')),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing VPN connections',
        record: ec2Call('DescribeVpnConnections', { vpnConnectionSet: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation creating a VPN gateway, allow-listed',
        config: { rules: { 'vpn-connection-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateVpnGateway', { type: 'ipsec.1' }, null, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'a Client VPN endpoint (a different service and event)',
        record: ec2Call('CreateClientVpnEndpoint', { CreateClientVpnEndpointRequest: { ClientCidrBlock: '10.100.0.0/22' } }),
      },
    ],
  },
});
