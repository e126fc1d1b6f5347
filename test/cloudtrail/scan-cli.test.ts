import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Alert } from '../../shared/alerts/schema';
import type { CliIo } from '../../shared/cli/io';
import { main } from '../../shared/cli/main';
import { mergeAlerts, renderTable } from '../../shared/cli/scan';
import { systemClock } from '../../shared/core/deps';
import { exampleRecord } from '../../shared/rules/engine/example-record';
import { sampleBytes, sampleFiles } from '../fixtures/cloudtrail/samples';
import { SNAPSHOTS, snapshotPath } from '../ip-ranges/helpers';
import { type LocalS3, startS3 } from '../support/s3rver';
import { cloudtrailDir, repoRoot } from '../support/shared-data';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const sink = (chunks: string[], tty = false) =>
  Object.assign(
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    { isTTY: tty, columns: 200 },
  );

async function vigil(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = repoRoot, tty = false): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: sink(out, tty),
    stderr: sink(err, tty),
    stdin: Readable.from([]),
    // No cached ip-ranges unless a test provides one.
    env: { XDG_CACHE_HOME: path.join(tmpdir(), 'vigil-no-cache'), ...env },
    cwd,
    clock: systemClock,
    fetch: () => Promise.reject(new Error('no network in tests')),
  };
  const code = await main(['scan', ...argv], io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const ndjson = (stdout: string): Alert[] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => Alert.parse(JSON.parse(line)));

const OWN_RULES = new Set(['cloudtrail-tampering', 'root-account-usage', 'off-hours-api-call']);

