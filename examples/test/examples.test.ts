/**
 * The examples' promise: each example module talks to ipcx through `@ipcx/core` only, so the same
 * module runs on every backend. The entry points that name an adapter (the demo runner, the
 * di-app's production main) live in demo/, and the package depends on no adapter.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sources = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

function modules(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? modules(path.join(dir, entry.name), `${prefix}${entry.name}/`) : entry.name.endsWith('.ts') ? [`${prefix}${entry.name}`] : [],
  );
}

describe('example modules', () => {
  const files = modules(sources);

  it('exist for every seed primitive', () => {
    for (const name of ['pipe.ts', 'fifo.ts', 'message-queue.ts', 'semaphore.ts', 'shared-memory.ts', 'socketpair.ts', 'posix-queue.ts', 'posix-semaphore.ts', 'unix-datagram.ts']) {
      expect(files).toContain(name);
    }
  });

  it('the package depends on no adapter (tests may use one: devDependencies)', () => {
    const manifest = JSON.parse(readFileSync(path.join(sources, '../package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith('@ipcx/adapter-'))).toEqual([]);
  });

  // @ipcx/multiprocessing is built on core's interfaces only, so it keeps an example backend-free too.
  it.each(files)('%s imports no adapter, only @ipcx/core or @ipcx/multiprocessing', (file) => {
    const text = readFileSync(path.join(sources, file), 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1]!);
    expect(specifiers.filter((specifier) => specifier.startsWith('@ipcx/') && specifier !== '@ipcx/core' && specifier !== '@ipcx/multiprocessing')).toEqual([]);
  });
});
