// esbuild plugins for the Lambda bundles (serverless.yml custom.esbuild.plugins). CommonJS because
// serverless-esbuild loads this file with require().
/* global require, module */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const path = require('node:path');

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

module.exports = [zodEnglishOnly];
