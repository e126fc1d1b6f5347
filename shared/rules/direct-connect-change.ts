import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { accountRelation, knownAccountsOption } from './lib/accounts';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { actorKey, adjust, attempt, param } from './lib/record';

const DX = 'directconnect.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  knownAccounts: knownAccountsOption(),
});
type Options = z.infer<typeof Options>;

const EVENTS = [
  'AllocatePrivateVirtualInterface',
  'AllocatePublicVirtualInterface',
  'AllocateTransitVirtualInterface',
  'AllocateHostedConnection',
  'ConfirmPrivateVirtualInterface',
  'ConfirmPublicVirtualInterface',
  'ConfirmTransitVirtualInterface',
  'ConfirmConnection',
  'CreateDirectConnectGatewayAssociationProposal',
  'AcceptDirectConnectGatewayAssociationProposal',
  'CreatePrivateVirtualInterface',
  'CreatePublicVirtualInterface',
  'CreateTransitVirtualInterface',
  'CreateDirectConnectGatewayAssociation',
  'DeleteVirtualInterface',
  'DeleteConnection',
] as const;

/** The other account in the call: the owner a virtual interface or connection is allocated to, or the gateway's. */
function otherAccount(record: CloudTrailRecord): string | undefined {
  return param(record, 'ownerAccount') ?? param(record, 'directConnectGatewayOwnerAccount') ?? param(record, 'associatedGatewayOwnerAccount');
}

function external(record: CloudTrailRecord, ctx: RuleContext<Options>): string | undefined {
  const other = otherAccount(record);
  return other !== undefined && accountRelation(other, ctx, ctx.options.knownAccounts) === 'external' ? other : undefined;
}

const subjectOf = (record: CloudTrailRecord): string =>
  param(record, 'virtualInterfaceId') ?? param(record, 'connectionId') ?? param(record, 'proposalId') ?? param(record, 'directConnectGatewayId') ?? 'unknown';

const dxCall = (eventName: string, requestParameters: Record<string, unknown>, extra: Partial<CloudTrailRecord> = {}) =>
  exampleRecord({
    eventSource: DX,
    eventName,
    awsRegion: 'eu-central-1',
    userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 command/directconnect.' + eventName,
    requestParameters,
    ...extra,
  });

export default defineRule({
  id: 'direct-connect-change',
  title: 'Direct Connect interface, connection or gateway association changed',
  description:
    'Direct Connect links a data centre (or a partner’s) to AWS privately. Allocating a virtual interface or hosted ' +
    'connection, confirming one offered to this account, and proposing or accepting a Direct Connect gateway ' +
    'association each open a network path that no security group on the Internet side sees. When another account ' +
    'is involved and it is not one of the configured `knownAccounts`, the alert is high.',
  severity: 'medium',
  categories: ['network-vpn-dx-peering'],
  references: [
    'https://docs.aws.amazon.com/directconnect/latest/UserGuide/logging_dc_api_calls.html',
    'https://docs.aws.amazon.com/directconnect/latest/UserGuide/multi-account-associate-vgw.html',
    'https://docs.aws.amazon.com/directconnect/latest/APIReference/API_AllocatePrivateVirtualInterface.html',
  ],
  falsePositives: ['Your Direct Connect partner provisioning hosted connections (add the partner account to knownAccounts).'],
  runbook:
    '1. Identify the connection/interface and the other account (alert context). ' +
    '2. If unplanned: delete the virtual interface or reject the proposal, and review BGP routes advertised over it.',
  events: [{ source: DX, names: EVENTS }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    return adjust(ctx, base, external(record, ctx) ? 1 : record.eventName.startsWith('Delete') ? -1 : 0);
  },

  alertTitle(record, ctx) {
    const ext = external(record, ctx);
    return attempt(ctx, `Direct Connect ${record.eventName} ${subjectOf(record)} by ${ctx.actor.display}${viaService(record)}${ext ? ` — external account ${ext}` : ''}`);
  },

  // Per caller and connection/interface/gateway.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${subjectOf(record)}`;
  },

  alertContext(record, ctx) {
    const other = otherAccount(record);
    return {
      subject: subjectOf(record),
      ...(other !== undefined ? { otherAccount: other, otherAccountRelation: accountRelation(other, ctx, ctx.options.knownAccounts) } : {}),
      ...(param(record, 'directConnectGatewayId') ? { directConnectGatewayId: param(record, 'directConnectGatewayId') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'a private virtual interface allocated to an unknown account is high',
        record: dxCall('AllocatePrivateVirtualInterface', {
          connectionId: 'dxcon-fg5678gh',
          ownerAccount: '444455556666',
          newPrivateVirtualInterfaceAllocation: { virtualInterfaceName: 'partner-vif', vlan: 101, asn: 65001, addressFamily: 'ipv4' },
        }),
        expect: { severity: 'high', title: 'external account 444455556666', dedupKey: 'arn:aws:iam::111122223333:user/alice|dxcon-fg5678gh' },
      },
      {
        name: 'the same allocation to a known account is medium',
        config: { rules: { 'direct-connect-change': { options: { knownAccounts: ['444455556666'] } } } },
        record: dxCall('AllocatePrivateVirtualInterface', {
          connectionId: 'dxcon-fg5678gh',
          ownerAccount: '444455556666',
          newPrivateVirtualInterfaceAllocation: { virtualInterfaceName: 'shared-services', vlan: 102, asn: 65001 },
        }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a gateway association proposal accepted from an external account',
        record: dxCall('AcceptDirectConnectGatewayAssociationProposal', {
          directConnectGatewayId: 'dx-gw-0a1b2c3d',
          proposalId: 'c2ede9b4-bbc6-4d33-923c-bc4feEXAMPLE',
          associatedGatewayOwnerAccount: '777788889999',
        }),
        expect: { severity: 'high' },
      },
      {
        name: 'a virtual interface offered to this account confirmed',
        record: dxCall('ConfirmPrivateVirtualInterface', { virtualInterfaceId: 'dxvif-ffhhk74f', virtualGatewayId: 'vgw-0f1e2d3c4b5a69788' }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a denied hosted-connection allocation',
        record: dxCall('AllocateHostedConnection', { connectionId: 'dxcon-fg5678gh', ownerAccount: '444455556666', bandwidth: '500Mbps', connectionName: 'x', vlan: 300 }, {
          errorCode: 'AccessDeniedException',
          errorMessage: 'User: arn:aws:iam::111122223333:user/alice is not authorized to perform: directconnect:AllocateHostedConnection',
        }),
        expect: { severity: 'medium', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing virtual interfaces',
        record: dxCall('DescribeVirtualInterfaces', {}, { readOnly: true }),
      },
      {
        name: 'CloudFormation, allow-listed',
        config: { rules: { 'direct-connect-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: dxCall('CreateDirectConnectGatewayAssociation', { directConnectGatewayId: 'dx-gw-0a1b2c3d', gatewayId: 'vgw-0f1e2d3c4b5a69788' }, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
