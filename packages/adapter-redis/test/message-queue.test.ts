/**
 * System V message queues on a real redis-server: the rules the kit checks too, seen from the
 * Redis side (what is left on the server, which keys an object uses), and waiting without polling.
 */
import { describe, expect, it } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { IPC_PRIVATE, isIpcError, type Message, type MessageQueue, type MessageQueueReceiveOptions } from '@ipcx/core';
import { testBackend } from './helpers.js';

const text = (data: Uint8Array) => Buffer.from(data).toString();

describe('redis System V message queue', () => {
  it('selects by type 0, > 0, < 0 and except, and counts bytes and messages', async () => {
    const backend = testBackend('mq-types');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    try {
      for (const [type, data] of [[3, 'c1'], [1, 'a1'], [2, 'b1'], [3, 'c2'], [1, 'a2']] as const) await queue.send(type, data);
      expect(await queue.stat()).toMatchObject({ messages: 5, bytes: 10, lastSendPid: process.pid });
      expect(text((await queue.receive({ type: 3 })).data)).toBe('c1');
      expect(text((await queue.receive({ type: -2 })).data)).toBe('a1');
      expect(text((await queue.receive({ type: 1, except: true })).data)).toBe('b1');
      expect(text((await queue.receive()).data)).toBe('c2');
      expect(await queue.receive({ type: -10 })).toMatchObject({ type: 1 });
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ code: 'ENOMSG', syscall: 'msgrcv' });
    } finally {
      await queue.remove();
      await queue.close();
    }
    expect(await backend.diagnostics.kernelObjects()).toEqual([]);
  });

  it('runs the sends and the receives a handle starts in one tick (one script call each, with mixed type rules, maxBytes and noError) exactly as the kernel runs them one after the other', async () => {
    const backend = testBackend('mq-batch');
    const redisQueue = await backend.messageQueues.open(IPC_PRIVATE);
    const kernelQueue = await createNativeBackend().messageQueues.open(IPC_PRIVATE);
    try {
      let seed = 0x5eed;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const described = (message: Promise<Message>) => message.then((m) => `${m.type}:${text(m.data)}`, (error: unknown) => String((error as { code?: string }).code ?? error));
      const sent = (done: Promise<void>) => done.then(() => 'ok', (error: unknown) => String((error as { code?: string }).code ?? error));
      const receiveOptions = (): MessageQueueReceiveOptions => {
        const rule = random(5);
        const type = 1 + random(4);
        const options: MessageQueueReceiveOptions = rule === 0 ? {} : rule === 1 ? { type } : rule === 2 ? { type: -type } : rule === 3 ? { type, except: true } : { type: 5 };
        return random(3) === 0 ? { ...options, maxBytes: 4 + random(16), noError: random(2) === 0, nowait: true } : { ...options, nowait: true };
      };
      for (let round = 0; round < 4; round++) {
        const sends = Array.from({ length: 120 }, (_, i) => [1 + random(4), `r${round}m${i}`.padEnd(1 + random(30), '.')] as const);
        const redisSends = await Promise.all(sends.map(([type, data]) => sent(redisQueue.send(type, data, { nowait: true }))));
        const kernelSends: string[] = [];
        for (const [type, data] of sends) kernelSends.push(await sent(kernelQueue.send(type, data, { nowait: true })));
        expect(redisSends).toEqual(kernelSends);
        const receives = Array.from({ length: 100 }, receiveOptions);
        const fromRedis = await Promise.all(receives.map((options) => described(redisQueue.receive(options))));
        const fromKernel: string[] = [];
        for (const options of receives) fromKernel.push(await described(kernelQueue.receive(options)));
        expect(fromRedis).toEqual(fromKernel);
        // Both outcomes happened (a batch that only took, or only refused, would prove little).
        expect(fromRedis.some((outcome) => outcome.includes(':'))).toBe(true);
        expect(fromRedis.some((outcome) => outcome === 'ENOMSG' || outcome === 'E2BIG')).toBe(true);
        const [redisStat, kernelStat] = [await redisQueue.stat(), await kernelQueue.stat()];
        expect([redisStat.messages, redisStat.bytes]).toEqual([kernelStat.messages, kernelStat.bytes]);
      }
      // What is left, in the order a type-0 receive takes it.
      const drain = async (queue: MessageQueue) => {
        const left: string[] = [];
        for (;;) {
          const outcome = await described(queue.receive({ nowait: true }));
          if (outcome === 'ENOMSG') return left;
          left.push(outcome);
        }
      };
      const leftInRedis = await drain(redisQueue);
      expect(leftInRedis.length).toBeGreaterThan(0);
      expect(leftInRedis).toEqual(await drain(kernelQueue));
    } finally {
      await kernelQueue.remove();
      await kernelQueue.close();
      await redisQueue.remove();
      await redisQueue.close();
    }
  });

  it('keeps every key of a queue in one hash slot and deletes them all on remove', async () => {
    const backend = testBackend('mq-keys');
    const queue = await backend.messageQueues.open(0x1234, { create: true, exclusive: true });
    await queue.send(5, 'x');
    const keys = await backend.connection.client.keys(`*${backend.connection.prefix}:mq:*`);
    expect(keys.length).toBeGreaterThanOrEqual(5);
    const tags = new Set(keys.map((key) => /^\{[^}]+\}/.exec(key)?.[0]));
    expect([...tags]).toEqual([`{${backend.connection.prefix}:mq:k${0x1234}}`]);
    await queue.remove();
    expect(await backend.connection.client.keys(`*${backend.connection.prefix}:mq:*`)).toEqual([]);
    await queue.close();
  });

  it('keeps message types of 10^15 and up to 2^53 - 1 exact, queued and handed over, and removes their keys', async () => {
    const backend = testBackend('mq-big-types');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    const big = 10 ** 15 + 1;
    const biggest = Number.MAX_SAFE_INTEGER;
    try {
      await queue.send(big, 'queued');
      await queue.send(biggest, 'largest');
      expect(await queue.receive({ type: biggest, nowait: true })).toMatchObject({ type: biggest });
      expect(await queue.receive({ type: big, nowait: true })).toMatchObject({ type: big });
      // Handed straight to a waiting receive (the send's script delivers it).
      const tag = `{${backend.connection.prefix}:mq:i${queue.id}}`;
      const waiting = queue.receive({ type: -biggest });
      while ((await backend.connection.client.hlen(`${tag}:waiters`)) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await queue.send(big, 'handed');
      const handed = await waiting;
      expect([handed.type, text(handed.data)]).toEqual([big, 'handed']);
      await queue.send(big, 'left');
    } finally {
      await queue.remove();
      await queue.close();
    }
    expect(await backend.connection.client.keys(`*${backend.connection.prefix}:mq:*`)).toEqual([]);
  });

  it('blocks a sender while the queue is full and lets it through when a receive makes room', async () => {
    const backend = testBackend('mq-full');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    try {
      await queue.set({ maxBytes: 8 });
      await queue.send(1, '12345678');
      let sent = false;
      const sending = queue.send(2, 'abc').then(() => (sent = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sent).toBe(false);
      expect(text((await queue.receive()).data)).toBe('12345678');
      await sending;
      expect(await queue.stat()).toMatchObject({ messages: 1, bytes: 3 });
    } finally {
      await queue.remove();
      await queue.close();
    }
  });

  it('pipelines sends of one handle yet keeps their order: a small send waits behind a blocked big one', async () => {
    const backend = testBackend('mq-order');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    try {
      await queue.set({ maxBytes: 6 });
      await queue.send(1, 'aaaa');
      const big = queue.send(2, 'bbbb'); // 4 + 4 > 6: waits
      const small = queue.send(3, 'cc'); // would fit now, but must not overtake
      await expect(queue.send(4, 'd', { nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await queue.stat()).toMatchObject({ messages: 1, bytes: 4 });
      expect(text((await queue.receive()).data)).toBe('aaaa');
      await big;
      await small;
      const order = [text((await queue.receive()).data), text((await queue.receive()).data)];
      expect(order).toEqual(['bbbb', 'cc']);
      // A cancelled waiting send lets the ones behind it go.
      await queue.send(1, '123456');
      const controller = new AbortController();
      const cancelled = queue.send(2, 'xx', { signal: controller.signal });
      const behind = queue.send(3, 'y');
      controller.abort();
      await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
      expect(text((await queue.receive()).data)).toBe('123456');
      await behind;
      expect(text((await queue.receive({ nowait: true })).data)).toBe('y');
    } finally {
      await queue.remove();
      await queue.close();
    }
  });

  it('wakes waiters with EIDRM on remove, and later calls get EINVAL', async () => {
    const backend = testBackend('mq-rmid');
    const other = testBackend('mq-rmid');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    const waiting = queue.receive({ type: 9 }).catch((error: unknown) => error);
    // Waiting once its registration is on the server (a sleep would race a slow first call).
    const tag = `{${backend.connection.prefix}:mq:i${queue.id}}`;
    while ((await backend.connection.client.hlen(`${tag}:waiters`)) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const remover = (await (other.revive as (r: unknown) => Promise<MessageQueue>)((queue as unknown as { [k: symbol]: () => unknown })[Symbol.for('ipcx.transfer')]!()));
    await remover.remove();
    expect(await waiting).toMatchObject({ code: 'EIDRM', syscall: 'msgrcv' });
    await expect(queue.send(1, 'x')).rejects.toMatchObject({ code: 'EINVAL' });
    await remover.close();
    await queue.close();
  });

  it('keeps 1,000 receives pending on one process with four connections, then satisfies each; aborts leave nothing registered or subscribed', async () => {
    const backend = testBackend('mq-many');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    try {
      // This backend's connections, by name (other test files share the server).
      const mine = async () =>
        String(await backend.connection.client.client('LIST'))
          .split('\n')
          .map((line) => /name=(\S+)/.exec(line)?.[1] ?? '')
          .filter((name) => name.startsWith(`${backend.connection.prefix}:${backend.connection.clientId}:`))
          .sort();
      const count = 1000;
      const pending = Array.from({ length: count }, (_, i) => queue.receive({ type: i + 1 }));
      const tag = `{${backend.connection.prefix}:mq:i${queue.id}}`;
      // Until every receive is registered on the server (a fixed sleep would race a loaded machine).
      for (let tries = 0; tries < 400 && (await backend.connection.client.hlen(`${tag}:waiters`)) < count; tries++) await new Promise((resolve) => setTimeout(resolve, 25));
      const prefix = `${backend.connection.prefix}:${backend.connection.clientId}`;
      // Commands, the inbox every waiting receive is handed its message through, the lease
      // renewal thread's (the first wait started the lease) and notices.
      await backend.connection.leaseThreadStarted();
      expect(await mine()).toEqual([`${prefix}:commands`, `${prefix}:inbox`, `${prefix}:lease`, `${prefix}:notices`]);
      expect(await backend.connection.client.hlen(`${tag}:waiters`)).toBe(count);
      for (let i = count - 1; i >= 0; i--) await queue.send(i + 1, `m${i}`);
      const messages = await Promise.all(pending);
      expect(messages.map((m) => text(m.data))).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
      // Cancelled waits leave no subscription behind once the linger has passed.
      const controllers = Array.from({ length: 100 }, () => new AbortController());
      const aborted = controllers.map((c) => queue.receive({ signal: c.signal }).catch((e: unknown) => (e as Error).name));
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const c of controllers) c.abort();
      expect(new Set(await Promise.all(aborted))).toEqual(new Set(['AbortError']));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(backend.connection.notifier.subscribedChannels()).toEqual([]);
      expect(await backend.connection.client.hlen(`${tag}:waiters`)).toBe(0);
      expect(await backend.connection.client.llen(`${tag}:wq`)).toBe(0);
      const numsub = (await backend.connection.client.pubsub('NUMSUB', `{${backend.connection.prefix}:mq:i${queue.id}}:ch`)) as unknown[];
      expect(Number(numsub[1])).toBe(0);
    } finally {
      await queue.remove();
      await queue.close();
    }
  });

  it('hands a sent message straight to a waiting receive; an abort while the receive registers ends it and leaves nothing registered', async () => {
    const backend = testBackend('mq-handoff');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    try {
      const tag = `{${backend.connection.prefix}:mq:i${queue.id}}`;
      // Aborted in the same tick as the call: the abort fires while the receive's script runs.
      for (let i = 0; i < 20; i++) {
        const controller = new AbortController();
        const receiving = queue.receive({ signal: controller.signal });
        controller.abort();
        await expect(receiving).rejects.toMatchObject({ name: 'AbortError' });
      }
      // Closed while registering: EBADF, and the registration is gone too.
      const other = (await (backend.revive as (r: unknown) => Promise<MessageQueue>)((queue as unknown as { [k: symbol]: () => unknown })[Symbol.for('ipcx.transfer')]!()));
      const closing = other.receive();
      await other.close();
      await expect(closing).rejects.toMatchObject({ code: 'EBADF' });
      expect(await backend.connection.client.hlen(`${tag}:waiters`)).toBe(0);
      expect(await backend.connection.client.llen(`${tag}:wq`)).toBe(0);
      // A waiting receive is served by the send itself: the message never enters the queue.
      const waiting = queue.receive({ type: 5, maxBytes: 4 });
      while ((await backend.connection.client.hlen(`${tag}:waiters`)) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await queue.send(4, 'other');
      await queue.send(5, 'too long');
      // Too long for its maxBytes: the receive gets E2BIG and the message stays queued, as on Linux.
      await expect(waiting).rejects.toMatchObject({ code: 'E2BIG' });
      expect((await queue.stat()).messages).toBe(2);
      const cut = queue.receive({ type: 6, maxBytes: 3, noError: true });
      while ((await backend.connection.client.hlen(`${tag}:waiters`)) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await queue.send(6, 'abcdef');
      expect(text((await cut).data)).toBe('abc');
      expect((await queue.stat()).messages).toBe(2);
      expect(text((await queue.receive({ type: 5 })).data)).toBe('too long');
      expect(text((await queue.receive()).data)).toBe('other');
    } finally {
      await queue.remove();
      await queue.close();
    }
  });

  it('leaves no claim behind when a handle is closed while its receive is being served (handed over by a send, or taken by an attempt in flight)', async () => {
    const backend = testBackend('mq-close-claims');
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    const revive = backend.revive as (record: unknown) => Promise<MessageQueue>;
    const record = () => (queue as unknown as { [k: symbol]: () => unknown })[Symbol.for('ipcx.transfer')]!();
    const tag = `{${backend.connection.prefix}:mq:i${queue.id}}`;
    const settled = (promise: Promise<unknown>) => promise.then((m) => text((m as Message).data), (error: unknown) => String((error as { code?: string }).code ?? error));
    try {
      for (let round = 0; round < 5; round++) {
        // A registered receive: the send hands it its message while its handle closes.
        const other = await revive(record());
        const waiting = other.receive();
        while ((await backend.connection.client.hlen(`${tag}:waiters`)) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        const sent = queue.send(1, `handed${round}`);
        const closed = other.close();
        await Promise.all([sent, closed]);
        const handed = await settled(waiting);
        // An attempt in flight (flushed after the close): the script takes the message.
        await queue.send(1, `taken${round}`);
        const third = await revive(record());
        const taking = third.receive({ nowait: true });
        await third.close();
        const taken = await settled(taking);
        // Every message is either received or still queued, and no claim is left on the server.
        const left = (await queue.stat()).messages;
        expect([handed, taken].filter((m) => m.startsWith('handed') || m.startsWith('taken')).length + left).toBe(2);
        expect(await backend.connection.client.hgetall(`${tag}:claims`)).toEqual({});
        // Drained through a handle of its own, closed after: its claims go with it.
        const drain = await revive(record());
        while ((await queue.stat()).messages > 0) await drain.receive({ nowait: true });
        await drain.close();
      }
      expect(await backend.connection.client.hlen(`${tag}:claims`)).toBe(0);
    } finally {
      await queue.remove();
      await queue.close();
    }
  });

  it('reports ENOSYS for every primitive it does not implement', async () => {
    const backend = testBackend('mq-enosys');
    await expect(backend.pipes.create()).rejects.toMatchObject({ name: 'IpcError', code: 'ENOSYS' });
    await expect(backend.sharedMemory.openSysv(1, { size: 10, create: true } as never)).rejects.toMatchObject({ code: 'ENOSYS' });
    await expect(backend.fifos.create('/tmp/x')).rejects.toMatchObject({ code: 'ENOSYS' });
    expect(isIpcError(await backend.unixSockets.listen('/tmp/x' as never).catch((e: unknown) => e), 'ENOSYS')).toBe(true);
    await expect(backend.fileLocks.open('/tmp/x' as never)).rejects.toMatchObject({ code: 'ENOSYS' });
    await expect(backend.processes.spawnExecutable('tr')).rejects.toMatchObject({ code: 'ENOSYS', syscall: 'execve' });
    await expect(backend.processes.spawnExecutable('')).rejects.toBeInstanceOf(RangeError);
  });
});
