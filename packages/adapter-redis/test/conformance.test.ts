/**
 * The testkit's suites, unchanged, against the Redis backend on the run's real redis-server
 * (test names contain "redis"). Only the suites of its four primitives run (capabilities).
 *
 * The kit's semaphore, POSIX and process suites let children report through a pipe made with
 * `backend.pipes.create()`. Redis has no pipes (ENOSYS, not in the capabilities), so this file
 * hands the kit the Redis backend with the native backend's `pipes` for those report channels
 * only; the Redis backend's `processes.spawn` passes such local pipe ends to its children by
 * descriptor. Since those pipes are native ones (with descriptors), the process suite's
 * executable case runs with the native backend's `spawnExecutable` and the `executables` feature
 * (the Redis backend's own `spawnExecutable` is ENOSYS, tested in message-queue.test.ts). Every
 * queue and semaphore under test is the Redis backend's.
 */
import { createNativeBackend } from '@ipcx/adapter-native';
import { REDIS_CAPABILITIES, createRedisBackend, type RedisBackend } from '@ipcx/adapter-redis';
import { Feature, capabilities } from '@ipcx/core';
import { registerConformance } from '@ipcx/testkit';
import { afterAll } from 'vitest';
import { redisPort, uniquePrefix } from './helpers.js';

let backend: RedisBackend | undefined;

registerConformance({
  name: 'redis',
  create: () => {
    backend = createRedisBackend({ connection: { host: '127.0.0.1', port: redisPort() }, prefix: uniquePrefix('kit'), leaseMs: 1500 });
    const native = createNativeBackend();
    const processes = Object.assign(Object.create(backend.processes) as RedisBackend['processes'], {
      spawn: backend.processes.spawn.bind(backend.processes),
      spawnExecutable: native.processes.spawnExecutable.bind(native.processes),
    });
    return Object.assign(Object.create(backend) as RedisBackend, { pipes: native.pipes, processes });
  },
  capabilities: capabilities(REDIS_CAPABILITIES.primitives, [Feature.executables]),
});

afterAll(async () => {
  await backend?.close();
});
