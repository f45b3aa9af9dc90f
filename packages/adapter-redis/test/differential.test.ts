/**
 * Differential property tests: random operation sequences on System V message queues and semaphore
 * sets, run step by step on the native backend (the kernel itself, the oracle) and on the Redis
 * backend; results and error codes must be identical. The seed is fixed (replay with
 * IPCX_FC_SEED / IPCX_FC_PATH); 100 sequences per model keep the run short (IPCX_FC_RUNS for more).
 */
import { expect } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { createRedisBackend, type RedisBackend } from '@ipcx/adapter-redis';
import type { IpcBackend } from '@ipcx/core';
import { messageQueueModel, registerDifferential, semaphoreModel, type DifferentialModel } from '@ipcx/testkit';
import { afterAll } from 'vitest';
import { redisPort, uniquePrefix } from './helpers.js';

/** What the sequences must reach on the kernel, or the comparison proves little. */
const mustReach: Record<string, string[]> = {
  'System V message queue': ['send ok', 'send EAGAIN', 'send EINVAL', 'receive ok', 'receive ENOMSG', 'receive E2BIG', 'set ok', 'stat ok', 'remove ok'],
  'System V semaphore set': ['operate ok', 'operate EAGAIN', 'operate ERANGE', 'operate E2BIG', 'operate EINVAL', 'setValue ok', 'setValues ok', 'values ok', 'remove ok'],
};

let redis: RedisBackend | undefined;

/**
 * The native backend whose leak check lists only the System V objects made through it: the
 * kernel is shared with every other test process on the machine (the native project's suites may
 * run meanwhile), and their objects are not this test's leaks.
 */
function nativeOracle(): IpcBackend {
  const native = createNativeBackend();
  const ids = new Set<number>();
  const record = <T extends { id: number }>(object: T): T => {
    ids.add(object.id);
    return object;
  };
  return {
    ...native,
    messageQueues: {
      ftok: (path, id) => native.messageQueues.ftok(path, id),
      open: async (key, options) => record(await native.messageQueues.open(key, options)),
      openById: async (id) => record(await native.messageQueues.openById(id)),
      removeById: (id) => native.messageQueues.removeById(id),
    },
    semaphores: {
      open: async (key, options) => record(await native.semaphores.open(key, options)),
      openById: async (id) => record(await native.semaphores.openById(id)),
      removeById: (id) => native.semaphores.removeById(id),
    },
    diagnostics: {
      openObjects: () => native.diagnostics.openObjects(),
      kernelObjects: async () => (await native.diagnostics.kernelObjects()).filter((entry) => ids.has(Number(/ id (\d+)$/.exec(entry)?.[1]))),
    },
  };
}

registerDifferential({
  name: 'native vs redis differential',
  reference: nativeOracle,
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
