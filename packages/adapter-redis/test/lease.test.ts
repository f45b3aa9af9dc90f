/**
 * The client lease is renewed by a worker thread with a connection of its own (src/lease.ts):
 * - a client whose main thread is blocked (a synchronous busy loop in a child process) for several
 *   lease periods keeps its SEM_UNDO units, and still loses them once SIGKILLed; it blocks right
 *   after its first operation with undo, which resolves only once the thread has renewed the
 *   lease (on a busy machine a new thread took tens of seconds to start, and a live client whose
 *   main thread blocked meanwhile was reaped: its units given back, its inbox's messages lost);
 * - a client reaped while alive (stopped for longer than its lease) learns it at its next renewal:
 *   its waiting receives fail with ECONNRESET, and the undo it takes afterwards is found again;
 * - `close()` ends the thread and its connection, and nothing of the client is left on the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisBackend, type RedisBackend } from '@ipcx/adapter-redis';
import { redisPort, testBackend, uniquePrefix } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The lines a child writes on stdout, and a way to wait for the next one. */
function lines(child: ChildProcess): { next(): Promise<string>; received: string[] } {
  const received: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else received.push(line);
    }
  });
  return {
    received,
    next: () => (received.length > 0 ? Promise.resolve(received.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

/** Connection names of client `clientId` (of `prefix`) on the server. */
async function connectionsOf(admin: RedisBackend, prefix: string, clientId: string): Promise<string[]> {
  return String(await admin.connection.client.client('LIST'))
    .split('\n')
    .map((line) => /name=(\S+)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(`${prefix}:${clientId}:`))
    .sort();
}

/**
 * Spawns `fixtures/busy-holder.mjs` (`mode` as its 6th argument) against a set of two starting at
 * `initial`, checks that the units it takes with undo (`held`) stay taken for as long as its main
 * thread is blocked (four lease periods) and two more lease periods after it wakes up, then
 * SIGKILLs it and checks that they come back (`initial` again) after its lease, exactly once.
 */
async function blockedHolderKeepsItsUnits(mode: 'thread-first' | 'sync-post', initial: [number, number], held: string): Promise<void> {
  const leaseMs = 1000;
  const busyMs = leaseMs * 4;
  const prefix = uniquePrefix('lease-busy');
  const live = testBackend('unused', { prefix, leaseMs });
  const key = 0x1e45f000 | (process.pid & 0xfff);
  const set = await live.semaphores.open(key, { size: 2, create: true, exclusive: true });
  onTestFinished(async () => {
    await set.remove().catch(() => undefined);
    await set.close();
  });
  set.setValues(initial);
  // A live client renews its lease and reaps whoever's lease runs out.
  await live.connection.startLease();
  const holder = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/busy-holder.mjs', import.meta.url)), String(redisPort()), prefix, String(key), String(leaseMs), String(busyMs), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  onTestFinished(() => {
    holder.kill('SIGKILL');
  });
  const out = lines(holder);
  // The operation resolved after the renewal thread's first renewal, not before.
  if (mode === 'thread-first') expect(await out.next()).toBe('thread true');
  expect(await out.next()).toBe('taken');
  const blockedFrom = performance.now();
  // While the holder's main thread spins, its units stay taken: sampled until it wakes up.
  const samples: string[] = [];
  let awake: string | undefined;
  void out.next().then((line) => (awake = line));
  while (awake === undefined) {
    samples.push(set.values().join());
    await sleep(50);
  }
  const blockedFor = performance.now() - blockedFrom;
  expect(awake).toBe('awake true');
  // It really was blocked for several lease periods, and nothing was given back meanwhile.
  expect(blockedFor).toBeGreaterThanOrEqual(busyMs - 100);
  expect(samples.length).toBeGreaterThan(10);
  expect(new Set(samples)).toEqual(new Set([held]));
  // Awake again and alive: still its units, over two more lease periods.
  await sleep(leaseMs * 2);
  expect(set.values().join()).toBe(held);
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  const killed = performance.now();
  while (set.values().join() !== initial.join()) {
    expect(performance.now() - killed).toBeLessThan(leaseMs * 5);
    await sleep(25);
  }
  // Not before its lease ran out, and exactly once.
  expect(performance.now() - killed).toBeGreaterThanOrEqual(leaseMs / 3);
  await sleep(leaseMs * 2);
  expect(set.values()).toEqual(initial);
}

describe('redis lease renewal thread', () => {
  it('keeps the SEM_UNDO units of a client whose main thread is blocked for longer than its lease right after its first operation with undo (which waited for the renewal thread), and restores them once it is SIGKILLed', { timeout: 60_000 }, async () => {
    await blockedHolderKeepsItsUnits('thread-first', [3, 1], '1,0');
  });

  it('keeps the undo of a client whose first operation is a synchronous post with undo (which cannot wait for the renewal thread) while its main thread is blocked for longer than its lease, and applies it once it is SIGKILLed', { timeout: 60_000 }, async () => {
    await blockedHolderKeepsItsUnits('sync-post', [0, 0], '1,0');
  });

  it('a client reaped while alive (stopped for longer than its lease) learns it: its waiting receive fails with ECONNRESET, and the undo it takes afterwards is applied when it dies', { timeout: 60_000 }, async () => {
    const leaseMs = 1000;
    const prefix = uniquePrefix('lease-stalled');
    const live = testBackend('unused', { prefix, leaseMs });
    const setKey = 0x1e460000 | (process.pid & 0xfff);
    const queueKey = 0x1e470000 | (process.pid & 0xfff);
    const set = await live.semaphores.open(setKey, { size: 1, create: true, exclusive: true });
    const queue = await live.messageQueues.open(queueKey, { create: true, exclusive: true });
    onTestFinished(async () => {
      for (const object of [set, queue]) await object.remove().catch(() => undefined);
      await set.close();
      await queue.close();
    });
    set.setValue(0, 2);
    await live.connection.startLease();
    const holder = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/stalled-holder.mjs', import.meta.url)), String(redisPort()), prefix, String(setKey), String(queueKey), String(leaseMs)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    onTestFinished(() => {
      holder.kill('SIGKILL');
    });
    const out = lines(holder);
    const command = async (line: string): Promise<string> => {
      holder.stdin!.write(`${line}\n`);
      return out.next();
    };
    expect(await command('take')).toBe('taken');
    expect(await command('receive')).toBe('receiving');
    expect(set.value(0)).toBe(1);
    // Registered on the server before it stops.
    const waiters = `{${prefix}:mq:k${queueKey}}:waiters`;
    for (let tries = 0; tries < 400 && (await live.connection.client.hlen(waiters)) === 0; tries++) await sleep(10);
    expect(await live.connection.client.hlen(waiters)).toBe(1);
    // Stopped for three lease periods: the live client reaps it (the unit comes back, as documented).
    holder.kill('SIGSTOP');
    const stoppedAt = performance.now();
    while (set.value(0) !== 2) {
      expect(performance.now() - stoppedAt).toBeLessThan(leaseMs * 10);
      await sleep(25);
    }
    await sleep(leaseMs);
    holder.kill('SIGCONT');
    // Its next renewal tells it: the receive whose registration was dropped fails instead of waiting forever.
    expect(await out.next()).toBe('rejected ECONNRESET');
    expect(await command('reaped')).toBe('reaped 1');
    // A message sent now stays for someone else: nothing is registered for the dead receive.
    await queue.send(1, 'kept');
    expect((await queue.stat()).messages).toBe(1);
    // It goes on with a fresh lease, and the undo it takes now is applied when it dies.
    expect(await command('take')).toBe('taken');
    expect(set.value(0)).toBe(1);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const killedAt = performance.now();
    while (set.value(0) !== 2) {
      expect(performance.now() - killedAt).toBeLessThan(leaseMs * 10);
      await sleep(25);
    }
    await sleep(leaseMs * 2);
    expect(set.value(0)).toBe(2);
  });

  it('ends the renewal thread and its connection with close(), leaving no lease on the server', { timeout: 30_000 }, async () => {
    const admin = testBackend('lease-admin');
    const prefix = uniquePrefix('lease-close');
    const backend = createRedisBackend({ connection: { host: '127.0.0.1', port: redisPort() }, prefix, leaseMs: 900 });
    onTestFinished(() => backend.close());
    const id = backend.connection.clientId;
    await backend.connection.startLease();
    await backend.connection.leaseThreadStarted();
    expect(await connectionsOf(admin, prefix, id)).toContain(`${prefix}:${id}:lease`);
    // The thread renews on its own: the lease end moves forward with no call from this thread.
    const first = Number(await admin.connection.client.zscore(`${prefix}:clients`, id));
    await sleep(700);
    expect(Number(await admin.connection.client.zscore(`${prefix}:clients`, id))).toBeGreaterThan(first);
    await backend.close();
    // The server notices closed sockets on its next turn: a moment, bounded.
    for (let tries = 0; tries < 100 && (await connectionsOf(admin, prefix, id)).length > 0; tries++) await sleep(20);
    expect(await connectionsOf(admin, prefix, id)).toEqual([]);
    expect(await admin.connection.client.zscore(`${prefix}:clients`, id)).toBeNull();
    // And nothing renews it again afterwards.
    await sleep(700);
    expect(await admin.connection.client.zscore(`${prefix}:clients`, id)).toBeNull();
  });
});
