import { defineConfig } from 'vitest/config';

// Tests run against the built packages (dist), exactly as users and the children they spawn
// load them: a child process is plain Node and cannot load TypeScript sources.
export default defineConfig({
  test: {
    reporters: ['verbose'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        test: {
          name: 'native',
          include: ['packages/adapter-native/test/**/*.test.ts'],
          // Native suites compare the kernel's objects before and after: one file at a time, so
          // that one file's live objects are not taken for another's leaks.
          fileParallelism: false,
          // Projects do not inherit the root's timeouts.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'worker',
          include: ['packages/adapter-worker/test/**/*.test.ts'],
          // Projects do not inherit the root's timeouts; workers start slowly on a busy machine.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'examples',
          include: ['examples/test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'redis',
          include: ['packages/adapter-redis/test/**/*.test.ts'],
          // One real redis-server for the run (installed from Debian if missing and allowed).
          globalSetup: ['packages/adapter-redis/test/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          // @ipcx/multiprocessing's suites, on both backends (test names carry the backend).
          name: 'multiprocessing',
          include: ['packages/multiprocessing/test/**/*.test.ts'],
          // The native suites make kernel objects: one file at a time, as the native project does.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'bench',
          // The harness's report and progress code only; speed is measured by `npm run bench`.
          include: ['bench/test/**/*.test.mjs'],
        },
      },
      {
        test: {
          name: 'core',
          include: ['packages/core/test/**/*.test.ts'],
        },
      },
    ],
  },
});
