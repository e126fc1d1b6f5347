import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/*
 * The real-LVM VM suite (`npm run test:lvm`), kept out of plain `npm test`: its files end in .vm.ts, which the main
 * config's test/**\/*.test.ts does not match. Two scenarios boot at a time: TCG keeps about one host core busy per
 * VM, and the crash and rollback scenarios spend part of their time waiting on throttled disks.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../..', import.meta.url)),
    include: ['test/lvm/vm/**/*.vm.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    maxConcurrency: 2,
    pool: 'forks',
    reporters: ['default'],
  },
});
