/**
 * The waiting machinery every blocking call shares (src/wait.ts, src/notifier.ts), on a real
 * redis-server: a waiter sleeps until a notice says its object changed, and retries only then.
 */
import { describe, expect, it } from 'vitest';
import type { RedisBackend } from '@ipcx/adapter-redis';
import { testBackend } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the scripts `backend` runs on its command connection (each still runs for real). */
function countScripts(backend: RedisBackend): { readonly count: number } {
  const connection = backend.connection;
  const run = connection.run.bind(connection);
  const counter = { count: 0 };
  connection.run = (...args: Parameters<typeof run>) => {
    counter.count++;
    return run(...args);
  };
  return counter;
}

describe('redis waits', () => {
  it('a waiter woken alone by a post whose unit another client took first sleeps again: one retry per notice, no retry loop', async () => {
    const waiterSide = testBackend('wait-again');
    const other = testBackend('wait-again-other', { prefix: waiterSide.connection.prefix });
    const name = `/wait-again-${process.pid}`;
    const mine = await waiterSide.posixSemaphores.open(name, { create: true, initial: 0 });
    const theirs = await other.posixSemaphores.open(name);
    try {
      const scripts = countScripts(waiterSide);
      const aborter = new AbortController();
      const waiting = mine.wait({ signal: aborter.signal });
      waiting.catch(() => undefined);
      // Asleep: its attempt answered BLOCK and it holds the semaphore's notice channel.
      for (let tries = 0; tries < 400 && waiterSide.connection.notifier.subscribedChannels().length === 0; tries++) await sleep(5);
      await sleep(50);
      const asleep = scripts.count;
      // Five units, each taken back at once by the other client: each notice wakes the waiter
      // alone, its retry finds nothing, and it must sleep again rather than wake itself.
      for (let i = 0; i < 5; i++) {
        theirs.post();
        expect(theirs.tryWait()).toBe(true);
        await sleep(20);
      }
      await sleep(500);
      expect(scripts.count - asleep).toBeLessThanOrEqual(5);
      // And it still wakes for a unit it can take.
      theirs.post();
      await waiting;
      expect(theirs.value()).toBe(0);
    } finally {
      await mine.close();
      await theirs.close();
      await waiterSide.posixSemaphores.unlink(name);
    }
  });
});
