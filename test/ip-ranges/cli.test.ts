import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../shared/cli/io';
import { main } from '../../shared/cli/main';
import { fixedClock } from '../../shared/core/deps';
import { md5Hex } from '../../shared/ip-ranges/load';
import { type LocalHttp, startHttp } from '../support/http-server';
import { repoRoot } from '../support/shared-data';
import { SNAPSHOTS, snapshotBytes, snapshotPath } from './helpers';

const AUG = snapshotPath(SNAPSHOTS.aug22);
const JAN19 = snapshotPath(SNAPSHOTS.jan19);
const JAN21 = snapshotPath(SNAPSHOTS.jan21);
const AWS_ORIGIN = 'https://ip-ranges.amazonaws.com';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let cacheHome = '';
let http: LocalHttp;
let online = true;
let now = '2026-12-03T18:00:00Z';

const collect = () => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
};

async function vigil(argv: string[], stdin = ''): Promise<Run> {
  const out = collect();
  const err = collect();
  const io: CliIo = {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from([stdin]),
    env: { XDG_CACHE_HOME: cacheHome, HOME: '/nonexistent-home' },
    cwd: repoRoot,
    clock: fixedClock(now),
    fetch: (async (input, init) => {
      if (!online) throw new TypeError('fetch failed: getaddrinfo ENOTFOUND ip-ranges.amazonaws.com');
      const url = String(input);
      return fetch(url.startsWith(AWS_ORIGIN) ? http.url + url.slice(AWS_ORIGIN.length) : url, init);
    }) as typeof fetch,
  };
  const code = await main(argv, io);
  return { code, stdout: out.text(), stderr: err.text() };
}

const lines = (s: string) => s.split('\n').filter(Boolean);

beforeAll(async () => {
  const body = snapshotBytes(SNAPSHOTS.aug22);
  const etag = `"${md5Hex(body)}"`;
  http = await startHttp((req, res) => {
    if (req.headers['if-none-match'] === etag) {
      res.statusCode = 304;
      return void res.end();
    }
    res.setHeader('etag', etag);
    res.end(body);
  });
});
afterAll(async () => http?.stop());
beforeEach(async () => {
  cacheHome = await mkdtemp(path.join(tmpdir(), 'vigil-cache-'));
  online = true;
  now = '2026-12-03T18:00:00Z';
  http.requests.length = 0;
});

