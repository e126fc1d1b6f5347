import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { type AccountRelation, accountRelation, knownAccountsOption } from './lib/accounts';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { actorKey, adjust, at, attempt, param, str } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  knownAccounts: knownAccountsOption(),
});
type Options = z.infer<typeof Options>;

// A request that failed has no peering id: it is named by the two VPCs.
const peeringOf = (record: CloudTrailRecord): string =>
  param(record, 'vpcPeeringConnectionId') ??
  str(at(record.responseElements, 'vpcPeeringConnection', 'vpcPeeringConnectionId')) ??
  `${param(record, 'vpcId') ?? 'unknown VPC'} ↔ ${param(record, 'peerVpcId') ?? 'unknown VPC'}`;

/** The account on the other side: the peer a request goes to, or the requester of a peering accepted here. */
function peerAccount(record: CloudTrailRecord, ctx: RuleContext<unknown>): string | undefined {
  const requested = param(record, 'peerOwnerId');
  if (requested !== undefined) return requested;
  const pcx = at(record.responseElements, 'vpcPeeringConnection');
  const requester = str(at(pcx, 'requesterVpcInfo', 'ownerId'));
  const accepter = str(at(pcx, 'accepterVpcInfo', 'ownerId'));
  if (requester !== undefined && requester !== ctx.account) return requester;
  if (accepter !== undefined && accepter !== ctx.account) return accepter;
  // CreateVpcPeeringConnection without peerOwnerId peers within the caller's own account.
  return record.eventName === 'CreateVpcPeeringConnection' ? ctx.account : undefined;
}

function relation(record: CloudTrailRecord, ctx: RuleContext<Options>): AccountRelation | undefined {
  const peer = peerAccount(record, ctx);
  return peer === undefined || peer === '' ? undefined : accountRelation(peer, ctx, ctx.options.knownAccounts);
}

const ESTABLISHES = new Set(['CreateVpcPeeringConnection', 'AcceptVpcPeeringConnection', 'ModifyVpcPeeringConnectionOptions']);

