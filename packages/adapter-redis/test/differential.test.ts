/**
 * Differential property tests: random operation sequences on System V message queues and semaphore
 * sets, run step by step on the native backend (the kernel itself, the oracle) and on the Redis
 * backend; results and error codes must be identical. The seed is fixed (replay with
 * IPCX_FC_SEED / IPCX_FC_PATH); 100 sequences per model keep the run short (IPCX_FC_RUNS for more).
 */
import { expect } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { createRedisBackend, type RedisBackend } from '@ipcx/adapter-redis';
import { messageQueueModel, registerDifferential, semaphoreModel, type DifferentialModel } from '@ipcx/testkit';
import { afterAll } from 'vitest';
import { redisPort, uniquePrefix } from './helpers.js';

/** What the sequences must reach on the kernel, or the comparison proves little. */
const mustReach: Record<string, string[]> = {
  'System V message queue': ['send ok', 'send EAGAIN', 'send EINVAL', 'receive ok', 'receive ENOMSG', 'receive E2BIG', 'set ok', 'stat ok', 'remove ok'],
  'System V semaphore set': ['operate ok', 'operate EAGAIN', 'operate ERANGE', 'operate E2BIG', 'operate EINVAL', 'setValue ok', 'setValues ok', 'values ok', 'remove ok'],
};

let redis: RedisBackend | undefined;

registerDifferential({
  name: 'native vs redis differential',
  reference: () => createNativeBackend(),
  candidate: () => {
    redis = createRedisBackend({ connection: { host: '127.0.0.1', port: redisPort() }, prefix: uniquePrefix('differential') });
    return redis;
  },
  runs: Number(process.env.IPCX_FC_RUNS ?? 100),
  models: [messageQueueModel, semaphoreModel] as DifferentialModel<never>[],
  onCoverage: (model, coverage) => {
    const missing = (mustReach[model.title] ?? []).filter((kind) => !coverage.has(kind));
    expect(missing, `${model.title}: outcomes the sequences never reached`).toEqual([]);
  },
});

afterAll(async () => {
  await redis?.close();
});
