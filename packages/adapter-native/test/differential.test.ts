/**
 * The differential harness on the native backend against itself (two objects of the same kernel):
 * it must find no difference. And a self-test: a candidate with a deliberate ordering bug must be
 * caught, with a short, readable shrunk sequence.
 */
import { describe, expect, it } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import type { IpcBackend, MessageQueue, MessageQueueReceiveOptions } from '@ipcx/core';
import { DEFAULT_SEED, checkDifferential, messageQueueModel, registerDifferential } from '@ipcx/testkit';

const native = createNativeBackend();

/** What each model's generated sequences must reach on the kernel, or the generators are too weak to find much. */
const mustReach: Record<string, string[]> = {
  'System V message queue': ['send ok', 'send EAGAIN', 'send EINVAL', 'receive ok', 'receive ENOMSG', 'receive E2BIG', 'set ok', 'stat ok', 'remove ok'],
  'System V semaphore set': ['operate ok', 'operate EAGAIN', 'operate ERANGE', 'operate E2BIG', 'operate EINVAL', 'setValue ok', 'setValues ok', 'values ok', 'remove ok'],
  pipe: ['writer.write ok', 'writer.write EAGAIN', 'writer.write EPIPE', 'writer.write EBADF', 'reader.read ok', 'reader.read EAGAIN', 'reader.setCapacity ok', 'reader.setCapacity EBUSY'],
};

registerDifferential({
  name: 'native vs native differential',
  reference: () => native,
  candidate: () => native,
  onCoverage: (model, coverage) => {
    const missing = (mustReach[model.title] ?? []).filter((kind) => !coverage.has(kind));
    expect(missing, `${model.title}: outcomes the sequences never reached`).toEqual([]);
  },
});

/**
 * A queue with a bug: `receive` takes the message it should return, then takes the next one that
 * matches too and returns that instead, putting the first back at the tail. The queue's counts
 * stay right; only the order of two receives is swapped.
 */
function swappingQueue(queue: MessageQueue): MessageQueue {
  return new Proxy(queue, {
    get(target, property, receiver) {
      if (property !== 'receive') {
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (options?: MessageQueueReceiveOptions) => {
        const first = await target.receive(options);
        let second;
        try {
          second = await target.receive(options);
        } catch {
          return first;
        }
        await target.send(first.type, first.data, { nowait: true });
        return second;
      };
    },
  });
}

/** The native backend whose message queues have the swapped-receive bug. */
function brokenBackend(base: IpcBackend): IpcBackend {
  return {
    ...base,
    name: 'broken',
    messageQueues: {
      ftok: (path, projectId) => base.messageQueues.ftok(path, projectId),
      open: async (key, options) => swappingQueue(await base.messageQueues.open(key, options)),
      openById: async (id) => swappingQueue(await base.messageQueues.openById(id)),
      removeById: (id) => base.messageQueues.removeById(id),
    },
  };
}

describe('differential harness self-test', () => {
  it('fails on a candidate that swaps two receives, and prints the shrunk sequence and the first difference', { timeout: 120_000 }, async () => {
    const failure = await checkDifferential(messageQueueModel, { reference: native, candidate: brokenBackend(native), runs: 200, seed: DEFAULT_SEED }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure, 'the harness did not notice the broken candidate').toBeInstanceOf(Error);
    const message = failure!.message;
    console.log(message);
    expect(message).toContain('System V message queue: broken differs from native');
    expect(message).toMatch(/replay with IPCX_FC_SEED=\d+ IPCX_FC_PATH=[\d:]+/);
    expect(message).toMatch(/the backends differ at step \d+: receive\(/);
    expect(message).toMatch(/native \(reference\): → \{ type: \d, data: <\d+ bytes/);
    expect(message).toMatch(/broken \(candidate\): → \{ type: \d, data: <\d+ bytes/);
    // Shrunk to the essence: two sends and the receive that tells them apart.
    const listed = message.split('\n').filter((line) => /^\s+\d+\. /.test(line));
    expect(listed).toHaveLength(3);
    expect(listed[0]).toMatch(/^\s+1\. send\(\d, bytes\(\d+, 0x[0-9a-f]{2}\), \{ nowait: true \}\)$/);
    expect(listed[1]).toMatch(/^\s+2\. send\(/);
    expect(listed[2]).toMatch(/^\s+3\. receive\(\{ .*nowait: true \}\)\s+<-- first difference$/);
  });
});