export default defineRule({
  id: 'vpc-peering-change',
  title: 'VPC peering connection changed',
  description:
    'VPC peering joins two networks (CIS 4.14 lists the peering calls). Requesting or accepting a peering with an ' +
    'account outside your own and the configured `knownAccounts` is high: the other side can reach whatever the ' +
    'route tables and security groups allow. Same-account and known-account peerings are medium; rejections and ' +
    'deletions are low.',
  severity: 'medium',
  categories: ['network-vpn-dx-peering'],
  references: [
    'https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-14',
    'https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-basics.html',
  ],
  falsePositives: ['Peering with a partner or a shared-services account (add it to knownAccounts).'],
  runbook:
    '1. Identify the peer VPC and account (alert context). ' +
    '2. If unplanned: delete the peering (`aws ec2 delete-vpc-peering-connection`), remove routes to it, and review ' +
    'VPC Flow Logs of traffic from the peer CIDR.',
  events: [
    {
      source: EC2,
      names: ['CreateVpcPeeringConnection', 'AcceptVpcPeeringConnection', 'RejectVpcPeeringConnection', 'DeleteVpcPeeringConnection', 'ModifyVpcPeeringConnectionOptions'],
    },
  ],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    if (!ESTABLISHES.has(record.eventName)) return adjust(ctx, base, -1);
    return adjust(ctx, base, relation(record, ctx) === 'external' ? 1 : 0);
  },

  alertTitle(record, ctx) {
    const peer = peerAccount(record, ctx);
    const rel = relation(record, ctx);
    const with_ = peer !== undefined && rel !== 'own' ? ` with ${rel === 'external' ? 'external' : 'known'} account ${peer}` : '';
    return attempt(ctx, `VPC peering ${peeringOf(record)}: ${record.eventName}${with_} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and peering connection (its request and acceptance are separate records and usually callers).
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${peeringOf(record)}`;
  },

  alertContext(record, ctx) {
    const peer = peerAccount(record, ctx);
    return {
      vpcPeeringConnectionId: peeringOf(record),
      ...(peer !== undefined ? { peerAccount: peer, peerRelation: relation(record, ctx) } : {}),
      ...(param(record, 'vpcId') ? { vpcId: param(record, 'vpcId') } : {}),
      ...(param(record, 'peerVpcId') ? { peerVpcId: param(record, 'peerVpcId') } : {}),
      ...(param(record, 'peerRegion') ? { peerRegion: param(record, 'peerRegion') } : {}),
    };
  },

  examples: {
    match: [
      {
        name: 'a peering requested with an unknown account is high',
        record: ec2Call(
          'CreateVpcPeeringConnection',
          { vpcId: 'vpc-0a1b2c3d4e5f60718', peerVpcId: 'vpc-0badc0ffee0000001', peerOwnerId: '999988887777', peerRegion: 'eu-central-1' },
          {
            vpcPeeringConnection: {
              vpcPeeringConnectionId: 'pcx-0f1e2d3c4b5a69788',
              requesterVpcInfo: { ownerId: '111122223333', vpcId: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.0.0/16' },
              accepterVpcInfo: { ownerId: '999988887777', vpcId: 'vpc-0badc0ffee0000001' },
              status: { code: 'initiating-request', message: 'Initiating Request to 999988887777' },
            },
          },
        ),
        expect: { severity: 'high', title: 'with external account 999988887777', dedupKey: 'arn:aws:iam::111122223333:user/alice|pcx-0f1e2d3c4b5a69788' },
      },
      {
        name: 'accepting a peering from an external requester is high',
        record: ec2Call(
          'AcceptVpcPeeringConnection',
          { vpcPeeringConnectionId: 'pcx-0f1e2d3c4b5a69788' },
          {
            vpcPeeringConnection: {
              vpcPeeringConnectionId: 'pcx-0f1e2d3c4b5a69788',
              requesterVpcInfo: { ownerId: '999988887777', vpcId: 'vpc-0badc0ffee0000001', cidrBlock: '172.31.0.0/16' },
              accepterVpcInfo: { ownerId: '111122223333', vpcId: 'vpc-0a1b2c3d4e5f60718', cidrBlock: '10.0.0.0/16' },
              status: { code: 'provisioning', message: 'Provisioning' },
            },
          },
        ),
        expect: { severity: 'high' },
      },
      {
        name: 'a peering with a known account is medium',
        config: { rules: { 'vpc-peering-change': { options: { knownAccounts: ['444455556666'] } } } },
        record: ec2Call('CreateVpcPeeringConnection', { vpcId: 'vpc-0a1b2c3d4e5f60718', peerVpcId: 'vpc-0c0ffee000000001', peerOwnerId: '444455556666' }),
        expect: { severity: 'medium', title: 'with known account 444455556666' },
      },
      {
        name: 'a peering deleted is low',
        record: ec2Call('DeleteVpcPeeringConnection', { vpcPeeringConnectionId: 'pcx-0f1e2d3c4b5a69788' }),
        expect: { severity: 'low' },
      },
      {
        name: 'a denied request within the own account',
        record: ec2Call('CreateVpcPeeringConnection', { vpcId: 'vpc-0a1b2c3d4e5f60718', peerVpcId: 'vpc-0f0f0f0f0f0f0f0f0' }, null, deniedEc2('CreateVpcPeeringConnection')),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing peerings',
        record: ec2Call('DescribeVpcPeeringConnections', { vpcPeeringConnectionId: {}, filterSet: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation, allow-listed',
        config: { rules: { 'vpc-peering-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateVpcPeeringConnection', { vpcId: 'vpc-0a1b2c3d4e5f60718', peerVpcId: 'vpc-0c0ffee000000001' }, null, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
    ],
  },
});
