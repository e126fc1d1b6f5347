// esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins). CommonJS because
// serverless-esbuild loads this file with require().
/* global require, module */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const path = require('node:path');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { readFile } = require('node:fs/promises');

/**
 * zod re-exports every one of its ~50 message locales as `z.locales` (about 200 KB minified, a sixth of a bundle),
 * and a namespace re-export cannot be tree-shaken. vigil never switches locale (zod's default, English, is imported
 * by zod itself from locales/en.js), so `z.locales` (and `z.core.locales`) is reduced to `{ en }`. Measured by bench/cold-start.ts: about
 * 40 KB less per zip and ~10 ms less module init per function. Only zod's own `../locales/index.js` imports are
 * touched; anything else resolves as usual.
 */
const zodEnglishOnly = {
  name: 'zod-locales-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|mini|core)$/.test(args.resolveDir)) return undefined;
      return { path: path.join(args.resolveDir, '..', 'locales', 'index.js'), namespace: 'zod-locales-en' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales-en' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * Every rule module carries inline examples (records that must and must not match, shared/rules/<id>.ts): they are
 * the rule's tests and its documentation (`vigil rules show`, docs/rules.md), and the deployed functions never read
 * them. In the Lambda bundles the `examples` property of each `defineRule({...})` is replaced by empty lists, so the
 * records, the builders they call (exampleRecord, identities …) and the work of building them at module load stay
 * out. TypeScript's own parser finds the property, so any formatting of a rule file is handled; a rule file without
 * it is left alone. Measured by bench/cold-start.ts (bench/README.md).
 */
const ruleExamplesOmitted = {
  name: 'rule-examples-omitted',
  setup(build) {
    // Loaded on first use: serverless-esbuild requires this file for every command.
    let ts;
    build.onLoad({ filter: /[\\/]shared[\\/]rules[\\/][a-z0-9-]+\.ts$/ }, async (args) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ts ??= require('typescript');
      const source = await readFile(args.path, 'utf8');
      return { contents: withoutExamples(ts, source, args.path), loader: 'ts' };
    });
  },
};

/** `source` with the initializer of `examples` in `defineRule({...})` replaced by empty lists. */
function withoutExamples(ts, source, fileName) {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  let range;
  const visit = (node) => {
    if (range) return;
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'defineRule') {
      const [arg] = node.arguments;
      if (arg && ts.isObjectLiteralExpression(arg)) {
        for (const prop of arg.properties) {
          if (ts.isPropertyAssignment(prop) && ts.isIdentifier(prop.name) && prop.name.text === 'examples') {
            range = [prop.initializer.getStart(file), prop.initializer.getEnd()];
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (!range) return source;
  return `${source.slice(0, range[0])}{ match: [], noMatch: [] }${source.slice(range[1])}`;
}

/**
 * Node's built-in modules reached through `require` (the bundle's createRequire banner) rather than ESM `import`.
 * Importing a built-in from ESM builds its module facade, which reads every export, getters included: node:http's
 * lazy `WebSocket`, `MessageEvent` … getters then load all of undici. Measured on Node 22: `import('node:http')`
 * ~30 ms CPU, `require('http')` ~1 ms; the SDK's HTTP handler imports node:http and node:https, so every function
 * paid it at cold start. Each built-in becomes a one-line CommonJS module; esbuild's interop reads its exports only
 * when the code uses them.
 */
const builtinsThroughRequire = {
  name: 'node-builtins-through-require',
  setup(build) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { isBuiltin } = require('node:module');
    build.onResolve({ filter: /^(?:node:)?[a-z_/]+$/ }, (args) => {
      if (args.namespace === 'node-builtin' || !isBuiltin(args.path)) return undefined;
      return { path: args.path.startsWith('node:') ? args.path : `node:${args.path}`, namespace: 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    build.onResolve({ filter: /^node:/, namespace: 'node-builtin' }, (args) => ({ path: args.path, external: true }));
  },
};

module.exports = [zodEnglishOnly, ruleExamplesOmitted, builtinsThroughRequire];
module.exports.withoutExamples = withoutExamples;
