/**
 * The testkit's suites, unchanged, against the Redis backend on the run's real redis-server
 * (test names contain "redis"). Only the suites of its four primitives run (capabilities).
 *
 * The kit's semaphore and POSIX suites let children report through a pipe made with
 * `backend.pipes.create()`. Redis has no pipes (ENOSYS, not in the capabilities), so this file
 * hands the kit the Redis backend with the native backend's `pipes` for those report channels
 * only; the Redis backend's `processes.spawn` passes such local pipe ends to its children by
 * descriptor. Every queue and semaphore under test is the Redis backend's.
 */
import { createNativeBackend } from '@ipcx/adapter-native';
import { REDIS_CAPABILITIES, createRedisBackend, type RedisBackend } from '@ipcx/adapter-redis';
import { registerConformance } from '@ipcx/testkit';
import { afterAll } from 'vitest';
import { redisPort, uniquePrefix } from './helpers.js';

let backend: RedisBackend | undefined;

registerConformance({
  name: 'redis',
  create: () => {
    backend = createRedisBackend({ connection: { host: '127.0.0.1', port: redisPort() }, prefix: uniquePrefix('kit'), leaseMs: 1500 });
    return Object.assign(Object.create(backend) as RedisBackend, { pipes: createNativeBackend().pipes });
  },
  capabilities: REDIS_CAPABILITIES,
});

afterAll(async () => {
  await backend?.close();
});
