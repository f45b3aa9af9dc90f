/** The inversify ContainerModule binds the Redis backend and its factories under core's tokens. */
import { Container, inject, injectable } from 'inversify';
import { describe, expect, it } from 'vitest';
import { redisIpc } from '@ipcx/adapter-redis';
import { IPC_PRIVATE, IpcBackend, MessageQueues, Pipes, Semaphores, type MessageQueues as MessageQueuesType } from '@ipcx/core';
import { testBackend } from './helpers.js';

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
