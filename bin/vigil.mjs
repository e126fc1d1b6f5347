#!/usr/bin/env node
// The CLI is written in TypeScript; tsx's loader compiles it on the fly (cached), so `npm ci` needs no build step
// and the CLI always runs the same source as the tests.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../shared/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
