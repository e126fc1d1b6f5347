import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepString } from './lib/deep';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { inAllowedNetworks } from './lib/network';
import { actorKey, adjust, attempt, param } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
});

const gatewayOf = (record: CloudTrailRecord): string =>
  param(record, 'customerGatewayId') ?? deepString(record.responseElements, 'customerGatewayId') ?? param(record, 'ipAddress') ?? 'unknown customer gateway';

/** The far end of the VPN is not one of your networks (only known when `allowedSourceCidrs` is configured). */
function endpointOutsideNetworks(record: CloudTrailRecord, ctx: RuleContext<unknown>): boolean {
  const ip = param(record, 'ipAddress');
  return record.eventName === 'CreateCustomerGateway' && ip !== undefined && inAllowedNetworks(ctx, ip) === false;
}

export default defineRule({
  id: 'customer-gateway-change',
  title: 'Customer gateway (VPN endpoint) created or deleted',
  description:
    'A customer gateway is the far end of a site-to-site VPN: creating one is the first step of a tunnel into the ' +
    'VPC, which is why it belongs to both the network-gateway (CIS 4.12) and the VPN categories. A gateway whose ' +
    'public IP is outside the profile’s `allowedSourceCidrs` (when configured) is high: the tunnel would end ' +
    'somewhere that is not one of your networks.',
  severity: 'medium',
  categories: ['network-gateway-change', 'network-vpn-dx-peering'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-12',
    'https://docs.aws.amazon.com/vpn/latest/s2svpn/your-cgw.html',
  ],
  falsePositives: ['A new branch office or data-centre router (add its address to allowedSourceCidrs).'],
  runbook:
    '1. Check the gateway’s IP address and ASN (alert context) against your network inventory. ' +
    '2. If unknown: delete any VPN connection that uses it, then the customer gateway, and ask the caller.',
  events: [{ source: EC2, names: ['CreateCustomerGateway', 'DeleteCustomerGateway'] }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, endpointOutsideNetworks(record, ctx) ? 1 : 0);
  },

  alertTitle(record, ctx) {
    const ip = param(record, 'ipAddress');
    const outside = endpointOutsideNetworks(record, ctx) ? ' — outside the allowed networks' : '';
    const what = record.eventName === 'CreateCustomerGateway' ? `Customer gateway created for ${ip ?? 'an unknown address'}` : `Customer gateway ${gatewayOf(record)} deleted`;
    return attempt(ctx, `${what} by ${ctx.actor.display}${viaService(record)}${outside}`);
  },

  // Per caller and gateway (its IP address when created).
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${param(record, 'ipAddress') ?? gatewayOf(record)}`;
  },

  alertContext(record, ctx) {
    const p = record.requestParameters ?? {};
    return {
      customerGateway: gatewayOf(record),
      ...(p.ipAddress !== undefined ? { ipAddress: p.ipAddress } : {}),
      ...(p.bgpAsn !== undefined ? { bgpAsn: p.bgpAsn } : {}),
      ...(param(record, 'ipAddress') !== undefined ? { inAllowedNetworks: inAllowedNetworks(ctx, param(record, 'ipAddress')!) ?? 'not configured' } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'a customer gateway outside the allowed networks is high',
        config: { allowedSourceCidrs: ['198.51.100.0/24'] },
        record: ec2Call('CreateCustomerGateway', { type: 'ipsec.1', ipAddress: '192.0.2.44', bgpAsn: 65010 }, {
          customerGateway: { customerGatewayId: 'cgw-0a1b2c3d4e5f60718', state: 'available', type: 'ipsec.1', ipAddress: '192.0.2.44', bgpAsn: '65010' },
        }),
        expect: { severity: 'high', title: 'Customer gateway created for 192.0.2.44', dedupKey: 'arn:aws:iam::111122223333:user/alice|192.0.2.44' },
      },
      {
        name: 'a customer gateway for the office router',
        config: { allowedSourceCidrs: ['198.51.100.0/24'] },
        record: ec2Call('CreateCustomerGateway', { type: 'ipsec.1', ipAddress: '198.51.100.1', bgpAsn: 65000 }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a customer gateway deleted, denied',
        record: ec2Call('DeleteCustomerGateway', { customerGatewayId: 'cgw-0a1b2c3d4e5f60718' }, null, deniedEc2('DeleteCustomerGateway')),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing customer gateways',
        record: ec2Call('DescribeCustomerGateways', { customerGatewaySet: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation creating one, allow-listed',
        config: { rules: { 'customer-gateway-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateCustomerGateway', { type: 'ipsec.1', ipAddress: '198.51.100.1', bgpAsn: 65000 }, null, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
