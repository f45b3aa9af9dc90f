/**
 * The multiprocessing suites on the Redis backend: queues over its System V message queues,
 * locks, semaphores, events, conditions and barriers over its semaphore sets (no shared memory,
 * no pipes: what needs them is skipped by capability and must fail with ENOSYS). Children are
 * local processes whose backend connects to the same server (`processes.spawn`). The server is a
 * real redis-server started for this file (scripts/redis.mjs installs Debian's package when
 * missing and allowed, else fails naming it).
 */
import { afterAll, vi } from 'vitest';
import { createRedisBackend } from '@ipcx/adapter-redis';
// @ts-expect-error: a plain .mjs script shared with the command line, without type declarations.
import { startRedis } from '../../../scripts/redis.mjs';
import { registerMultiprocessingSuites } from '@ipcx/testkit/multiprocessing';

// Each Redis child holds connections and a bridge thread of its own: the 16-process stress takes
// minutes on a busy two-core machine (213 s measured at load 40), not the project's 60 s.
vi.setConfig({ testTimeout: 300_000 });

const server = (await startRedis()) as { port: number; stop(): Promise<void> };
const backend = createRedisBackend({ connection: { host: '127.0.0.1', port: server.port }, prefix: `mp-${process.pid}` });
afterAll(async () => {
  await backend.close();
  await server.stop();
});

registerMultiprocessingSuites(backend);
