import { describe, expect, it } from 'vitest';
import { distinctPrefixes, listRegions, listServices, queryEntries } from '../../shared/ip-ranges/queries';
import { SNAPSHOTS, snapshot } from './helpers';

// Expected values: ../shared/data/ip-ranges/README.md ("Files" table and "Expected values for the CLI").
const table = [
  { date: SNAPSHOTS.v2017, syncToken: '1512067332', bytes: 142831, md5: 'e0a38abfb954152e33ccdd4a19fea03e', v4: 963, v6: 360, c4: 611, c6: 225, regions: 20, services: 7 },
  { date: SNAPSHOTS.v2022, syncToken: '1651086206', bytes: 1221637, md5: '40741c8787f418fa91d0f20d9f25b735', v4: 6615, v6: 1350, c4: 5356, c6: 790, regions: 33, services: 22 },
  { date: SNAPSHOTS.jan19, syncToken: '1769714285', bytes: 2278887, md5: 'c696bc99296daa815f92a29506370f82', v4: 9804, v6: 4951, c4: 7361, c6: 2524, regions: 42, services: 26 },
  { date: SNAPSHOTS.jan21, syncToken: '1769720885', bytes: 2279465, md5: 'bf32db05feb51d4dc8db014759d46ce9', v4: 9805, v6: 4954, c4: 7361, c6: 2525, regions: 42, services: 26 },
  { date: SNAPSHOTS.aug22, syncToken: '1787411825', bytes: 2600669, md5: '63431d35877fa5386ded1a7df9cfa971', v4: 10668, v6: 6160, c4: 7905, c6: 3108, regions: 43, services: 28 },
];

describe.each(table)('real snapshot $date', (row) => {
  const loaded = snapshot(row.date);
  const r = loaded.ranges;

  it('parses with the schema, byte-exact md5, syncToken and createDate', () => {
    expect(loaded.bytes.length).toBe(row.bytes);
    expect(loaded.md5).toBe(row.md5);
    expect(r.syncToken).toBe(row.syncToken);
    expect(r.createDate).toBe(row.date);
    // syncToken is createDate as UTC epoch seconds
    const [y, mo, d, h, mi, s] = row.date.split('-').map(Number) as number[];
    expect(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) / 1000).toBe(Number(row.syncToken));
  });

  it('has the entry, CIDR, region (incl. GLOBAL) and service counts', () => {
    expect(r.prefixes.length).toBe(row.v4);
    expect(r.ipv6_prefixes.length).toBe(row.v6);
    expect(distinctPrefixes(queryEntries(r, { family: 'ipv4' })).length).toBe(row.c4);
    expect(distinctPrefixes(queryEntries(r, { family: 'ipv6' })).length).toBe(row.c6);
    expect(listRegions(r, 'all')).toHaveLength(row.regions);
    expect(listServices(r, 'all')).toHaveLength(row.services);
  });
});

