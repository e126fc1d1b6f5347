import { describe, expect, it } from 'vitest';
import { diffIpRanges, formatDiffText } from '../../shared/ip-ranges/diff';
import { watchMatcher } from '../../shared/ip-ranges/queries';
import { SNAPSHOTS, snapshot } from './helpers';

// Expected values: ../shared/data/ip-ranges/README.md, "How the differences were computed".
const diff = (a: string, b: string) => diffIpRanges(snapshot(a).ranges, snapshot(b).ranges);
const line = (e: { family: string; prefix: string; region: string; service: string; networkBorderGroup?: string }) =>
  `${e.family} ${e.prefix} ${e.region} ${e.service} ${e.networkBorderGroup ?? ''}`;

describe('pair 1: consecutive versions 2026-01-29 19:18 → 21:08', () => {
  const d = diff(SNAPSHOTS.jan19, SNAPSHOTS.jan21);

  it('has exactly the README counts', () => {
    expect(d.counts).toEqual({ v4_added: 3, v4_removed: 2, v6_added: 3, v6_removed: 0, v4_cidrs_added: 1, v4_cidrs_removed: 1, v6_cidrs_added: 1, v6_cidrs_removed: 0 });
    expect(Object.keys(d.counts)).toEqual(['v4_added', 'v4_removed', 'v6_added', 'v6_removed', 'v4_cidrs_added', 'v4_cidrs_removed', 'v6_cidrs_added', 'v6_cidrs_removed']);
  });

  it('lists the complete, hand-checked change', () => {
    expect(d.added.map(line).sort()).toEqual(
      [
        'ipv4 1.178.31.0/24 ap-east-2 S3 ap-east-2',
        'ipv4 24.110.0.0/21 GLOBAL AMAZON GLOBAL',
        'ipv4 24.110.0.0/21 GLOBAL GLOBALACCELERATOR GLOBAL',
        'ipv6 2600:f0f0:5504::/46 GLOBAL AMAZON GLOBAL',
        'ipv6 2600:f0f0:5504::/46 GLOBAL CLOUDFRONT GLOBAL',
        'ipv6 2600:f0f2:7025::/48 ap-east-2 S3 ap-east-2',
      ].sort(),
    );
    expect(d.removed.map(line).sort()).toEqual([
      'ipv4 46.168.0.0/15 ap-southeast-6 AMAZON ap-southeast-6',
      'ipv4 46.168.0.0/15 ap-southeast-6 EC2 ap-southeast-6',
    ]);
    expect(d.cidrs).toEqual({
      ipv4: { added: ['24.110.0.0/21'], removed: ['46.168.0.0/15'] },
      ipv6: { added: ['2600:f0f0:5504::/46'], removed: [] },
    });
    expect(d.moved).toEqual([]);
  });

  it('breaks the change down by service and by region', () => {
    expect(d.byService.ipv4).toEqual({ added: { AMAZON: 1, GLOBALACCELERATOR: 1, S3: 1 }, removed: { AMAZON: 1, EC2: 1 } });
    expect(d.byService.ipv6).toEqual({ added: { AMAZON: 1, CLOUDFRONT: 1, S3: 1 }, removed: {} });
    expect(d.byRegion.ipv4).toEqual({ added: { GLOBAL: 2, 'ap-east-2': 1 }, removed: { 'ap-southeast-6': 2 } });
    expect(d.byRegion.ipv6).toEqual({ added: { GLOBAL: 2, 'ap-east-2': 1 }, removed: {} });
  });

  it('formats a readable summary', () => {
    const text = formatDiffText(d);
    expect(text).toContain('IPv4: +3 −2 entries, +1 −1 CIDRs');
    expect(text).toContain('IPv6: +3 −0 entries, +1 −0 CIDRs');
    expect(text).toContain('+ 24.110.0.0/21 GLOBALACCELERATOR GLOBAL\n');
    expect(text).toContain('- 46.168.0.0/15 EC2 ap-southeast-6');
  });
});

