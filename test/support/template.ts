import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './shared-data';

const run = promisify(execFile);

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  [key: string]: unknown;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Parameters?: Record<string, unknown>;
}

async function inputsHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = ['serverless.yml', 'package.json'];
  const walk = async (dir: string): Promise<void> => {
    if (!existsSync(path.join(repoRoot, dir))) return;
    for (const entry of await readdir(path.join(repoRoot, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(rel);
      else files.push(rel);
    }
  };
  await walk('infra');
  await walk('shared/lvm/scripts');
  for (const file of files.sort()) hash.update(file).update(await readFile(path.join(repoRoot, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Stage parameters of a deploy mode, as `--param="name=value"` would give them (e.g. an existing CloudTrail bucket). */
export type StackParams = Readonly<Record<string, string>>;

const paramsSuffix = (params: StackParams): string => {
  const entries = Object.entries(params).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '' : `-${createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 12)}`;
};

/**
 * Runs `serverless package` offline (no AWS credentials) once per change of the stack's inputs and returns the
 * generated CloudFormation. Test files share the result through a cache directory, so the package step runs once
 * per `npm test` even though test files run in separate processes. `params` packages another deploy mode (cached
 * separately); without them, the default mode.
 */
export async function packagedTemplate(params: StackParams = {}): Promise<CfnTemplate> {
  const dir = path.join(repoRoot, '.cache', 'template', `${await inputsHash()}${paramsSuffix(params)}`);
  const file = path.join(dir, 'cloudformation-template-update-stack.json');
  const lock = `${dir}.lock`;
  for (let i = 0; !existsSync(file); i++) {
    try {
      await mkdir(path.dirname(lock), { recursive: true });
      await mkdir(lock);
    } catch {
      if (i > 600) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      const out = `${dir}.tmp-${process.pid}`;
      // Prove packaging needs no AWS access: no credentials reach the child process.
      const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
      for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
      const paramArgs = Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
      await run('npx', ['serverless', 'package', '--stage', 'test', ...paramArgs, '--package', out], {
        cwd: repoRoot,
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
      await rm(dir, { recursive: true, force: true });
      await rename(out, dir);
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
  return JSON.parse(await readFile(file, 'utf8')) as CfnTemplate;
}

/** The directory with the packaged zips of the last `packagedTemplate()` call. */
export async function packageDir(): Promise<string> {
  await packagedTemplate();
  return path.join(repoRoot, '.cache', 'template', await inputsHash());
}

export const resourcesOfType = (t: CfnTemplate, type: string): [string, CfnResource][] =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);
