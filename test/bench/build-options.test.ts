import { execFileSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions, functionSpecs } from '../../bench/cold-start';
import { repoRoot } from '../support/shared-data';

// The Lambda bundles are minified (serverless.yml custom.esbuild). These run a bundle built with exactly those
// options and check what minification must not change.
async function runBundled(source: string): Promise<string> {
  const options = esbuildOptions(functionSpecs().esbuildConfig);
  const result = await esbuild.build({
    ...options,
    stdin: { contents: source, resolveDir: repoRoot, loader: 'ts' },
    write: false,
    outfile: 'bundle.mjs',
  });
  // The program on stdin: a bundle with zod is larger than an argument may be.
  return execFileSync(process.execPath, ['--input-type=module'], { input: result.outputFiles[0]!.text, encoding: 'utf8' }).trim();
}

describe('Lambda build options', () => {
  it("keep vigil's error names (Retry/Catch and batch handlers match on them)", async () => {
    const out = await runBundled(
      "import { ValidationError, IntegrityError, ConfigError, TransientError, PreconditionError } from './shared/core/errors';" +
        'console.log([ValidationError, IntegrityError, ConfigError, TransientError, PreconditionError].map((E) => new E("x").name).join(","));',
    );
    expect(out).toBe('ValidationError,IntegrityError,ConfigError,TransientError,PreconditionError');
  });

  it('reduce zod to its English messages, which still work', async () => {
    const out = await runBundled(
      "import { z } from 'zod'; const r = z.object({ a: z.string() }).safeParse({ a: 1 });" +
        'console.log(JSON.stringify({ locales: Object.keys(z.locales), core: Object.keys(z.core.locales), message: r.success ? "" : r.error.issues[0].message }));',
    );
    const parsed = JSON.parse(out) as { locales: string[]; core: string[]; message: string };
    expect(parsed.locales).toEqual(['en']);
    expect(parsed.core).toEqual(['en']);
    expect(parsed.message).toMatch(/expected string, received number/i);
  });

  it('bundle no source map', () => {
    expect(functionSpecs().esbuildConfig.sourcemap).toBe(false);
  });
});