describe('vigil ip-ranges: listing and querying (parity with the original script)', () => {
  it('--listregions prints 43 sorted regions, GLOBAL first; --format json prints an array', async () => {
    const r = await vigil(['ip-ranges', '--file', AUG, '--listregions']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toHaveLength(43);
    expect(lines(r.stdout)[0]).toBe('GLOBAL');
    expect(lines(r.stdout).at(-1)).toBe('us-west-2');
    const j = await vigil(['ip-ranges', '--file', AUG, '--listregions', '--format', 'json']);
    expect(JSON.parse(j.stdout)).toEqual(lines(r.stdout));
  });

  it('--listservices prints 27 IPv4 services, 28 with --all', async () => {
    expect(lines((await vigil(['ip-ranges', '--file', AUG, '--listservices'])).stdout)).toHaveLength(27);
    const all = lines((await vigil(['ip-ranges', '--file', AUG, '--listservices', '--all'])).stdout);
    expect(all).toHaveLength(28);
    expect(all).toContain('IOT_CORE');
  });

  it('--service/--region print the region\'s CIDRs plus GLOBAL, case-insensitively; --ipv6 and --all', async () => {
    const v4 = await vigil(['ip-ranges', '--file', AUG, '--service', 'route53_healthchecks', '--region', 'US-EAST-1']);
    expect(v4.stdout).toBe('15.177.0.0/18\n107.23.255.0/26\n54.243.31.192/26\n');
    const v6 = await vigil(['ip-ranges', '--file', AUG, '-s', 'ROUTE53_HEALTHCHECKS', '-r', 'us-east-1', '--ipv6']);
    expect(v6.stdout).toBe('2600:1f18:3fff:f800::/56\n2600:1f18:7fff:f800::/56\n');
    const noGlobal = await vigil(['ip-ranges', '--file', AUG, '-s', 'ROUTE53_HEALTHCHECKS', '-r', 'us-east-1', '--no-global']);
    expect(noGlobal.stdout).toBe('107.23.255.0/26\n54.243.31.192/26\n');
    const ec2 = await vigil(['ip-ranges', '--file', AUG, '--service', 'EC2', '--region', 'eu-west-1']);
    expect(lines(ec2.stdout)).toHaveLength(109);
  });

  it('--format csv and json carry every field', async () => {
    const csv = await vigil(['ip-ranges', '--file', AUG, '-s', 'ROUTE53_HEALTHCHECKS', '-r', 'us-east-1', '--all', '--format', 'csv']);
    expect(lines(csv.stdout)).toEqual([
      'family,prefix,region,service,network_border_group',
      'ipv4,15.177.0.0/18,GLOBAL,ROUTE53_HEALTHCHECKS,GLOBAL',
      'ipv4,107.23.255.0/26,us-east-1,ROUTE53_HEALTHCHECKS,us-east-1',
      'ipv4,54.243.31.192/26,us-east-1,ROUTE53_HEALTHCHECKS,us-east-1',
      'ipv6,2600:1f18:3fff:f800::/56,us-east-1,ROUTE53_HEALTHCHECKS,us-east-1',
      'ipv6,2600:1f18:7fff:f800::/56,us-east-1,ROUTE53_HEALTHCHECKS,us-east-1',
    ]);
    const json = JSON.parse((await vigil(['ip-ranges', '--file', AUG, '-s', 'S3', '-r', 'us-east-1', '--format', 'json'])).stdout);
    expect(json).toHaveLength(41);
    expect(json[0]).toEqual({ family: 'ipv4', prefix: expect.any(String), region: expect.any(String), service: 'S3', networkBorderGroup: expect.any(String) });
    expect(JSON.parse((await vigil(['ip-ranges', '--file', snapshotPath(SNAPSHOTS.v2017), '-s', 'EC2', '-r', 'us-east-1', '--format', 'json'])).stdout)[0]).not.toHaveProperty('networkBorderGroup');
  });

  it('--border-group filters by network border group', async () => {
    const r = await vigil(['ip-ranges', '--file', AUG, '--border-group', 'eu-central-1-ist-1', '--all']);
    expect(lines(r.stdout)).toContain('83.119.128.0/18');
  });

  it('-v prints the age in days (injected clock) and the sync token on stderr; -vv also the whole file', async () => {
    const r = await vigil(['ip-ranges', '--file', AUG, '-v', '--listregions']);
    expect(r.stderr).toContain('created: 2026-08-22-15-17-05 UTC (103 days ago)');
    expect(r.stderr).toContain('syncToken: 1787411825');
    expect(lines(r.stdout)).toHaveLength(43); // stdout still carries only results
    const vv = await vigil(['ip-ranges', '--file', AUG, '-vv', '--listregions']);
    expect(vv.stderr).toContain('syncToken: 1787411825');
    expect(vv.stderr.length).toBeGreaterThan(2_600_669);
    expect(vv.stderr).toContain((await readFile(AUG, 'utf8')).slice(-200));
  });

  it('--help says that region queries include GLOBAL', async () => {
    const r = await vigil(['ip-ranges', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/region also returns the GLOBAL entries/);
    expect(r.stdout).toContain('--listregions');
    expect(r.stdout).toContain('lookup');
  });
});

describe('vigil ip-ranges lookup', () => {
  it('answers each IP, most specific first, "-" when none', async () => {
    const r = await vigil(['ip-ranges', 'lookup', '--file', AUG, '54.243.31.193', '8.8.8.8', '2600:1f18:3fff:f800::1']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      '54.243.31.193\t54.243.31.192/26 ROUTE53_HEALTHCHECKS us-east-1, 54.242.0.0/15 EC2 us-east-1, 54.242.0.0/15 AMAZON us-east-1',
      '8.8.8.8\t-',
      '2600:1f18:3fff:f800::1\t2600:1f18:3fff:f800::/56 ROUTE53_HEALTHCHECKS us-east-1, 2600:1f18::/33 EC2 us-east-1, 2600:1f18::/33 AMAZON us-east-1',
    ]);
  });

  it('streams stdin with "-", one JSON line per IP; a bad line is reported and exits 2, the rest is answered', async () => {
    const r = await vigil(['ip-ranges', 'lookup', '-', '--file', AUG, '--format', 'json'], '15.177.0.1\n\n08.1.250.216\n::1\n');
    expect(r.code).toBe(2);
    const out = lines(r.stdout).map((l) => JSON.parse(l));
    expect(out.map((o) => o.ip)).toEqual(['15.177.0.1', '::1']);
    expect(out[0].matches[0]).toMatchObject({ prefix: '15.177.0.0/18', service: 'EC2' });
    expect(out[1].matches).toEqual([]);
    expect(r.stderr).toContain('line 3: not an IP address: "08.1.250.216"');
  });

  it('exits 2 naming an invalid IP argument', async () => {
    const r = await vigil(['ip-ranges', 'lookup', '--file', AUG, '1.2.3.4', '1.2.3.400']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('not an IP address: "1.2.3.400"');
  });
});

describe('vigil ip-ranges diff', () => {
  it('prints the counts object with exactly the eight keys, and exits 1 when entries differ', async () => {
    const r = await vigil(['ip-ranges', 'diff', JAN19, JAN21, '--format', 'json']);
    expect(r.code).toBe(1);
    const d = JSON.parse(r.stdout);
    expect(d.counts).toEqual({ v4_added: 3, v4_removed: 2, v6_added: 3, v6_removed: 0, v4_cidrs_added: 1, v4_cidrs_removed: 1, v6_cidrs_added: 1, v6_cidrs_removed: 0 });
    expect(d.added).toHaveLength(6);
    expect(d.removed).toHaveLength(2);
    expect(d.moved).toEqual([]);
    expect(d.byService.ipv4.added).toEqual({ AMAZON: 1, GLOBALACCELERATOR: 1, S3: 1 });
  });

  it('prints a readable summary, filters with --service, and exits 0 for identical files', async () => {
    const text = await vigil(['ip-ranges', 'diff', JAN21, AUG]);
    expect(text.stdout).toContain('IPv4: +1051 −188 entries, +643 −99 CIDRs');
    expect(text.stdout).toContain('Moved (44):');
    const cf = await vigil(['ip-ranges', 'diff', JAN21, AUG, '--service', 'cloudfront', '--format', 'json']);
    expect(JSON.parse(cf.stdout).counts).toMatchObject({ v4_added: 12, v4_removed: 0, v6_added: 4, v6_removed: 0 });
    const same = await vigil(['ip-ranges', 'diff', AUG, AUG]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('No entry changed.');
  });
});

describe('vigil ip-ranges: sources, cache and errors', () => {
  it('downloads into the cache, reuses it for a day, then revalidates (304) and refreshes on --refresh', async () => {
    const first = await vigil(['ip-ranges', '--listregions']);
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toHaveLength(43);
    expect(http.requests).toHaveLength(1);
    const cached = path.join(cacheHome, 'vigil', 'ip-ranges.json');
    expect(md5Hex(await readFile(cached))).toBe('63431d35877fa5386ded1a7df9cfa971');

    now = '2026-12-04T17:00:00Z'; // 23 h later: cache used, no request
    expect((await vigil(['ip-ranges', '--listservices'])).code).toBe(0);
    expect(http.requests).toHaveLength(1);

    now = '2026-12-05T18:00:00Z'; // 2 days later: conditional GET, 304
    expect((await vigil(['ip-ranges', '--listservices'])).code).toBe(0);
    expect(http.requests).toHaveLength(2);
    expect(http.requests[1]?.headers['if-none-match']).toBe('"63431d35877fa5386ded1a7df9cfa971"');

    expect((await vigil(['ip-ranges', '--refresh', '--listservices'])).code).toBe(0);
    expect(http.requests).toHaveLength(3);
    expect(http.requests[2]?.headers['if-none-match']).toBeUndefined();
  });

  it('offline with no cache: exit 2 and a hint to use --file; offline with a stale cache: a warning and the cache', async () => {
    online = false;
    const none = await vigil(['ip-ranges', '--listregions']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/cannot download https:\/\/ip-ranges\.amazonaws\.com\/ip-ranges\.json .*no cached copy.*use --file PATH/);

    online = true;
    await vigil(['ip-ranges', '--listregions']);
    online = false;
    now = '2026-12-10T18:00:00Z';
    const stale = await vigil(['ip-ranges', '--listregions']);
    expect(stale.code).toBe(0);
    expect(lines(stale.stdout)).toHaveLength(43);
    expect(stale.stderr).toMatch(/warn: cannot refresh ip-ranges .*using the cached copy downloaded 7 day\(s\) ago/);
  });

  it('reads --url (https) and verifies --md5', async () => {
    const ok = await vigil(['ip-ranges', '--url', `${AWS_ORIGIN}/ip-ranges.json`, '--md5', '63431d35877fa5386ded1a7df9cfa971', '--listregions']);
    expect(ok.code).toBe(0);
    const bad = await vigil(['ip-ranges', '--file', AUG, '--md5', 'e0a38abfb954152e33ccdd4a19fea03e', '--listregions']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('md5 mismatch: expected e0a38abfb954152e33ccdd4a19fea03e, got 63431d35877fa5386ded1a7df9cfa971');
  });

  it('exits 2 with a clear message for a missing file, bad JSON, a schema violation and conflicting flags', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-bad-'));
    try {
      await writeFile(path.join(dir, 'truncated.json'), (await readFile(AUG, 'utf8')).slice(0, 5000));
      await writeFile(path.join(dir, 'schema.json'), JSON.stringify({ syncToken: '1', createDate: '2026-01-01-00-00-00', prefixes: [{ ip_prefix: '10.0.0.0/33', region: 'x', service: 'y' }], ipv6_prefixes: [] }));
      const cases: [string[], RegExp][] = [
        [['--file', path.join(dir, 'missing.json')], /cannot read ip-ranges file .*missing\.json: no such file/],
        [['--file', path.join(dir, 'truncated.json')], /truncated\.json: not valid JSON/],
        [['--file', path.join(dir, 'schema.json')], /not an ip-ranges\.json document: prefixes\.0\.ip_prefix: not an IPv4 CIDR/],
        [['--file', AUG, '--ipv6', '--all'], /either --ipv6 or --all/],
        [['--file', AUG, '--url', 'https://example.com/x.json'], /either --file or --url/],
        [['--file', AUG, '--format', 'xml'], /argument 'xml' is invalid/],
      ];
      for (const [args, message] of cases) {
        const r = await vigil(['ip-ranges', ...args, '--listregions']);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr, args.join(' ')).toMatch(message);
        expect(r.stdout).toBe('');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bin/vigil.mjs as a real process', () => {
  it('lists regions from a file and streams lookups from stdin', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [path.join(repoRoot, 'bin/vigil.mjs'), 'ip-ranges', '--file', AUG, '--listregions']);
    expect(lines(stdout)).toHaveLength(43);
    const child = execFile(process.execPath, [path.join(repoRoot, 'bin/vigil.mjs'), 'ip-ranges', 'lookup', '-', '--file', AUG]);
    const out: string[] = [];
    child.stdout?.on('data', (c: string) => out.push(c));
    child.stdin?.end('54.243.31.193\n8.8.8.8\n');
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(code).toBe(0);
    expect(lines(out.join(''))).toEqual([expect.stringMatching(/^54\.243\.31\.193\t54\.243\.31\.192\/26 ROUTE53_HEALTHCHECKS/), '8.8.8.8\t-']);
  }, 60_000);
});
