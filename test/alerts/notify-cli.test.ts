import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockKitIssues } from '../../shared/alerts/block-kit';
import { runCli } from '../support/cli';
import { type LocalHttp, startHttp } from '../support/http-server';
import { repoRoot } from '../support/shared-data';
import { alertFixture } from './fixtures';

const SECRET_PATH = '/services/T0SECRET/B0SECRET/cl1S3cr3t';
type Reply = { status: number; body?: string; headers?: Record<string, string> };

const ndjson = (...lines: unknown[]) => `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;
const critical = alertFixture('cloudtrail-stop-logging');
const high = alertFixture('cloudtrail-aws-owned');
const info = alertFixture('migration-progress');

const run = (argv: string[], stdin: string, env: NodeJS.ProcessEnv = {}) => runCli(argv, { stdin, env, fetch });

describe('vigil notify', () => {
  let http: LocalHttp;
  let replies: Reply[];
  let hook: string;

  beforeAll(async () => {
    http = await startHttp((_req, res) => {
      const reply = replies.shift() ?? { status: 200, body: 'ok' };
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? '');
    });
    hook = `${http.url}${SECRET_PATH}`;
  });
  afterAll(async () => http?.stop());
  beforeEach(() => {
    replies = [];
    http.requests.length = 0;
  });

  it('--dry-run prints one valid Block Kit message per alert; a bad line is reported by number and the rest processed', async () => {
    const r = await run(['notify', '--dry-run'], ndjson(critical, '{"truncated', { id: 'x' }, '', info));
    expect(r.code).toBe(2);
    const messages = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { text: string });
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => blockKitIssues(m))).toEqual([[], []]);
    expect(messages[0]?.text).toContain('CRITICAL: CloudTrail logging stopped');
    expect(messages[1]?.text).toContain('INFO: Migration of vg_data');
    expect(r.stderr).toContain('vigil: line 2: not JSON');
    expect(r.stderr).toMatch(/vigil: line 3: not an alert: ruleId: /);
    expect(r.stderr).toContain('vigil: notify: 2 printed, 2 invalid lines');
    expect(http.requests).toHaveLength(0);
  });

  it('--dry-run --pretty with a configuration: office timezone and account names', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-notify-'));
    try {
      await writeFile(path.join(dir, 'c.yaml'), 'notify: { officeTimezone: Asia/Tokyo, accountNames: { "444455556666": staging } }');
      const r = await run(['notify', '--dry-run', '--pretty', '--config', path.join(dir, 'c.yaml')], ndjson(high));
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('\n  "attachments": [');
      expect(r.stdout).toContain('2026-08-13 07:41:05 GMT+9 (Asia/Tokyo)');
      expect(r.stdout).toContain('account 444455556666 (staging)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('posts each alert at or above --min-severity to the webhook from SLACK_WEBHOOK_URL', async () => {
    const r = await run(['notify', '--min-severity', 'high'], ndjson(critical, info, high), { SLACK_WEBHOOK_URL: hook });
    expect(r.code).toBe(0);
    expect(http.requests.map((q) => q.url)).toEqual([SECRET_PATH, SECRET_PATH]);
    expect(r.stderr).toBe('vigil: notify: 2 posted, 1 below high\n');
    expect(r.stdout).toBe('');
  });

  it('applies the Slack retry rules: 429 with Retry-After and 500 then success', async () => {
    replies = [{ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } }, { status: 200, body: 'ok' }, { status: 500 }];
    const r = await run(['notify', '--webhook', hook], ndjson(critical, high));
    expect(r.code).toBe(0);
    expect(http.requests).toHaveLength(4);
    expect(r.stderr).toContain('2 posted');
  });

  it('a permanent rejection fails that alert (exit 1), the others are still posted, the URL is never printed', async () => {
    replies = [{ status: 404, body: 'no_service' }];
    const r = await run(['notify', '--webhook', hook, '--verbose'], ndjson(critical, high));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `vigil: line 1: alert ${critical.id} rejected by Slack: Slack rejected the message for channel "webhook": no_service (HTTP 404)`,
    );
    expect(r.stderr).toContain(`line 2: posted high ${high.ruleId}`);
    expect(r.stderr).toContain('1 posted, 1 not delivered');
    expect(r.stderr + r.stdout).not.toContain(SECRET_PATH);
    expect(r.stderr + r.stdout).not.toContain('cl1S3cr3t');
  });

  it('bad options are exit code 2 without echoing the webhook', async () => {
    const none = await run(['notify'], ndjson(critical));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('a webhook is needed');
    const plainHttp = await run(['notify', '--webhook', 'http://hooks.example.com/services/T/B/cl1S3cr3t'], ndjson(critical));
    expect(plainHttp.code).toBe(2);
    expect(plainHttp.stderr).toBe('vigil: error: the webhook is not an https:// URL\n');
    const tz = await run(['notify', '--dry-run', '--timezone', 'Nowhere/Land'], '');
    expect(tz.code).toBe(2);
    const sev = await run(['notify', '--dry-run', '--min-severity', 'urgent'], '');
    expect(sev.code).toBe(2);
  });

  it('runs as a real process from a file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-notify-'));
    try {
      const file = path.join(dir, 'alerts.ndjson');
      await writeFile(file, ndjson(critical, '[]'));
      const { stdout, stderr, code } = await promisify(execFile)('npx', ['node', 'bin/vigil.mjs', 'notify', '--dry-run', file], {
        cwd: repoRoot,
      }).then(
        (r) => ({ ...r, code: 0 }),
        (e: { stdout: string; stderr: string; code: number }) => e,
      );
      expect(code).toBe(2);
      expect(JSON.parse(stdout.trim())).toHaveProperty('attachments');
      expect(stderr).toContain('vigil: line 2: not an alert');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
