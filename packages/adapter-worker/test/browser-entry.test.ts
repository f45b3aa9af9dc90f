/**
 * The browser entry's promise: from `@ipcx/adapter-worker`'s `browser` condition, and through
 * `@ipcx/core`, no module imports a `node:` module, a Node builtin or anything but these two
 * packages; the Node entry is the one that reaches `worker_threads`. Walks the built modules'
 * static and literal dynamic imports, from the entry and from the child bootstrap it starts workers with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const workerPackage = JSON.parse(readFileSync(path.join(root, 'packages/adapter-worker/package.json'), 'utf8')) as {
  exports: Record<string, { browser?: { default: string }; default: string } | string | null>;
};
const packages: Record<string, string> = {
  '@ipcx/core': path.join(root, 'packages/core/dist/index.js'),
  '@ipcx/core/backend': path.join(root, 'packages/core/dist/backend/index.js'),
  '@ipcx/adapter-worker': path.join(root, 'packages/adapter-worker/dist/browser.js'),
};
const importPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\1/g;

/** Every module reachable from `entry`, with the specifiers each imports. */
function reachable(...entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    const specifiers = [...code.matchAll(importPattern)].map((match) => match[2]!);
    seen.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) queue.push(path.resolve(path.dirname(file), specifier));
      else if (specifier in packages) queue.push(packages[specifier]!);
    }
  }
  return seen;
}

describe('browser entry', () => {
  it('is the package\'s browser condition and reaches no node: module and no other package', () => {
    const main = workerPackage.exports['.'] as { browser: { default: string } };
    expect(main.browser.default).toBe('./dist/browser.js');
    expect((workerPackage.exports['./browser'] as unknown as { default: string }).default).toBe('./dist/browser.js');
    // With the module the browser host starts children with (referenced by URL, not imported).
    const modules = reachable(packages['@ipcx/adapter-worker']!, path.join(root, 'packages/adapter-worker/dist/child-main-browser.js'));
    expect(modules.size).toBeGreaterThan(10);
    const builtins = new Set(createRequire(import.meta.url)('node:module').builtinModules as string[]);
    const offending = [...modules].flatMap(([file, specifiers]) =>
      specifiers
        .filter((s) => s.startsWith('node:') || builtins.has(s) || (!s.startsWith('.') && !(s in packages)))
        .map((s) => `${path.relative(root, file)} imports ${s}`),
    );
    expect(offending).toEqual([]);
    // The browser child bootstrap is part of it; the Node one is not.
    const files = [...modules.keys()].map((file) => path.relative(root, file));
    expect(files).toContain('packages/adapter-worker/dist/host-browser.js');
    expect(files).not.toContain('packages/adapter-worker/dist/host-node.js');
  });

  it('the Node entry does reach worker_threads (the walk can see a node: import)', () => {
    const modules = reachable(path.join(root, 'packages/adapter-worker/dist/index.js'));
    expect([...modules.values()].flat()).toContain('node:worker_threads');
  });
});
