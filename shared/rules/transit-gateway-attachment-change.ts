import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { accountRelation, knownAccountsOption } from './lib/accounts';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { deepString, deepStrings } from './lib/deep';
import { deniedEc2, ec2Call } from './lib/ec2-example';
import { actorKey, adjust, attempt } from './lib/record';

const EC2 = 'ec2.amazonaws.com';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  knownAccounts: knownAccountsOption(),
});
type Options = z.infer<typeof Options>;

const KINDS = ['Vpc', 'Peering', 'Connect'] as const;
const EVENTS = KINDS.flatMap((k) => [
  `CreateTransitGateway${k}Attachment`,
  `AcceptTransitGateway${k}Attachment`,
  `RejectTransitGateway${k}Attachment`,
  `DeleteTransitGateway${k}Attachment`,
]).filter((n) => !/^(Accept|Reject)TransitGatewayConnect/.test(n));
EVENTS.push('ModifyTransitGatewayVpcAttachment', 'CreateTransitGatewayConnect', 'DeleteTransitGatewayConnect');

// Newer EC2 APIs record `{"<Op>Request": {"TransitGatewayAttachmentId": …}}` and a response with camelCase keys;
// the owner ids are looked up by key name wherever they are.
const OWNER_KEYS = ['PeerAccountId', 'vpcOwnerId', 'transitGatewayOwnerId', 'resourceOwnerId', 'peerAccountId', 'ownerId'];

const attachmentOf = (record: CloudTrailRecord): string =>
  deepString(record.requestParameters, 'TransitGatewayAttachmentId') ??
  deepString(record.responseElements, 'transitGatewayAttachmentId') ??
  deepString(record.requestParameters, 'TransitGatewayId') ??
  'unknown attachment';

/** Accounts named in the call that are neither this one nor known. */
function externalAccounts(record: CloudTrailRecord, ctx: RuleContext<Options>): string[] {
  const ids = deepStrings([record.requestParameters, record.responseElements], OWNER_KEYS).filter((v) => /^\d{12}$/.test(v));
  return [...new Set(ids)].filter((a) => accountRelation(a, ctx, ctx.options.knownAccounts) === 'external');
}

const ESTABLISHES = /^(Create|Accept|Modify)/;

