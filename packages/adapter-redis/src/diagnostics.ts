/** Leak checks: the backend's open handles, and the objects its prefix has on the server. */
import { Cluster, type Redis } from 'ioredis';
import type { Diagnostics } from '@ipcx/core';
import type { RedisConnection } from './connection.js';
import type { HandleRegistry } from './handle.js';

/** Every key matching `pattern` on every master. */
async function scanAll(client: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes: Redis[] = client instanceof Cluster ? client.nodes('master') : [client as Redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

/** The diagnostics of one backend. */
export function redisDiagnostics(connection: RedisConnection, registry: HandleRegistry): Diagnostics {
  const p = connection.prefix;
  return {
    openObjects: () => registry.describe(),
    async kernelObjects() {
      const objects: string[] = [];
      for (const [kind, pattern, suffix] of [
        ['message queue', `{${p}:mq:*}:meta`, ':meta'],
        ['semaphore set', `{${p}:sem:*}:meta`, ':meta'],
        ['posix message queue', `{${p}:pmq:*}:name`, ':name'],
        ['posix semaphore', `{${p}:psem:*}:name`, ':name'],
      ] as const) {
        for (const key of await scanAll(connection.client, pattern)) objects.push(`${kind} ${key.slice(0, -suffix.length)}`);
      }
      return objects.sort();
    },
  };
}
