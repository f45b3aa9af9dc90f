/**
 * A Redis Cluster of three masters (`redis-cli --cluster create`): every key of one object hashes
 * to one slot, objects spread over the shards, scripts stay atomic, and waits are woken across
 * clients (notices published from scripts reach every node's subscribers).
 */
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRedisBackend, type RedisBackend } from '@ipcx/adapter-redis';
import { IPC_PRIVATE, type MessageQueue } from '@ipcx/core';
import { uniquePrefix } from './helpers.js';
import { startCluster, type TestCluster } from './redis-server.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

function clusterBackend(prefix: string): RedisBackend {
  const backend = createRedisBackend({ connection: { cluster: [{ host: '127.0.0.1', port: cluster.ports[0]! }] }, prefix, leaseMs: 1500 });
  onTestFinished(() => backend.close());
  return backend;
}

describe('redis cluster', () => {
  it('keeps each object in one slot, spreads objects over the three masters, and wakes waiters of another client', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('cluster');
    const a = clusterBackend(prefix);
    const b = clusterBackend(prefix);
    const queues: MessageQueue[] = [];
    for (let key = 1; key <= 12; key++) queues.push(await a.messageQueues.open(0x7000 + key, { create: true, exclusive: true }));
    queues.push(await a.messageQueues.open(IPC_PRIVATE));
    const sets = [await a.semaphores.open('private', { size: 2 }), await a.semaphores.open(0x7100, { size: 1, create: true })];
    const client = a.connection.client as Cluster;
    // Every key of one object is in one slot; the objects use more than one master.
    for (const queue of queues) await queue.send(3, 'x');
    const keys: string[] = [];
    for (const node of client.nodes('master')) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `{${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found.map((k) => `${node.options.port} ${k}`));
      } while (cursor !== '0');
    }
    const slotsByObject = new Map<string, Set<string>>();
    for (const entry of keys) {
      const [port, key] = entry.split(' ') as [string, string];
      const tag = /^\{[^}]+\}/.exec(key)![0];
      const slot = String(await client.cluster('KEYSLOT', key));
      slotsByObject.set(tag, (slotsByObject.get(tag) ?? new Set()).add(`${port}/${slot}`));
    }
    for (const [tag, slots] of slotsByObject) expect([tag, slots.size]).toEqual([tag, 1]);
    const ports = new Set([...slotsByObject.values()].map((slots) => [...slots][0]!.split('/')[0]));
    expect(ports.size).toBeGreaterThan(1);
    // Cross-client wake-ups on every queue, whatever shard it lives on.
    const revived = await Promise.all(queues.map((queue) => b.revive((queue as unknown as { [k: symbol]: () => never })[Symbol.for('ipcx.transfer')]!())));
    const pending = revived.map((queue) => (queue as MessageQueue).receive({ type: 9, timeout: 20_000 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const queue of queues) await queue.send(9, `for ${queue.id}`);
    const messages = await Promise.all(pending);
    expect(messages.map((m) => Buffer.from(m.data).toString())).toEqual(queues.map((q) => `for ${q.id}`));
    // Semaphores: an all-or-nothing operation and a synchronous read, on the cluster.
    const [set] = sets;
    const waiting = set!.operate([{ index: 0, delta: -1 }, { index: 1, delta: -1, undo: true }]);
    set!.post(0);
    set!.post(1);
    await waiting;
    expect(set!.values()).toEqual([0, 0]);
    expect(await a.diagnostics.kernelObjects()).toHaveLength(queues.length + sets.length);
    for (const queue of queues) {
      await queue.remove();
      await queue.close();
    }
    for (const queue of revived) await (queue as MessageQueue).close();
    for (const s of sets) {
      await s.remove();
      await s.close();
    }
    expect(await a.diagnostics.kernelObjects()).toEqual([]);
  });
});