describe('pair 2: about 7 months apart, 2026-01-29 21:08 → 2026-08-22', () => {
  const d = diff(SNAPSHOTS.jan21, SNAPSHOTS.aug22);

  it('has exactly the README counts', () => {
    expect(d.counts).toEqual({ v4_added: 1051, v4_removed: 188, v6_added: 1358, v6_removed: 152, v4_cidrs_added: 643, v4_cidrs_removed: 99, v6_cidrs_added: 647, v6_cidrs_removed: 64 });
  });

  it('breaks entries down by service', () => {
    expect(d.byService.ipv4.added).toEqual({ AMAZON: 519, EC2: 302, EFS: 93, S3: 53, GLOBALACCELERATOR: 22, CLOUDFRONT: 12, MEDIA_PACKAGE_V2: 10, IVS_REALTIME: 7, AURORA_DSQL: 6, EBS: 6, API_GATEWAY: 5, DYNAMODB: 3, ROUTE53: 3, WORKSPACES_GATEWAYS: 3, KINESIS_VIDEO_STREAMS: 2, CHIME_VOICECONNECTOR: 1, CLOUDFRONT_ORIGIN_FACING: 1, CODEBUILD: 1, EC2_INSTANCE_CONNECT: 1, ROUTE53_HEALTHCHECKS: 1 });
    expect(d.byService.ipv4.removed).toEqual({ AMAZON: 97, EC2: 84, CLOUD9: 6, GLOBALACCELERATOR: 1 });
    expect(d.byService.ipv6.added).toEqual({ AMAZON: 565, EC2: 496, S3: 127, EFS: 89, IOT_CORE: 41, IVS_REALTIME: 12, ROUTE53: 8, AURORA_DSQL: 6, GLOBALACCELERATOR: 5, CLOUDFRONT: 4, WORKSPACES_GATEWAYS: 3, CLOUDFRONT_ORIGIN_FACING: 1, EC2_INSTANCE_CONNECT: 1 });
    expect(d.byService.ipv6.removed).toEqual({ AMAZON: 82, EC2: 66, ROUTE53: 4 });
  });

  it('breaks entries down by region', () => {
    const parse = (s: string) => Object.fromEntries(s.split(', ').map((x) => { const [k, v] = x.split(' '); return [k, Number(v)]; }));
    expect(d.byRegion.ipv4.added).toEqual(parse('us-east-1 127, us-west-2 62, us-south-1 52, GLOBAL 47, us-east-2 46, eu-central-1 42, eu-west-1 42, ap-southeast-1 40, eu-west-2 39, eu-west-3 35, ap-northeast-2 33, ap-southeast-2 32, ap-northeast-1 29, ap-east-1 27, eu-south-1 27, ap-south-1 24, eu-south-2 23, us-west-1 22, ca-central-1 20, sa-east-1 20, eu-north-1 19, me-south-1 18, ap-southeast-4 16, ap-southeast-3 15, ca-west-1 15, il-central-1 15, af-south-1 14, ap-south-2 14, ap-southeast-6 13, eu-central-2 13, ap-east-2 12, ap-southeast-5 12, ap-southeast-7 12, mx-central-1 12, ap-northeast-3 11, sa-west-1 11, cn-north-1 8, eusc-de-east-1 8, us-gov-west-1 7, cn-northwest-1 6, us-gov-east-1 6, me-west-1 5'));
    expect(d.byRegion.ipv4.removed).toEqual(parse('us-west-2 51, eu-central-1 18, us-east-1 16, us-east-2 16, eu-west-3 9, eu-west-2 8, GLOBAL 8, ap-southeast-2 6, eu-west-1 6, ap-southeast-1 4, ca-central-1 4, ca-west-1 4, cn-north-1 4, eu-south-1 4, me-central-1 4, us-west-1 4, me-south-1 3, af-south-1 2, ap-northeast-1 2, ap-south-1 2, cn-northwest-1 2, eu-central-2 2, eu-south-2 2, sa-east-1 2, us-gov-east-1 2, us-gov-west-1 2, ap-southeast-3 1'));
    expect(d.byRegion.ipv6.added).toEqual(parse('us-east-1 118, us-east-2 110, us-west-2 106, eu-central-1 83, us-south-1 71, ap-southeast-1 53, eu-west-1 52, ap-southeast-2 50, us-west-1 38, eu-west-2 35, ap-northeast-1 31, sa-east-1 30, eu-north-1 28, eu-south-2 27, ca-central-1 26, ap-south-1 24, eu-west-3 24, us-gov-west-1 23, ap-northeast-2 22, GLOBAL 22, ap-southeast-4 21, ap-southeast-6 21, ca-west-1 21, eu-south-1 21, ap-northeast-3 20, us-gov-east-1 20, ap-east-1 18, ap-east-2 18, ap-south-2 18, ap-southeast-3 18, af-south-1 17, eu-central-2 17, ap-southeast-5 16, ap-southeast-7 16, il-central-1 16, mx-central-1 16, me-south-1 15, me-west-1 15, sa-west-1 15, eusc-de-east-1 14, cn-north-1 11, me-central-1 11, cn-northwest-1 10'));
    expect(d.byRegion.ipv6.removed).toEqual(parse('us-west-2 53, us-east-1 21, eu-central-1 18, ap-southeast-1 10, GLOBAL 8, ap-south-1 4, eu-west-1 4, eu-west-2 4, af-south-1 2, ap-northeast-1 2, ap-south-2 2, ap-southeast-2 2, ca-central-1 2, ca-west-1 2, eu-central-2 2, eu-south-1 2, eu-south-2 2, eu-west-3 2, me-west-1 2, sa-east-1 2, sa-west-1 2, us-east-2 2, us-west-1 2'));
  });

  it('finds the 8 IPv4 moves (border group only) and the 36 IPv6 moves (12 change region)', () => {
    const v4 = d.moved.filter((m) => m.family === 'ipv4');
    expect(v4).toHaveLength(8);
    expect(v4.every((m) => m.from.region === m.to.region && ['AMAZON', 'EC2'].includes(m.service))).toBe(true);
    expect(new Set(v4.map((m) => `${m.prefix} ${m.from.networkBorderGroup}→${m.to.networkBorderGroup}`))).toEqual(
      new Set([
        '83.119.128.0/18 eu-central-1→eu-central-1-ist-1',
        '75.45.128.0/18 eu-central-1→eu-central-1-ath-1',
        '45.57.128.0/18 ap-southeast-1→ap-southeast-1-han-1',
        '136.18.140.0/23 ap-southeast-1→ap-southeast-1-sggov-sin-2',
      ]),
    );
    const v6 = d.moved.filter((m) => m.family === 'ipv6');
    expect(v6).toHaveLength(36);
    const regionMoves = v6.filter((m) => m.from.region !== m.to.region);
    expect(regionMoves).toHaveLength(12);
    expect(new Set(regionMoves.map((m) => `${m.prefix} ${m.service} ${m.from.region}→${m.to.region}`))).toEqual(
      new Set([
        ...['2600:f0f2:7000::/44', '2600:f0f0:400::/44'].flatMap((p) => ['AMAZON', 'ROUTE53'].map((s) => `${p} ${s} GLOBAL→us-gov-east-1`)),
        ...['2600:f0fb:f000::/44', '2600:f0f3:f000::/44'].flatMap((p) => ['AMAZON', 'ROUTE53'].map((s) => `${p} ${s} GLOBAL→us-gov-west-1`)),
        ...['2600:1f10:8000::/36', '2600:1f20:8000::/36'].flatMap((p) => ['AMAZON', 'EC2'].map((s) => `${p} ${s} us-east-1→us-south-1`)),
      ]),
    );
    const bos = regionMoves.find((m) => m.prefix === '2600:1f10:8000::/36');
    expect(bos?.from.networkBorderGroup).toBe('us-east-1-wl1-bos-wlz-1');
    expect(bos?.to.networkBorderGroup).toBe('us-south-1');
  });

  const watched = (service: string, region: string) => {
    const w = diffIpRanges(snapshot(SNAPSHOTS.jan21).ranges, snapshot(SNAPSHOTS.aug22).ranges, watchMatcher([{ service, region }]));
    return `+${w.counts.v4_added} / −${w.counts.v4_removed} | +${w.counts.v6_added} / −${w.counts.v6_removed}`;
  };

  it('matches the watched service/region examples (exact region, "*" = all)', () => {
    expect(watched('CLOUDFRONT', '*')).toBe('+12 / −0 | +4 / −0');
    expect(watched('S3', 'us-east-1')).toBe('+5 / −0 | +2 / −0');
    expect(watched('EC2', 'eu-west-1')).toBe('+13 / −2 | +19 / −1');
    expect(watched('ROUTE53_HEALTHCHECKS', '*')).toBe('+1 / −0 | +0 / −0');
    expect(watched('GLOBALACCELERATOR', '*')).toBe('+22 / −1 | +5 / −0');
    expect(watched('AMAZON', 'GLOBAL')).toBe('+23 / −4 | +11 / −4');
    expect(watched('EC2', 'us-south-1')).toBe('+9 / −0 | +28 / −0');
    expect(watched('CLOUD9', '*')).toBe('+0 / −6 | +0 / −0');
    expect(watched('cloudfront', '*')).toBe(watched('CLOUDFRONT', '*'));
  });

  it('lists the 12 CLOUDFRONT IPv4 additions, all GLOBAL', () => {
    const w = diffIpRanges(snapshot(SNAPSHOTS.jan21).ranges, snapshot(SNAPSHOTS.aug22).ranges, watchMatcher([{ service: 'CLOUDFRONT', region: '*' }]));
    const v4 = w.added.filter((e) => e.family === 'ipv4');
    expect(v4.every((e) => e.region === 'GLOBAL' && e.networkBorderGroup === 'GLOBAL')).toBe(true);
    expect(new Set(v4.map((e) => e.prefix))).toEqual(
      new Set(['23.228.212.0/24', '23.228.213.0/24', '23.228.214.0/24', '23.228.244.0/24', '23.228.246.0/24', '23.228.247.0/24', '23.228.248.0/24', '23.228.249.0/24', '23.228.250.0/24', '23.228.251.0/24', '24.110.128.0/17', '51.74.192.0/18']),
    );
    // numeric address order
    expect(v4.map((e) => e.prefix).slice(0, 3)).toEqual(['23.228.212.0/24', '23.228.213.0/24', '23.228.214.0/24']);
  });
});

describe('both pairs chained, 2026-01-29 19:18 → 2026-08-22', () => {
  it('has exactly the README counts', () => {
    expect(diff(SNAPSHOTS.jan19, SNAPSHOTS.aug22).counts).toEqual({ v4_added: 1054, v4_removed: 190, v6_added: 1361, v6_removed: 152, v4_cidrs_added: 643, v4_cidrs_removed: 99, v6_cidrs_added: 648, v6_cidrs_removed: 64 });
  });

  it('is empty for a file against itself', () => {
    const d = diff(SNAPSHOTS.aug22, SNAPSHOTS.aug22);
    expect(Object.values(d.counts).every((n) => n === 0)).toBe(true);
    expect(formatDiffText(d)).toContain('No entry changed.');
  });
});
