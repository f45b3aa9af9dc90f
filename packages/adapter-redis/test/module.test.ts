/** The inversify ContainerModule binds the Redis backend and its factories under core's tokens. */
import { Container, inject, injectable } from 'inversify';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedisBackend } from '@ipcx/adapter-redis';
import { redisIpc } from '@ipcx/adapter-redis/inversify';
import { IPC_PRIVATE, IpcBackend, MessageQueues, Pipes, Semaphores, type MessageQueues as MessageQueuesType } from '@ipcx/core';
import { redisPort, testBackend, uniquePrefix } from './helpers.js';

@injectable()
class Mailbox {
  constructor(@inject(MessageQueues) private readonly queues: MessageQueuesType) {}

  async roundTrip(text: string): Promise<string> {
    const queue = await this.queues.open(IPC_PRIVATE);
    try {
      await queue.send(1, text);
      return Buffer.from((await queue.receive()).data).toString();
    } finally {
      await queue.remove();
      await queue.close();
    }
  }
}

describe('redisIpc() ContainerModule', () => {
  it('binds the backend and each factory under core tokens, and injects them', async () => {
    const backend = testBackend('module');
    const container = new Container();
    container.load(redisIpc(backend));
    expect(container.get<IpcBackend>(IpcBackend)).toBe(backend);
    expect(container.get(MessageQueues)).toBe(backend.messageQueues);
    expect(container.get(Semaphores)).toBe(backend.semaphores);
    await expect(container.get<{ create(): Promise<unknown> }>(Pipes).create()).rejects.toMatchObject({ code: 'ENOSYS' });
    container.bind(Mailbox).toSelf();
    expect(await container.get(Mailbox).roundTrip('injected')).toBe('injected');
  });
});

describe('a client passed in', () => {
  it('is used for commands and left open; the subscriber and the synchronous bridge connect with its settings', async () => {
    const client = new Redis({ host: '127.0.0.1', port: redisPort() });
    const backend = createRedisBackend({ client, prefix: uniquePrefix('client') });
    try {
      const set = await backend.semaphores.open('private', { size: 1 });
      const waiting = set.wait(0);
      set.post(0); // through the bridge, which connected with the client's host and port
      await waiting; // woken through the subscriber
      expect(set.value(0)).toBe(0);
      await set.remove();
      await set.close();
    } finally {
      await backend.close();
    }
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });
});
