/**
 * What each entry of @ipcx/core exports: the public entry what apps call, the `./backend` subpath
 * the kit for backends (argument checks, cancellation). Read from the built `dist/`, as a user's
 * compiler and runtime see it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');

/** Every name a `.d.ts` file exports, following its `export * from` re-exports. */
function declaredExports(file: string, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(file)) return names;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^export \* from '(\.[^']+)\.js';$/gm)) {
    for (const name of declaredExports(resolve(dirname(file), `${match[1]}.d.ts`), seen)) names.add(name);
  }
  for (const match of text.matchAll(/^export (?:declare )?(?:abstract )?(?:function\*?|const|let|class|interface|type|enum|namespace) (\w+)/gm)) names.add(match[1]!);
  for (const match of text.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
    for (const part of match[1]!.split(',')) {
      const name = part.trim().split(/\s+as\s+/).pop()!.replace(/^type\s+/, '');
      if (name) names.add(name);
    }
  }
  return names;
}

describe('package entries', () => {
  const publicNames = declaredExports(resolve(dist, 'index.d.ts'));
  const backendNames = declaredExports(resolve(dist, 'backend/index.d.ts'));

  it("the public entry's .d.ts declares no check* function (argument checks are on @ipcx/core/backend)", () => {
    // The walk sees the interfaces and tokens, so an empty or unread file cannot pass.
    expect(publicNames).toContain('MessageQueues');
    expect(publicNames).toContain('IpcBackend');
    expect([...publicNames].filter((name) => /^check[A-Z]/.test(name))).toEqual([]);
  });

  it('the public entry exports no check* at run time either', async () => {
    const core = await import('@ipcx/core');
    expect(Object.keys(core)).toContain('IpcError');
    expect(Object.keys(core).filter((name) => /^check[A-Z]/.test(name))).toEqual([]);
  });

  it('the backend subpath has the argument checks and the cancellation helpers, and nothing of the public entry', async () => {
    const kit = await import('@ipcx/core/backend');
    for (const name of ['checkInteger', 'checkBytes', 'checkWaitOptions', 'checkMessageQueueSend', 'checkProcessSpawn', 'watchCancellation', 'cancellationError']) {
      expect(backendNames).toContain(name);
      expect(typeof (kit as Record<string, unknown>)[name]).toBe('function');
    }
    expect([...backendNames].filter((name) => publicNames.has(name))).toEqual([]);
  });
});
