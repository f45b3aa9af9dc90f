/**
 * The Redis backend's declaration against what it does (the testkit's manifest suite), on the
 * run's real redis-server: its four primitives work, every other one rejects with ENOSYS.
 */
import { REDIS_CAPABILITIES, createRedisBackend, type RedisBackend } from '@ipcx/adapter-redis';
import { registerManifest } from '@ipcx/testkit';
import { afterAll } from 'vitest';
import { redisPort, uniquePrefix } from './helpers.js';

let backend: RedisBackend | undefined;

registerManifest({
  name: 'redis',
  create: () => (backend = createRedisBackend({ connection: { host: '127.0.0.1', port: redisPort() }, prefix: uniquePrefix('manifest'), leaseMs: 1500 })),
  capabilities: REDIS_CAPABILITIES,
});

afterAll(async () => {
  await backend?.close();
});
