import { playwright } from '@vitest/browser-playwright';
import type { Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { chromiumFlags, findChromium } from './scripts/chromium.mjs';

// Shared WebAssembly memory and SharedArrayBuffer exist only on a cross-origin isolated page:
// every response of the browser project's server (the runner's pages, the tests, the workers'
// modules) carries COOP + COEP. Added before Vite's own middlewares.
const crossOriginIsolation: Plugin = {
  name: 'ipcx-cross-origin-isolation',
  enforce: 'pre',
  configureServer(server) {
    server.middlewares.use((_request, response, next) => {
      response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      next();
    });
  },
};

// Vitest rewrites every dynamic import in served modules to go through its page runner
// (`__vitest_browser_runner__.wrapDynamicImport`), which a Web Worker does not have: core's
// `runChildMain` imports the child's entry that way. The worker backend's browser child bootstrap
// gets a pass-through runner, so children load their entry as they do outside the tests.
const workerDynamicImports: Plugin = {
  name: 'ipcx-worker-dynamic-imports',
  transform(code, id) {
    if (!id.endsWith('/adapter-worker/dist/child-main-browser.js')) return undefined;
    return `globalThis.__vitest_browser_runner__ ??= { wrapDynamicImport: (load) => load() };\n${code}`;
  },
};

// Debian's chromium (scripts/chromium.mjs; `npm test` installs it first or fails naming the
// package). A missing one still fails loudly here: Playwright reports the executable it could not find.
const chromium = findChromium() ?? '/usr/bin/chromium (missing: install the Debian package chromium)';

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
          exclude: ['packages/adapter-worker/test/chromium/**'],
          // Projects do not inherit the root's timeouts; workers start slowly on a busy machine.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // The worker backend in real headless Chromium (Debian's), driven by Playwright: the
        // tests, the testkit's suites and the children run as page and Web Worker modules.
        plugins: [crossOriginIsolation, workerDynamicImports],
        // Bundled up front: a dependency found mid-run makes Vite reload the page under the tests.
        optimizeDeps: { include: ['@ipcx/testkit > fast-check'] },
        resolve: {
          alias: [{ find: /^node:(child_process|events|fs|fs\/promises|os|path|stream|stream\/promises|url|util)$/, replacement: fileURLToPath(new URL('./packages/adapter-worker/test/chromium/node-builtins.ts', import.meta.url)) }],
        },
        test: {
          name: 'chromium',
          include: ['packages/adapter-worker/test/chromium/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: chromium, args: chromiumFlags } }),
            instances: [{ browser: 'chromium' }],
          },
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
          name: 'demo',
          include: ['demo/test/**/*.test.ts'],
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
