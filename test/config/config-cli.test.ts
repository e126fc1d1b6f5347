import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createConfigCommand } from '../../shared/cli/config';
import { parseConfigJson } from '../../shared/config/parse';
import { runCli } from '../support/cli';
import { repoRoot } from '../support/shared-data';

const ssmMock = mockClient(SSMClient);
const ssm = new SSMClient({ region: 'eu-central-1', credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' } });
const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
afterAll(() => {
  ssmMock.restore();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => ssmMock.reset());

const vigil = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['config', ...argv], { env, modules: [createConfigCommand({ ssmClient: () => ssm })] });

const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

const EXAMPLE = 'examples/vigil.config.yaml';

describe('vigil config validate', () => {
  it('accepts the example configuration and says what it does', async () => {
    const run = await vigil(['validate', EXAMPLE]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${EXAMPLE}: valid`);
    expect(run.stdout).toMatch(/detection profiles: default, prod \(1 account\), dev \(1 account\)/);
    expect(run.stdout).toMatch(/rules: \d+ of \d+ active/);
    expect(run.stdout).toMatch(/stored as JSON: \d+ bytes \(fits the standard SSM tier\)/);
  });

  it('names the field of a schema error, and what only the engine checks (unknown rule, bad rule option); the other files are still checked', async () => {
    const typo = file('typo.yaml', 'detection:\n  officeHours: { timezone: UTC, lunch: "12:00" }\n');
    const unknownRule = file('rule.yaml', 'detection:\n  rules: { no-such-rule: { enabled: false } }\n');
    const badOption = file('option.yaml', 'detection:\n  rules: { foreign-source-ip: { options: { awsOwnedIps: maybe } } }\n');
    const run = await vigil(['validate', typo, unknownRule, EXAMPLE, badOption]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/typo\.yaml: invalid configuration: detection\.officeHours: Unrecognized key: "lunch"/);
    expect(run.stderr).toMatch(/rule\.yaml: invalid configuration: detection\.rules\.no-such-rule: unknown rule id/);
    expect(run.stderr).toMatch(/option\.yaml: invalid configuration: detection\.rules\.foreign-source-ip\.options: awsOwnedIps/);
    expect(run.stdout).toContain(`${EXAMPLE}: valid`);
  });

  it('says so for a missing file and for text that is neither YAML nor JSON', async () => {
    const broken = file('broken.yaml', 'detection: [unclosed\n');
    const run = await vigil(['validate', 'no-such.yaml', broken]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot read configuration .*no-such\.yaml: ENOENT/);
    expect(run.stderr).toMatch(/broken\.yaml: not valid YAML\/JSON/);
  });
});

describe('vigil config push', () => {
  it('stores the document as written, as compact JSON the functions accept, in the stage parameter', async () => {
    ssmMock.on(PutParameterCommand).resolves({ Version: 3, Tier: 'Standard' });
    const run = await vigil(['push', EXAMPLE, '--stage', 'prod']);
    expect(run.code).toBe(0);
    const calls = ssmMock.commandCalls(PutParameterCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ Name: '/vigil/prod/config', Type: 'SecureString', Overwrite: true, Tier: 'Intelligent-Tiering' });
    // Exactly what was written (no defaults filled in), and what the functions' JSON reader validates.
    expect(JSON.parse(input.Value!)).toEqual(parse(readFileSync(path.join(repoRoot, EXAMPLE), 'utf8')));
    expect(input.Value).not.toMatch(/\n/);
    expect(parseConfigJson(input.Value!, 'ssm').detection.officeHours?.timezone).toBe('Europe/Berlin');
    expect(run.stderr).toMatch(/stored \d+ bytes in \/vigil\/prod\/config/);
  });

  it('uses $VIGIL_STAGE or an explicit parameter name', async () => {
    ssmMock.on(PutParameterCommand).resolves({});
    await vigil(['push', EXAMPLE], { VIGIL_STAGE: 'staging' });
    await vigil(['push', EXAMPLE, '--parameter', '/team/vigil-config']);
    expect(ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input.Name)).toEqual(['/vigil/staging/config', '/team/vigil-config']);
  });

  it('--dry-run prints the JSON and stores nothing; an invalid file is never stored', async () => {
    const dry = await vigil(['push', EXAMPLE, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toHaveProperty('detection');
    expect(dry.stderr).toMatch(/dry run: would store \d+ bytes in \/vigil\/dev\/config/);

    const invalid = await vigil(['push', file('bad.yaml', 'notify: { defaultChannels: [nowhere] }\n')]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/notify\.defaultChannels\.0: unknown channel "nowhere"/);
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('refuses a document larger than an SSM parameter can hold', async () => {
    const accounts = Array.from({ length: 700 }, (_, i) => `"${String(100000000000 + i)}"`).join(', ');
    const big = file('big.yaml', `detection:\n  profiles:\n    prod: { accounts: [${accounts}] }\n`);
    const run = await vigil(['push', big]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bytes as JSON; an SSM parameter holds at most 8192/);
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('reports an AWS failure as one clear line', async () => {
    ssmMock.on(PutParameterCommand).rejects(Object.assign(new Error('User is not authorized to perform: ssm:PutParameter'), { name: 'AccessDeniedException' }));
    const run = await vigil(['push', EXAMPLE, '--stage', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('vigil: error: cannot store /vigil/prod/config: User is not authorized to perform: ssm:PutParameter\n');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('vigil config show', () => {
  it('prints the stored document as JSON or YAML', async () => {
    const doc = { detection: { expectedRegions: ['eu-central-1'] } };
    ssmMock.on(GetParameterCommand, { Name: '/vigil/prod/config', WithDecryption: true }).resolves({ Parameter: { Value: JSON.stringify(doc) } });
    const json = await vigil(['show', '--stage', 'prod']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(doc);
    const yaml = await vigil(['show', '--stage', 'prod', '--format', 'yaml']);
    expect(parse(yaml.stdout)).toEqual(doc);
  });

  it('warns (exit 2) about a stored document the functions refuse: YAML stored by hand, or invalid', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'detection:\n  expectedRegions: [eu-central-1]\n' } });
    const yaml = await vigil(['show']);
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toMatch(/\/vigil\/dev\/config is not JSON, and the functions read JSON/);
    expect(parse(yaml.stdout)).toEqual({ detection: { expectedRegions: ['eu-central-1'] } });

    ssmMock.reset();
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: '{"detection": {"alertWindowMinutes": 0}}' } });
    const invalid = await vigil(['show']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/the functions refuse this document: .*detection\.alertWindowMinutes/);
    expect(invalid.stdout).toContain('alertWindowMinutes');
  });

  it('says when there is no parameter yet', async () => {
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    const run = await vigil(['show', '--stage', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\/vigil\/prod\/config does not exist: the functions run on the defaults/);
  });
});
