/**
 * Faults, each on a redis-server of its own:
 * - the server is killed (SIGKILL) while calls wait: every pending wait rejects with ECONNRESET
 *   within a bounded time, later calls too, and nothing hangs;
 * - with AOF and `appendfsync always`, a server killed in the middle of a stream of sends and
 *   receives and restarted has lost no acknowledged message and delivers none twice;
 * - a client that is not a child of anyone here is SIGKILLed while holding semaphore units with
 *   SEM_UNDO: a live client restores them once the dead client's lease has run out, exactly once;
 * - the link is cut after the server ran a script and before its reply: the call fails with
 *   ECONNRESET and is not run again (no message sent twice, none lost to a receive).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisBackend, type RedisBackend, type RedisBackendOptions } from '@ipcx/adapter-redis';
import { IPC_PRIVATE, isIpcError } from '@ipcx/core';
import { startCuttingProxy } from './cutting-proxy.js';
import { redisPort, uniquePrefix } from './helpers.js';
import { startRedis, type TestServer } from './redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function server(extra: string[] = []): Promise<TestServer> {
  const started = await startRedis({ extra });
  onTestFinished(() => started.stop());
  return started;
}

function backendOn(port: number, options: Partial<RedisBackendOptions> = {}): RedisBackend {
  const backend = createRedisBackend({ connection: { host: '127.0.0.1', port }, prefix: uniquePrefix('faults'), ...options });
  onTestFinished(() => backend.close());
  return backend;
}

describe('redis faults', () => {
  it('a link cut after the server ran a script and before its reply fails the call with ECONNRESET and never runs it twice', async () => {
    const proxy = await startCuttingProxy(redisPort());
    onTestFinished(() => proxy.close());
    const backend = backendOn(proxy.port);
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    try {
      const text = (data: Uint8Array) => Buffer.from(data).toString();
      // A send: at most once (the caller cannot know whether it went; it must not go twice).
      proxy.cutAfter('sent-once');
      await expect(queue.send(1, 'sent-once')).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(proxy.cuts).toBe(1);
      expect((await queue.stat()).messages).toBe(1);
      expect(text((await queue.receive({ nowait: true })).data)).toBe('sent-once');
      // A receive: its message is not lost (run again, the receive took the next message under
      // the first one's claim): the handle's next call puts it back at its place.
      for (const data of ['first', 'second', 'third']) await queue.send(1, data);
      proxy.cutAfter(`${backend.connection.clientId}:`);
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(proxy.cuts).toBe(2);
      const drained: string[] = [];
      for (;;) {
        const message = await queue.receive({ nowait: true }).catch((error: unknown) => (isIpcError(error, 'ENOMSG') ? undefined : Promise.reject(error)));
        if (message === undefined) break;
        drained.push(text(message.data));
      }
      expect(drained).toEqual(['first', 'second', 'third']);
    } finally {
      await queue.remove().catch(() => undefined);
    }
  });

  it('rejects pending waits with ECONNRESET within a bounded time when redis-server is killed, and later calls too', async () => {
    const redis = await server();
    const backend = backendOn(redis.port, { syncTimeoutMs: 2000 });
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    const set = await backend.semaphores.open('private', { size: 1 });
    const waits = [queue.receive(), queue.receive({ type: 5 }), set.wait(0), set.waitForZero(0).then(() => 'resolved')];
    set.setValue(0, 0);
    // The wait for zero completes (the value is 0). Awaited before the kill: its first call waits
    // for the lease thread's first renewal, which on a loaded machine can outlast the sleep below,
    // and a call still pending at the kill would reject with nobody listening.
    await expect(waits.pop()).resolves.toBe('resolved');
    await sleep(200);
    const killed = performance.now();
    process.kill(redis.pid, 'SIGKILL');
    const outcomes = await Promise.all(waits.map((wait) => wait.then(() => 'resolved', (error: unknown) => ({ code: (error as { code?: string }).code, ms: performance.now() - killed }))));
    for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 'ECONNRESET' });
    const slowest = Math.max(...outcomes.map((outcome) => (outcome as { ms: number }).ms));
    console.log(`[faults] ${outcomes.length} pending waits rejected with ECONNRESET within ${slowest.toFixed(0)} ms of the kill`);
    expect(slowest).toBeLessThan(5000);
    // A new call fails too, in bounded time, instead of hanging while the server is away.
    const started = performance.now();
    await expect(queue.send(1, 'x')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(() => set.value(0)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(ECONNRESET|ETIMEDOUT)$/) }));
    console.log(`[faults] a send and a sync read failed within ${(performance.now() - started).toFixed(0)} ms while the server was down`);
    await queue.close();
    await set.close();
  });

  it('loses no acknowledged message and delivers none twice across a kill and restart with appendfsync always', { timeout: 60_000 }, async () => {
    const aof = ['--appendonly', 'yes', '--appendfsync', 'always'];
    const redis = await server(aof);
    const prefix = uniquePrefix('aof');
    const backend = backendOn(redis.port, { prefix });
    const queue = await backend.messageQueues.open(0x4a0f, { create: true });
    await queue.set({ maxBytes: 1 << 20 });
    const acknowledged: number[] = [];
    const received: number[] = [];
    let stop = false;
    const producer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await queue.send(1, String(i));
          acknowledged.push(i);
        } catch (error) {
          if (!isIpcError(error, 'ECONNRESET')) throw error;
          return;
        }
      }
    })();
    const consumer = (async () => {
      while (!stop) {
        try {
          received.push(Number(Buffer.from((await queue.receive()).data).toString()));
        } catch (error) {
          if (!isIpcError(error, 'ECONNRESET')) throw error;
          return;
        }
      }
    })();
    await sleep(700);
    process.kill(redis.pid, 'SIGKILL');
    await Promise.all([producer, consumer]);
    stop = true;
    // Restart on the same port and folder: the AOF brings the queue back.
    const restarted = await startRedis({ extra: aof, dir: redis.dir, port: redis.port });
    onTestFinished(() => restarted.stop({ keepDir: true }));
    // The same handle drains: a message whose receive reply died with the server is put back.
    const left: number[] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        left.push(Number(Buffer.from((await queue.receive({ nowait: true })).data).toString()));
      } catch (error) {
        if (isIpcError(error, 'ENOMSG')) break;
        // The client is still reconnecting.
        if (!isIpcError(error, 'ECONNRESET') || Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
    const delivered = [...received, ...left];
    console.log(`[faults] AOF always: ${acknowledged.length} sends acknowledged before the kill, ${received.length} received before it, ${left.length} after the restart`);
    expect(acknowledged.length).toBeGreaterThan(10);
    // Nothing twice, nothing acknowledged missing, nothing that was never sent.
    expect(new Set(delivered).size).toBe(delivered.length);
    for (const value of acknowledged) expect(delivered).toContain(value);
    const attempted = (acknowledged.at(-1) ?? -1) + 1;
    for (const value of delivered) expect(value).toBeLessThanOrEqual(attempted);
    await queue.remove();
    await queue.close();
  });

  it('completes receives through the inbox connection when the server has lost its scripts (SCRIPT FLUSH, as after a restart), and leaves nothing in the inbox', { timeout: 30_000 }, async () => {
    const redis = await server();
    const backend = backendOn(redis.port);
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    const admin = backend.connection.client;
    const inboxKey = backend.connection.inboxKey(backend.connection.clientId);
    for (let round = 0; round < 3; round++) {
      // A message that is there: the receive's EVALSHA on the inbox connection gets NOSCRIPT, the
      // pop behind it is woken and the call runs again on the command connection.
      await queue.send(1, `there ${round}`);
      await admin.script('FLUSH');
      const there = await queue.receive();
      expect([there.type, Buffer.from(there.data).toString()]).toEqual([1, `there ${round}`]);
      // A receive that has to wait: registered by the call run again, served by a later send.
      await admin.script('FLUSH');
      const waiting = queue.receive({ type: 2 });
      const tag = `{${backend.connection.prefix}:mq:i${queue.id}}`;
      while ((await admin.hlen(`${tag}:waiters`)) === 0) await sleep(5);
      await queue.send(2, `waited ${round}`);
      const waited = await waiting;
      expect([waited.type, Buffer.from(waited.data).toString()]).toEqual([2, `waited ${round}`]);
      expect(await admin.llen(inboxKey)).toBe(0);
    }
    await queue.remove();
    await queue.close();
  });

  it('restores the SEM_UNDO units of a SIGKILLed client once its lease has run out, exactly once, by whichever live client notices', { timeout: 60_000 }, async () => {
    const redis = await server();
    const prefix = uniquePrefix('lease');
    const leaseMs = 1000;
    const first = backendOn(redis.port, { prefix, leaseMs });
    const second = backendOn(redis.port, { prefix, leaseMs });
    const key = 0x1e45e000 | (process.pid & 0xfff);
    const set = await first.semaphores.open(key, { size: 2, create: true, exclusive: true });
    set.setValues([3, 1]);
    // Two live clients renew their leases; either may reap the dead one.
    await first.connection.startLease();
    await second.connection.startLease();
    const holder = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/undo-holder.mjs', import.meta.url)), String(redis.port), prefix, String(key), String(leaseMs)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    onTestFinished(() => {
      holder.kill('SIGKILL');
    });
    const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
    expect(line.toString()).toBe('taken\n');
    expect(set.values()).toEqual([1, 0]);
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const killed = performance.now();
    while (set.values().join() !== '3,1') {
      expect(performance.now() - killed).toBeLessThan(leaseMs * 5);
      await sleep(25);
    }
    console.log(`[faults] undo units of a SIGKILLed client restored ${(performance.now() - killed).toFixed(0)} ms after the kill (lease ${leaseMs} ms)`);
    // Exactly once: several more renewals of both clients change nothing.
    await sleep(leaseMs * 2);
    expect(set.values()).toEqual([3, 1]);
    await set.remove();
    await set.close();
  });
});