describe('queries on 2026-08-22 (the README CLI values)', () => {
  const r = snapshot(SNAPSHOTS.aug22).ranges;

  it('lists 43 regions, GLOBAL first, identical in both families', () => {
    const regions = listRegions(r);
    expect(regions.join(' ')).toBe(
      'GLOBAL af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2 ' +
        'ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ' +
        'ca-central-1 ca-west-1 cn-north-1 cn-northwest-1 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 ' +
        'eu-west-1 eu-west-2 eu-west-3 eusc-de-east-1 il-central-1 me-central-1 me-south-1 me-west-1 mx-central-1 ' +
        'sa-east-1 sa-west-1 us-east-1 us-east-2 us-gov-east-1 us-gov-west-1 us-south-1 us-west-1 us-west-2',
    );
    expect(listRegions(r, 'ipv6')).toEqual(regions);
  });

  it('lists 27 services in prefixes and 28 across both arrays (IOT_CORE is IPv6-only)', () => {
    expect(listServices(r).join(' ')).toBe(
      'AMAZON AMAZON_APPFLOW AMAZON_CONNECT API_GATEWAY AURORA_DSQL CHIME_MEETINGS CHIME_VOICECONNECTOR CLOUD9 ' +
        'CLOUDFRONT CLOUDFRONT_ORIGIN_FACING CODEBUILD DYNAMODB EBS EC2 EC2_INSTANCE_CONNECT EFS GLOBALACCELERATOR ' +
        'IVS_LOW_LATENCY IVS_REALTIME KINESIS_VIDEO_STREAMS MEDIA_PACKAGE_V2 ROUTE53 ROUTE53_HEALTHCHECKS ' +
        'ROUTE53_HEALTHCHECKS_PUBLISHING ROUTE53_RESOLVER S3 WORKSPACES_GATEWAYS',
    );
    const all = listServices(r, 'all');
    expect(all).toHaveLength(28);
    expect(all.filter((s) => !listServices(r).includes(s))).toEqual(['IOT_CORE']);
  });

  it('answers ROUTE53_HEALTHCHECKS in us-east-1 plus GLOBAL, in file order, case-insensitively', () => {
    const q = (family: 'ipv4' | 'ipv6') =>
      queryEntries(r, { service: 'route53_healthchecks', region: 'US-EAST-1', family }).map((e) => e.prefix);
    expect(q('ipv4')).toEqual(['15.177.0.0/18', '107.23.255.0/26', '54.243.31.192/26']);
    expect(q('ipv6')).toEqual(['2600:1f18:3fff:f800::/56', '2600:1f18:7fff:f800::/56']);
    for (const date of [SNAPSHOTS.jan19, SNAPSHOTS.jan21]) {
      const other = snapshot(date).ranges;
      expect(queryEntries(other, { service: 'ROUTE53_HEALTHCHECKS', region: 'us-east-1' }).map((e) => e.prefix)).toEqual(q('ipv4'));
    }
  });

  const counts = (date: string, service: string, region: string) => {
    const rr = snapshot(date).ranges;
    const n = (family: 'ipv4' | 'ipv6', includeGlobal: boolean) => queryEntries(rr, { service, region, family, includeGlobal }).length;
    return `${n('ipv4', true)} (${n('ipv4', false)}) / ${n('ipv6', true)} (${n('ipv6', false)})`;
  };

  it('counts service-in-region plus GLOBAL (region-only in parentheses) as the README table', () => {
    expect(counts(SNAPSHOTS.aug22, 'EC2', 'eu-west-1')).toBe('109 (88) / 82 (73)');
    expect(counts(SNAPSHOTS.aug22, 'S3', 'us-east-1')).toBe('41 (21) / 25 (19)');
    expect(counts(SNAPSHOTS.aug22, 'CLOUDFRONT', 'eu-west-1')).toBe('120 (2) / 32 (0)');
    for (const date of [SNAPSHOTS.jan19, SNAPSHOTS.jan21]) {
      expect(counts(date, 'EC2', 'eu-west-1')).toBe('99 (77) / 62 (55)');
      expect(counts(date, 'S3', 'us-east-1')).toBe('36 (16) / 23 (17)');
    }
    expect(counts(SNAPSHOTS.jan19, 'CLOUDFRONT', 'eu-west-1')).toBe('108 (2) / 27 (0)');
    expect(counts(SNAPSHOTS.jan21, 'CLOUDFRONT', 'eu-west-1')).toBe('108 (2) / 28 (0)');
    const global = (date: string) => {
      const rr = snapshot(date).ranges;
      return `${queryEntries(rr, { service: 'AMAZON', region: 'GLOBAL' }).length} / ${queryEntries(rr, { service: 'AMAZON', region: 'GLOBAL', family: 'ipv6' }).length}`;
    };
    expect(global(SNAPSHOTS.jan19)).toBe('196 / 68');
    expect(global(SNAPSHOTS.jan21)).toBe('197 / 69');
    expect(global(SNAPSHOTS.aug22)).toBe('216 / 76');
  });

  it('filters by network border group and returns both families with "all"', () => {
    const ist = queryEntries(r, { networkBorderGroup: 'EU-CENTRAL-1-IST-1', family: 'all' });
    expect(ist.length).toBeGreaterThan(0);
    expect(ist.every((e) => e.networkBorderGroup === 'eu-central-1-ist-1')).toBe(true);
    expect(ist.some((e) => e.family === 'ipv4') && ist.some((e) => e.family === 'ipv6')).toBe(true);
    expect(ist.map((e) => e.prefix)).toContain('83.119.128.0/18');
  });

  it('the 2017 file has 20 regions and no border groups', () => {
    const old = snapshot(SNAPSHOTS.v2017).ranges;
    expect(old.prefixes.every((p) => p.network_border_group === undefined)).toBe(true);
    expect(listRegions(old, 'all')).toContain('GLOBAL');
  });
});