export default defineRule({
  id: 'transit-gateway-attachment-change',
  title: 'Transit gateway attachment changed',
  description:
    'A transit gateway attachment connects a VPC, a peer transit gateway (possibly in another account or region) or ' +
    'an SD-WAN Connect peer to the hub that routes between all of them. Creating, accepting or modifying an ' +
    'attachment is medium; when an account outside your own and the configured `knownAccounts` is involved ' +
    '(a peering to its transit gateway, a VPC it owns accepted here) it is high. Rejections and deletions are low.',
  severity: 'medium',
  categories: ['network-vpn-dx-peering'],
  references: [
    'https://docs.aws.amazon.com/vpc/latest/tgw/tgw-vpc-attachments.html',
    'https://docs.aws.amazon.com/vpc/latest/tgw/tgw-peering.html',
    'https://docs.aws.amazon.com/vpc/latest/tgw/transit-gateway-share.html',
  ],
  falsePositives: ['Network hub accounts accepting attachments from workload accounts of the organization (add them to knownAccounts).'],
  runbook:
    '1. Identify the attachment, the transit gateway and the other account (alert context). ' +
    '2. If unplanned: reject or delete the attachment and check the transit gateway route tables it was associated with.',
  events: [{ source: EC2, names: EVENTS }],
  options: Options,

  match(record, ctx) {
    return notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    if (!ESTABLISHES.test(record.eventName)) return adjust(ctx, base, -1);
    return adjust(ctx, base, externalAccounts(record, ctx).length > 0 ? 1 : 0);
  },

  alertTitle(record, ctx) {
    const ext = externalAccounts(record, ctx);
    return attempt(ctx, `${record.eventName} ${attachmentOf(record)} by ${ctx.actor.display}${viaService(record)}${ext.length > 0 ? ` — external account ${ext.join(', ')}` : ''}`);
  },

  // Per caller and attachment.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${attachmentOf(record)}`;
  },

  alertContext(record, ctx) {
    return {
      attachment: attachmentOf(record),
      ...(deepString(record.requestParameters, 'TransitGatewayId') ? { transitGatewayId: deepString(record.requestParameters, 'TransitGatewayId') } : {}),
      externalAccounts: externalAccounts(record, ctx),
    };
  },

  examples: {
    match: [
      {
        name: 'a peering attachment to an unknown account’s transit gateway is high',
        record: ec2Call(
          'CreateTransitGatewayPeeringAttachment',
          {
            CreateTransitGatewayPeeringAttachmentRequest: {
              TransitGatewayId: 'tgw-0a1b2c3d4e5f60718',
              PeerTransitGatewayId: 'tgw-0badc0ffee0000001',
              PeerAccountId: '999988887777',
              PeerRegion: 'us-east-1',
            },
          },
          {
            CreateTransitGatewayPeeringAttachmentResponse: {
              transitGatewayPeeringAttachment: {
                transitGatewayAttachmentId: 'tgw-attach-0f1e2d3c4b5a69788',
                requesterTgwInfo: { transitGatewayId: 'tgw-0a1b2c3d4e5f60718', ownerId: '111122223333', region: 'eu-central-1' },
                accepterTgwInfo: { transitGatewayId: 'tgw-0badc0ffee0000001', ownerId: '999988887777', region: 'us-east-1' },
                state: 'initiatingRequest',
              },
            },
          },
        ),
        expect: { severity: 'high', title: 'external account 999988887777', dedupKey: 'arn:aws:iam::111122223333:user/alice|tgw-attach-0f1e2d3c4b5a69788' },
      },
      {
        name: 'accepting a VPC attachment owned by an unknown account is high',
        record: ec2Call(
          'AcceptTransitGatewayVpcAttachment',
          { AcceptTransitGatewayVpcAttachmentRequest: { TransitGatewayAttachmentId: 'tgw-attach-0a0a0a0a0a0a0a0a0' } },
          {
            AcceptTransitGatewayVpcAttachmentResponse: {
              transitGatewayVpcAttachment: {
                transitGatewayAttachmentId: 'tgw-attach-0a0a0a0a0a0a0a0a0',
                transitGatewayId: 'tgw-0a1b2c3d4e5f60718',
                vpcId: 'vpc-0badc0ffee0000001',
                vpcOwnerId: '999988887777',
                state: 'pending',
              },
            },
          },
        ),
        expect: { severity: 'high' },
      },
      {
        name: 'a VPC attachment in the own account is medium',
        record: ec2Call('CreateTransitGatewayVpcAttachment', {
          CreateTransitGatewayVpcAttachmentRequest: { TransitGatewayId: 'tgw-0a1b2c3d4e5f60718', VpcId: 'vpc-0a1b2c3d4e5f60718', SubnetIds: { tag: 1, content: 'subnet-0a1b2c3d4e5f60718' } },
        }),
        expect: { severity: 'medium' },
      },
      {
        name: 'a denied acceptance',
        record: ec2Call(
          'AcceptTransitGatewayPeeringAttachment',
          { AcceptTransitGatewayPeeringAttachmentRequest: { TransitGatewayAttachmentId: 'tgw-attach-0f1e2d3c4b5a69788' } },
          null,
          deniedEc2('AcceptTransitGatewayPeeringAttachment'),
        ),
        expect: { severity: 'low', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'describing attachments',
        record: ec2Call('DescribeTransitGatewayAttachments', { DescribeTransitGatewayAttachmentsRequest: {} }, null, { readOnly: true }),
      },
      {
        name: 'CloudFormation, allow-listed',
        config: { rules: { 'transit-gateway-attachment-change': { options: { allowAwsServices: ['cloudformation.amazonaws.com'] } } } },
        record: ec2Call('CreateTransitGatewayVpcAttachment', { CreateTransitGatewayVpcAttachmentRequest: { TransitGatewayId: 'tgw-0a1b2c3d4e5f60718', VpcId: 'vpc-0a1b2c3d4e5f60718' } }, null, {
          sourceIPAddress: 'cloudformation.amazonaws.com',
          userIdentity: identities.assumedRole('cfn-exec', 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' }),
        }),
      },
      {
        name: 'a transit gateway route (route tables, not attachments)',
        record: ec2Call('CreateTransitGatewayRoute', { CreateTransitGatewayRouteRequest: { TransitGatewayRouteTableId: 'tgw-rtb-0a1b2c3d', DestinationCidrBlock: '10.0.0.0/8' } }),
      },
    ],
  },
});
