import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/shared-data';

/**
 * The repository's secret scan (`npm run secretlint`, a step of .ci/run) with its real configuration
 * (.secretlintrc.json, .secretlintignore). Every secret here is generated at test time, in a temporary directory
 * outside the repository, so no key-shaped string is ever committed.
 */
const run = promisify(execFile);
const secretlintBin = path.join(repoRoot, 'node_modules/secretlint/bin/secretlint.js');

interface ScanResult {
  code: number;
  findings: { file: string; ruleId: string; messageId: string }[];
}

async function scan(dir: string): Promise<ScanResult> {
  const args = [
    secretlintBin,
    '--secretlintrc',
    path.join(repoRoot, '.secretlintrc.json'),
    '--secretlintignore',
    path.join(repoRoot, '.secretlintignore'),
    '--format',
    'json',
    '--no-color',
    `${dir}/**/*`,
  ];
  const done = await run(process.execPath, args, { cwd: repoRoot }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  const results = JSON.parse(done.stdout || '[]') as { filePath: string; messages: { ruleId: string; messageId: string }[] }[];
  return {
    code: done.code,
    findings: results.flatMap((r) => r.messages.map((m) => ({ file: path.basename(r.filePath), ruleId: m.ruleId, messageId: m.messageId }))),
  };
}

const upperBase32 = (n: number): string => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[randomInt(32)]).join('');
const alnum = (n: number): string => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[randomInt(62)]).join('');
const base64 = (n: number): string => randomBytes(n).toString('base64').replace(/[^A-Za-z0-9/+]/g, 'A').slice(0, n);

const temps: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-secret-scan-'));
  temps.push(dir);
  return dir;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('secret scanning (secretlint with the repository configuration)', () => {
  it('fails on planted AWS keys, Slack webhooks and tokens, and private keys', async () => {
    const dir = tempDir();
    const planted: Record<string, string> = {
      'access-key-id.ts': `export const credentials = { accessKeyId: 'AKIA${upperBase32(16)}' };\n`,
      'credentials.ini': `[default]\naws_access_key_id = ASIA${upperBase32(16)}\naws_secret_access_key = ${base64(40)}\n`,
      'secret-key.env': `AWS_SECRET_KEY=${base64(40)}\n`,
      'webhook.json': JSON.stringify({ url: `https://hooks.slack.com/services/T${alnum(10).toUpperCase()}/B${alnum(10).toUpperCase()}/${alnum(24)}` }),
      'workflow-webhook.md': `https://hooks.slack.com/workflows/T${upperBase32(10)}/A${upperBase32(10)}/${randomInt(1e9)}/${alnum(24)}\n`,
      'bot-token.yaml': `token: xoxb-${randomInt(1e9)}-${randomInt(1e9)}-${alnum(24)}\n`,
      'signing-secret.env': `SLACK_SIGNING_SECRET=${randomBytes(16).toString('hex')}\n`,
      'deploy-key.pem': generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    for (const [name, content] of Object.entries(planted)) writeFileSync(path.join(dir, name), content);

    const { code, findings } = await scan(dir);
    expect(code).toBe(1);
    const byFile = (file: string): string[] => findings.filter((f) => f.file === file).map((f) => f.messageId);
    expect(byFile('access-key-id.ts')).toEqual(['AWSAccessKeyID']);
    expect(byFile('credentials.ini').sort()).toEqual(['AWSAccessKeyID', 'AWSSecretAccessKey']);
    expect(byFile('secret-key.env')).toEqual(['PATTERN']);
    expect(byFile('webhook.json')).toEqual(['IncomingWebhook']);
    expect(byFile('workflow-webhook.md')).toEqual(['PATTERN']);
    expect(byFile('bot-token.yaml')).toEqual(['SLACK_TOKEN']);
    expect(byFile('signing-secret.env')).toEqual(['PATTERN']);
    expect(byFile('deploy-key.pem')).toEqual(['PrivateKey']);
  });

  it('passes on AWS\'s documented example values and on account ids, which are allow-listed explicitly', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'example.ini'),
      [
        '[default]',
        'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
        'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        'aws_secret_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        '[second]',
        'aws_access_key_id = AKIAI44QH8DHBEXAMPLE',
        'aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'record.json'),
      JSON.stringify({
        recipientAccountId: '111122223333',
        // A made-up key id that follows AWS's EXAMPLE convention, and unique ids of a user and a role (identifiers,
        // not credentials, though they share the key-id shape).
        userIdentity: { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', accountId: '123456789012', principalId: ['AIDA', 'JQABLZS4A3QDU576'].join('') },
        sessionIssuer: { principalId: ['AROA', 'EXAMPLEEXAMPLE01'].join('') },
        other: ['ASIA', 'EXAMPLEINVOICE01'].join(''),
        webhook: 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
      }),
    );
    const { code, findings } = await scan(dir);
    expect(findings).toEqual([]);
    expect(code).toBe(0);
  });

  it('allows the example values only as such, not a key that merely resembles them', async () => {
    const dir = tempDir();
    // Split so that this file holds no key-shaped string itself.
    writeFileSync(path.join(dir, 'near-miss.txt'), `id ${['AKIAIOSFODNN7EXAMPL', 'Q'].join('')}\n`);
    const { code, findings } = await scan(dir);
    expect(code).toBe(1);
    expect(findings.map((f) => f.messageId)).toEqual(['AWSAccessKeyID']);
  });
});
