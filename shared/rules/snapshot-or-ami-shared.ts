import { z } from 'zod';
import type { CloudTrailRecord } from '../cloudtrail/record';
import type { RuleContext } from './engine/context';
import { exampleRecord, identities } from './engine/example-record';
import { defineRule } from './engine/types';
import { accountRelation, knownAccountsOption } from './lib/accounts';
import { allowAwsServicesOption, notAllowedAwsCaller, viaService } from './lib/aws-callers';
import { ec2Call } from './lib/ec2-example';
import { actorKey, adjust, asArray, at, attempt, ec2Items, param } from './lib/record';

const Options = z.strictObject({
  allowAwsServices: allowAwsServicesOption([]),
  knownAccounts: knownAccountsOption(),
});
type Options = z.infer<typeof Options>;

interface Share {
  resource: string;
  kind: 'EBS snapshot' | 'AMI' | 'RDS snapshot' | 'RDS cluster snapshot';
  /** Who was added: account ids, "all" (public), organization/OU ARNs. */
  added: string[];
}

/** What a Modify*Attribute call adds to the resource's permissions; removals alone are not shares. */
export function shareOf(record: CloudTrailRecord): Share | undefined {
  const p = record.requestParameters ?? {};
  const ec2Added = (perm: unknown): string[] =>
    ec2Items(at(perm, 'add')).flatMap((i) => [i.userId, i.group, i.organizationArn, i.organizationalUnitArn].filter((v): v is string => typeof v === 'string'));
  switch (record.eventName) {
    case 'ModifySnapshotAttribute':
      return { resource: param(record, 'snapshotId') ?? 'unknown snapshot', kind: 'EBS snapshot', added: ec2Added(p.createVolumePermission) };
    case 'ModifyImageAttribute':
      return { resource: param(record, 'imageId') ?? 'unknown image', kind: 'AMI', added: ec2Added(p.launchPermission) };
    case 'ModifyDBSnapshotAttribute':
    case 'ModifyDBClusterSnapshotAttribute': {
      if (p.attributeName !== 'restore') return undefined;
      const cluster = record.eventName === 'ModifyDBClusterSnapshotAttribute';
      return {
        resource: param(record, cluster ? 'dBClusterSnapshotIdentifier' : 'dBSnapshotIdentifier') ?? 'unknown snapshot',
        kind: cluster ? 'RDS cluster snapshot' : 'RDS snapshot',
        added: asArray(p.valuesToAdd).filter((v): v is string => typeof v === 'string'),
      };
    }
    default:
      return undefined;
  }
}

type Exposure = 'public' | 'external' | 'known';

function exposureOf(share: Share, ctx: RuleContext<Options>): { exposure: Exposure; external: string[] } {
  if (share.added.some((a) => a === 'all')) return { exposure: 'public', external: [] };
  const external = share.added.filter((a) => /^\d{12}$/.test(a) && accountRelation(a, ctx, ctx.options.knownAccounts) === 'external');
  return { exposure: external.length > 0 ? 'external' : 'known', external };
}