describe('vigil scan', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'vigil-scan-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('finds the CloudTrail tampering techniques in the Stratus Red Team delivery logs', async () => {
    const { code, stdout, stderr } = await vigil(['--format', 'json', '--rules', 'cloudtrail-tampering', cloudtrailDir('stratus-delivery')]);
    expect(code).toBe(1);
    const alerts = (JSON.parse(stdout) as unknown[]).map((a) => Alert.parse(a));
    const techniques = alerts.map((a) => path.basename(a.source!.key).replace(/\.json\.gz$/, '')).sort();
    expect(techniques).toEqual([
      'aws.defense-evasion.cloudtrail-delete',
      'aws.defense-evasion.cloudtrail-event-selectors',
      'aws.defense-evasion.cloudtrail-stop',
    ]);
    expect(alerts.map((a) => a.eventName).sort()).toEqual(['DeleteTrail', 'PutEventSelectors', 'StopLogging']);
    expect(stderr).toMatch(/scanned 35\/35 files, 310 records/);
    expect(stderr).toMatch(/source-IP enrichment off/);
  });

  it('scans the shipped sample logs with the example configuration: exactly the expected incidents', async () => {
    const { code, stdout, stderr } = await vigil(['--config', 'examples/vigil.config.yaml', '--format', 'ndjson', 'events/cloudtrail/']);
    expect(code).toBe(1);
    const mine = ndjson(stdout).filter((a) => OWN_RULES.has(a.ruleId));
    expect(mine.map((a) => [a.ruleId, a.severity, a.count, a.account, a.context.profile])).toEqual([
      ['root-account-usage', 'critical', 3, '111122223333', 'prod'],
      ['cloudtrail-tampering', 'critical', 3, '111122223333', 'prod'],
      ['off-hours-api-call', 'medium', 3, '111122223333', 'prod'],
    ]);
    const tamper = mine.find((a) => a.ruleId === 'cloudtrail-tampering')!;
    expect(tamper).toMatchObject({
      title: 'CloudTrail logging stopped on trail management-events',
      firstSeen: '2025-03-15T22:41:02Z',
      lastSeen: '2025-03-15T22:41:30Z',
      sourceIp: '192.0.2.200',
    });
    expect(tamper.context.eventNames).toEqual(expect.arrayContaining(['StopLogging', 'DeleteTrail', 'PutEventSelectors']));
    expect(mine.find((a) => a.ruleId === 'off-hours-api-call')!.title).toBe(
      'Change outside office hours by svc-reporting (sat 2025-03-15 23:41 Europe/Berlin)',
    );
    // The digest file is skipped, every log is read.
    expect(stderr).toMatch(/scanned 5\/5 files, 32 records .*1 non-log file skipped/);
    expect(stderr).not.toMatch(/rule (cloudtrail-tampering|root-account-usage|off-hours-api-call) is inactive/);
  });

  it('exits 0 with --exit-zero (what `npm start` uses), and the package.json start script is that command', async () => {
    const { code } = await vigil(['--config', 'examples/vigil.config.yaml', '--exit-zero', '-q', 'events/cloudtrail/']);
    expect(code).toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node bin/vigil.mjs scan --config examples/vigil.config.yaml --exit-zero events/cloudtrail/');
  });

  it('keeps the committed sample logs equal to their source (test/fixtures/cloudtrail/samples.ts)', () => {
    for (const file of sampleFiles()) {
      const committed = gunzipSync(readFileSync(path.join(repoRoot, 'events/cloudtrail', file.path))).toString('utf8');
      expect(committed, file.path).toBe(gunzipSync(sampleBytes(file)).toString('utf8'));
    }
  });

  it('says once which rules are inactive for lack of configuration', async () => {
    const { stderr } = await vigil(['--format', 'ndjson', 'events/cloudtrail/']);
    const lines = stderr.split('\n').filter((l) => l.includes('off-hours-api-call is inactive'));
    expect(lines).toEqual(['vigil: rule off-hours-api-call is inactive for profile default: detection.officeHours is not set']);
  });

  it('reports an unreadable input with exit 2 and still scans and reports the others', async () => {
    const dir = path.join(tmp, 'mixed');
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(cloudtrailDir('stratus-delivery'), 'aws.defense-evasion.cloudtrail-stop.json.gz'), path.join(dir, 'a-stop.json.gz'));
    writeFileSync(path.join(dir, 'b-corrupt.json.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5]));
    writeFileSync(path.join(dir, 'c-notes.txt'), 'not a log');
    const { code, stdout, stderr } = await vigil(['--format', 'ndjson', dir, path.join(tmp, 'missing.json.gz')]);
    expect(code).toBe(2);
    expect(ndjson(stdout).map((a) => a.eventName)).toEqual(['StopLogging']);
    expect(stderr).toMatch(/vigil: error: .*missing\.json\.gz: no such file or directory/);
    expect(stderr).toMatch(/vigil: error: .*b-corrupt\.json\.gz: corrupt gzip/);
    // c-notes.txt is not a log and not mentioned.
    expect(stderr).toMatch(/scanned 1\/2 files, \d+ records in [\d.]+ s; 1 alert .*2 inputs could not be read/);
  });

  it('on a terminal: a table with the alerts on stdout and a progress bar on stderr', async () => {
    const { code, stdout, stderr } = await vigil(['--config', 'examples/vigil.config.yaml', 'events/cloudtrail/'], {}, repoRoot, true);
    expect(code).toBe(1);
    expect(stdout.split('\n')[0]).toMatch(/^SEVERITY\s+FIRST SEEN \(UTC\)\s+RULE/);
    expect(stdout).toContain('\u001b[1;31mCRITICAL');
    expect(stderr).toMatch(/scanning .* \d\/5 files \| \d+ records \| \d+ records\/s/);
    const noColor = await vigil(['--config', 'examples/vigil.config.yaml', '--no-progress', 'events/cloudtrail/'], { NO_COLOR: '1' }, repoRoot, true);
    expect(noColor.stdout).not.toContain('\u001b');
    expect(noColor.stderr).not.toMatch(/scanning/);
  });

  it('reads plain JSON and bare arrays, and exits 0 without alerts', async () => {
    const file = path.join(tmp, 'quiet.json');
    writeFileSync(file, JSON.stringify([exampleRecord({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances', readOnly: true })]));
    const { code, stdout } = await vigil(['--format', 'table', file]);
    expect(code).toBe(0);
    expect(stdout).toBe('no alerts\n');
  });

  it('runs a subset of rules, filters by severity, and refuses unknown rule ids and bad config', async () => {
    const root = await vigil(['--config', 'examples/vigil.config.yaml', '--rules', 'root-account-usage', '--format', 'ndjson', 'events/cloudtrail/']);
    expect(ndjson(root.stdout).map((a) => a.ruleId)).toEqual(['root-account-usage']);
    const high = await vigil(['--config', 'examples/vigil.config.yaml', '--min-severity', 'critical', '--format', 'ndjson', 'events/cloudtrail/']);
    expect(ndjson(high.stdout).every((a) => a.severity === 'critical')).toBe(true);
    const unknown = await vigil(['--rules', 'nope', 'events/cloudtrail/']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown rule id\(s\): nope/);
    const badConfig = path.join(tmp, 'bad.yaml');
    writeFileSync(badConfig, 'detection:\n  officeHours:\n    timezone: Mars/Olympus\n');
    const bad = await vigil(['--config', badConfig, 'events/cloudtrail/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/detection\.officeHours\.timezone: not an IANA timezone/);
  });

  it('enriches source IPs from --ip-ranges FILE or the cached copy', async () => {
    const file = path.join(tmp, 'from-ec2.json.gz');
    writeFileSync(
      file,
      gzipSync(
        JSON.stringify({
          Records: [
            exampleRecord({
              eventSource: 'cloudtrail.amazonaws.com',
              eventName: 'StopLogging',
              sourceIPAddress: '18.236.253.47',
              requestParameters: { name: 'main' },
            }),
          ],
        }),
      ),
    );
    const withFile = await vigil(['--ip-ranges', snapshotPath(SNAPSHOTS.aug22), '--format', 'ndjson', file]);
    const [alert] = ndjson(withFile.stdout);
    expect(alert!.context.awsOwner).toBe('EC2 us-west-2');
    expect(alert!.summary).toContain('AWS-owned: EC2 us-west-2');
    expect(withFile.stderr).toMatch(/source IPs enriched with ip-ranges 2026-08-22-15-17-05/);

    const cache = path.join(tmp, 'cache');
    mkdirSync(path.join(cache, 'vigil'), { recursive: true });
    copyFileSync(snapshotPath(SNAPSHOTS.aug22), path.join(cache, 'vigil', 'ip-ranges.json'));
    const cached = await vigil(['--format', 'ndjson', file], { XDG_CACHE_HOME: cache });
    expect(ndjson(cached.stdout)[0]!.context.awsOwner).toBe('EC2 us-west-2');
    expect(cached.stderr).toMatch(/enriched with the cached ip-ranges/);
    const off = await vigil(['--no-ip-ranges', '--format', 'ndjson', file], { XDG_CACHE_HOME: cache });
    expect(ndjson(off.stdout)[0]!.context.ipRanges).toBe('off');
    expect(off.stderr).toMatch(/enrichment off \(--no-ip-ranges\)/);
  });

  it('merges one incident spread over several files into one alert', () => {
    const alert = ndjsonAlert();
    const merged = mergeAlerts([
      alert,
      { ...alert, count: 2, eventIds: ['e2', 'e3'], firstSeen: '2025-03-12T09:59:00Z', lastSeen: '2025-03-12T10:30:00Z', severity: 'critical' },
      { ...alert, id: 'other' },
    ]);
    expect(merged).toHaveLength(2);
    expect(merged[0]).toMatchObject({ count: 3, eventIds: ['e1', 'e2', 'e3'], firstSeen: '2025-03-12T09:59:00Z', lastSeen: '2025-03-12T10:30:00Z', severity: 'critical', context: { files: 2 } });
    const table = renderTable(merged, 100, false);
    expect(table.split('\n')[0]).toMatch(/^SEVERITY\s+FIRST SEEN \(UTC\)\s+RULE\s+ACCOUNT\s+ACTOR\s+COUNT\s+TITLE$/);
    expect(table).toContain('CRITICAL');
  });

  describe('S3 prefixes (s3rver)', () => {
    let s3: LocalS3;
    beforeAll(async () => {
      s3 = await startS3();
      await s3.createBucket('trail-logs');
      for (const file of sampleFiles()) {
        await s3.client.send(new PutObjectCommand({ Bucket: 'trail-logs', Key: file.path, Body: sampleBytes(file) }));
      }
    });
    afterAll(async () => {
      vi.unstubAllEnvs();
      await s3?.stop();
    });

    it('scans every log object under a prefix with the same results as the local copy', async () => {
      // The SDK reads credentials from the process environment.
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
      const env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'us-east-1' };
      const remote = await vigil(['--config', 'examples/vigil.config.yaml', '--format', 'ndjson', 's3://trail-logs/AWSLogs/'], env);
      const local = await vigil(['--config', 'examples/vigil.config.yaml', '--format', 'ndjson', 'events/cloudtrail/']);
      expect(remote.code).toBe(1);
      const strip = (alerts: Alert[]) => alerts.map(({ source: _s, ...rest }) => rest);
      expect(strip(ndjson(remote.stdout))).toEqual(strip(ndjson(local.stdout)));
      expect(ndjson(remote.stdout)[0]!.source).toMatchObject({ bucket: 'trail-logs' });
      expect(remote.stderr).toMatch(/scanned 5\/5 files, 32 records/);
      const empty = await vigil(['s3://trail-logs/nothing-here/'], env);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toMatch(/no objects under this prefix/);
    });
  });

  it('runs as a real process, as `npm start` does', async () => {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['bin/vigil.mjs', 'scan', '--config', 'examples/vigil.config.yaml', '--exit-zero', '--format', 'table', 'events/cloudtrail/'],
      { cwd: repoRoot, env: { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'none') } },
    );
    expect(stdout).toMatch(/^SEVERITY\s+FIRST SEEN/);
    expect(stdout).toContain('cloudtrail-tampering');
    expect(stderr).toMatch(/scanned 5\/5 files/);
  }, 60_000);
});

function ndjsonAlert(): Alert {
  return Alert.parse({
    id: 'a1',
    ruleId: 'cloudtrail-tampering',
    title: 'CloudTrail logging stopped on trail main',
    severity: 'high',
    categories: ['cloudtrail-tamper'],
    account: '111122223333',
    region: 'eu-central-1',
    eventTime: '2025-03-12T10:00:00Z',
    summary: 's',
    context: {},
    count: 1,
    dedupKey: 'k',
    eventIds: ['e1'],
    firstSeen: '2025-03-12T10:00:00Z',
    lastSeen: '2025-03-12T10:00:00Z',
  });
}
