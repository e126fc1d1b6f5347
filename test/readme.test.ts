import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromYaml } from './support/config';
import { repoRoot } from './support/shared-data';

// The README is the first thing users run from: its commands and its configuration example must stay true.
describe('README', async () => {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };

  it('shows the quick start and test commands, and they exist', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    for (const [, script] of readme.matchAll(/npm run ([a-z:-]+)/g)) expect(pkg.scripts).toHaveProperty(script!);
  });

  it('runs in CI exactly the test command it documents', async () => {
    const ci = await readFile(path.join(repoRoot, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^npm test$/m);
    expect(ci).toMatch(/^npm ci\b/m);
  });

  it('has a configuration example that vigil accepts', () => {
    const block = readme.split('## Configuration')[1]?.match(/```yaml\n([\s\S]*?)```/)?.[1];
    expect(block).toBeDefined();
    expect(() => configFromYaml(block!, 'README.md')).not.toThrow();
  });

  it('links only to files that exist', async () => {
    for (const [, target] of readme.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g)) {
      if (/^https?:/.test(target!)) continue;
      await expect(readFile(path.join(repoRoot, target!)), target).resolves.toBeDefined();
    }
  });
});