export default defineRule({
  id: 'snapshot-or-ami-shared',
  title: 'Snapshot or AMI shared with another account or made public',
  description:
    'An EBS snapshot, an AMI or an RDS (cluster) snapshot shared with another account — or with everyone — lets ' +
    'that account copy the data: a one-call exfiltration (Stratus ec2-share-ebs-snapshot, ec2-share-ami, ' +
    'rds-share-snapshot). Public is critical; an account outside your own and the configured `knownAccounts` is ' +
    'high; sharing only with known accounts or your organization/OUs is low. Removing permissions is not reported.',
  severity: 'high',
  categories: ['snapshot-or-ami-shared'],
  references: [
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-share-ebs-snapshot/',
    'https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.rds-share-snapshot/',
    'https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_ami_modified_for_public_access.yml',
    'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-explicit.html',
  ],
  falsePositives: ['Golden AMIs or backups shared with the organization’s other accounts (list them in knownAccounts).'],
  runbook:
    '1. Remove the permission at once if unplanned (`aws ec2 modify-snapshot-attribute --operation-type remove`, ' +
    '`modify-image-attribute`, `aws rds modify-db-snapshot-attribute --values-to-remove`). ' +
    '2. Assume the data was copied: find what the snapshot holds and treat secrets in it as exposed.',
  events: [
    { source: 'ec2.amazonaws.com', names: ['ModifySnapshotAttribute', 'ModifyImageAttribute'] },
    { source: 'rds.amazonaws.com', names: ['ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'] },
  ],
  options: Options,

  match(record, ctx) {
    const share = shareOf(record);
    return share !== undefined && share.added.length > 0 && notAllowedAwsCaller(record, ctx.options.allowAwsServices);
  },

  severityFor(record, ctx, base) {
    const share = shareOf(record)!;
    const { exposure } = exposureOf(share, ctx);
    return adjust(ctx, base, exposure === 'public' ? 1 : exposure === 'external' ? 0 : -2, { root: 0 });
  },

  alertTitle(record, ctx) {
    const share = shareOf(record)!;
    const { exposure, external } = exposureOf(share, ctx);
    const withWhom = exposure === 'public' ? 'made public' : exposure === 'external' ? `shared with external account ${external.join(', ')}` : `shared with ${share.added.join(', ')}`;
    return attempt(ctx, `${share.kind} ${share.resource} ${withWhom} by ${ctx.actor.display}${viaService(record)}`);
  },

  // Per caller and resource.
  dedupKey(record, ctx) {
    return `${actorKey(ctx)}|${shareOf(record)?.resource ?? 'unknown'}`;
  },

  alertContext(record, ctx) {
    const share = shareOf(record)!;
    const { exposure, external } = exposureOf(share, ctx);
    return { resource: share.resource, resourceType: share.kind, addedPrincipals: share.added, exposure, externalAccounts: external };
  },

  examples: {
    match: [
      {
        name: 'an EBS snapshot shared with an external account (Stratus ec2-share-ebs-snapshot)',
        record: ec2Call('ModifySnapshotAttribute', {
          snapshotId: 'snap-041993b54a9b3af6f',
          attributeType: 'CREATE_VOLUME_PERMISSION',
          createVolumePermission: { add: { items: [{ userId: '098797384747' }] } },
        }),
        expect: { severity: 'high', title: 'EBS snapshot snap-041993b54a9b3af6f shared with external account 098797384747', dedupKey: 'arn:aws:iam::111122223333:user/alice|snap-041993b54a9b3af6f' },
      },
      {
        name: 'an AMI made public is critical',
        record: ec2Call('ModifyImageAttribute', { imageId: 'ami-0abcdef1234567890', attributeType: 'launchPermission', launchPermission: { add: { items: [{ group: 'all' }] } } }),
        expect: { severity: 'critical', title: 'made public' },
      },
      {
        name: 'an RDS snapshot shared for restore (Stratus rds-share-snapshot)',
        record: exampleRecord({
          eventSource: 'rds.amazonaws.com',
          eventName: 'ModifyDBSnapshotAttribute',
          requestParameters: { dBSnapshotIdentifier: 'exfiltration', attributeName: 'restore', valuesToAdd: ['503161813013'] },
          responseElements: { dBSnapshotIdentifier: 'exfiltration', dBSnapshotAttributes: [{ attributeName: 'restore', attributeValues: ['503161813013'] }] },
        }),
        expect: { severity: 'high' },
      },
      {
        name: 'an AMI shared with the organization is low',
        record: ec2Call('ModifyImageAttribute', {
          imageId: 'ami-0abcdef1234567890',
          launchPermission: { add: { items: [{ organizationArn: 'arn:aws:organizations::111122223333:organization/o-exampleorgid' }] } },
        }),
        expect: { severity: 'low' },
      },
      {
        name: 'a denied public share is one level lower',
        record: ec2Call('ModifySnapshotAttribute', { snapshotId: 'snap-041993b54a9b3af6f', createVolumePermission: { add: { items: [{ group: 'all' }] } } }, null, {
          errorCode: 'Client.UnauthorizedOperation',
          errorMessage: 'You are not authorized to perform this operation.',
        }),
        expect: { severity: 'high', title: 'Attempt failed' },
      },
    ],
    noMatch: [
      {
        name: 'removing an account from a snapshot',
        record: ec2Call('ModifySnapshotAttribute', { snapshotId: 'snap-041993b54a9b3af6f', createVolumePermission: { remove: { items: [{ userId: '098797384747' }] } } }),
      },
      {
        name: 'changing an AMI description',
        record: ec2Call('ModifyImageAttribute', { imageId: 'ami-0abcdef1234567890', description: { value: 'golden image 2025-03' } }),
      },
      {
        name: 'AWS Backup copying to the vault account, allow-listed',
        config: { rules: { 'snapshot-or-ami-shared': { options: { allowAwsServices: ['backup.amazonaws.com'] } } } },
        record: ec2Call('ModifySnapshotAttribute', { snapshotId: 'snap-0f1e2d3c4b5a69788', createVolumePermission: { add: { items: [{ userId: '444455556666' }] } } }, { _return: true }, {
          sourceIPAddress: 'backup.amazonaws.com',
          userIdentity: identities.assumedRole('AWSBackupDefaultServiceRole', 'AWSBackup-AWSBackupDefaultServiceRole', { invokedBy: 'backup.amazonaws.com' }),
        }),
      },
    ],
  },
});
