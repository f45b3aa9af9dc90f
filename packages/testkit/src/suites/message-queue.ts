/**
 * System V message queues, as the kernel defines them (msgop(2), msgctl(2)): typed messages taken
 * by type-selection rules, MSG_EXCEPT / MSG_NOERROR / IPC_NOWAIT, limits, stat/set/remove, EIDRM
 * for waiters of a removed queue, permissions, and queues that outlive their processes. The other
 * side of every cross-process case is a real child from `processes.spawn`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { IPC_PRIVATE, isIpcError, type ChildProcess, type Message, type MessageQueue, type MessageQueueOpenOptions, type SpawnOptions } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { NOBODY, itAsAnotherUser, sleep, text } from '../util.js';
import { hostPid, onNode, readOwnSource, removeKeyFile, writeKeyFile } from '../host.js';

/** A nobody user for permission checks. */

/** Code of a rejection (or 'resolved'), for asserting outcomes. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error as { code?: string }).code ?? String(error),
  );
}

/** The message's payload as text, with its type: `'2:hello'`. */
function show(message: Message): string {
  return `${message.type}:${text(message.data)}`;
}

/** Rows of `ipcs -q`: key (as unsigned), id, perms (octal text), messages. */
function ipcsQueues(): Array<{ key: number; id: number; perms: string; messages: number }> {
  const rows = [];
  for (const line of execFileSync('ipcs', ['-q'], { encoding: 'utf8' }).split('\n')) {
    const match = /^(0x[0-9a-f]+)\s+(\d+)\s+\S+\s+(\d+)\s+\d+\s+(\d+)/i.exec(line.trim());
    if (match) rows.push({ key: Number.parseInt(match[1]!, 16), id: Number(match[2]), perms: match[3]!, messages: Number(match[4]) });
  }
  return rows;
}

export function messageQueueSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('message-queue'))('System V message queue', () => {
    const queues = () => context.backend().messageQueues;
    const processes = () => context.backend().processes;

    /** Removes (unless already gone) and closes `queue` when the test finishes, passed or failed. */
    function removeAfter<T extends MessageQueue>(queue: T): T {
      onTestFinished(async () => {
        if (queue.closed) return;
        await queue.remove().catch((error: unknown) => {
          if (!isIpcError(error, 'EINVAL') && !isIpcError(error, 'EIDRM')) throw error;
        });
        await queue.close();
      });
      return queue;
    }

    /** Removes the queue of `key`, if there is one, when the test finishes. */
    function removeKeyAfter(key: number): void {
      onTestFinished(async () => {
        const queue = await queues().open(key).catch((error: unknown) => {
          if (isIpcError(error, 'ENOENT')) return undefined;
          throw error;
        });
        if (queue === undefined) return;
        await queue.remove();
        await queue.close();
      });
    }

    /** A new private queue, removed after the test. */
    async function privateQueue(mode = 0o600): Promise<MessageQueue> {
      return removeAfter(await queues().open(IPC_PRIVATE, { mode }));
    }

    /** A key unique to this run (ftok of a fresh file in the run's folder); its queue is removed after the test. */
    async function uniqueKey(label: string): Promise<number> {
      const file = context.tempPath(`${label}.key`);
      await writeKeyFile(file, label);
      onTestFinished(() => removeKeyFile(file));
      const key = await queues().ftok(file, 0x51);
      removeKeyAfter(key);
      return key;
    }

    /** Spawns a kit child; it is killed (if still running) when the test finishes. */
    async function spawn(name: string, args: unknown[], options: Omit<SpawnOptions, 'args'> = {}): Promise<ChildProcess> {
      const child = await processes().spawn(context.child(name), { ...options, args });
      onTestFinished(() => child[Symbol.asyncDispose]());
      return child;
    }

    /** Receives everything there is now (nowait until ENOMSG), as `type:text` strings. */
    async function drain(queue: MessageQueue): Promise<string[]> {
      const seen: string[] = [];
      for (;;) {
        const message = await queue.receive({ nowait: true }).catch((error: unknown) => {
          if (isIpcError(error, 'ENOMSG')) return null;
          throw error;
        });
        if (message === null) return seen;
        seen.push(show(message));
      }
    }

    it('takes messages a child sent by every type-selection rule: 0, > 0, < 0 and MSG_EXCEPT', async () => {
      const queue = await privateQueue();
      const sent: Array<[number, string]> = [[3, 'c1'], [1, 'a1'], [2, 'b1'], [3, 'c2'], [1, 'a2'], [5, 'e1']];
      const child = await spawn('mq-send', [queue, sent]);
      expect(await child.exited).toEqual({ code: 0, signal: null });
      const stat = await queue.stat();
      expect(stat).toMatchObject({ messages: 6, bytes: 12, lastSendPid: child.pid });
      expect(show(await queue.receive({ type: 3 }))).toBe('3:c1'); // first of type 3
      expect(show(await queue.receive({ type: -2 }))).toBe('1:a1'); // lowest type <= 2, first of it
      expect(show(await queue.receive({ type: 1, except: true }))).toBe('2:b1'); // first of any type but 1
      expect(show(await queue.receive())).toBe('3:c2'); // first in the queue
      expect(show(await queue.receive({ type: -10 }))).toBe('1:a2'); // lowest type overall
      expect(show(await queue.receive({ type: 5 }))).toBe('5:e1');
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ name: 'IpcError', code: 'ENOMSG', syscall: 'msgrcv' });
    });

    it('lets children take what the parent sent by type rules, in queue order', async () => {
      const queue = await privateQueue();
      const reply = await privateQueue();
      for (const [type, data] of [[2, 'x'], [1, 'y'], [2, 'z'], [3, 'w']] as const) await queue.send(type, data);
      // The first child takes everything but type 2 (y, w); the second the lowest types <= 3 (x, z).
      const except = await spawn('mq-relay', [queue, reply, 2, { type: 2, except: true }]);
      expect((await except.exited).code).toBe(0);
      const lowest = await spawn('mq-relay', [queue, reply, 2, { type: -3 }]);
      expect((await lowest.exited).code).toBe(0);
      expect(await drain(reply)).toEqual(['1:y', '3:w', '2:x', '2:z']);
      expect(await queue.stat()).toMatchObject({ messages: 0, lastReceivePid: lowest.pid });
    });

    it('wakes a receiver waiting in another process, and only for the type it asked for', async () => {
      const queue = await privateQueue();
      const reply = await privateQueue();
      const ready = await privateQueue();
      const child = await spawn('mq-relay', [queue, reply, 1, { type: 7 }, ready]);
      expect(show(await ready.receive({ timeout: 10_000 }))).toBe('1:ready');
      await sleep(50); // the child is now blocked in its receive
      await queue.send(6, 'not for the child');
      await queue.send(7, 'for the child');
      expect(show(await reply.receive({ timeout: 10_000 }))).toBe('7:for the child');
      expect((await child.exited).code).toBe(0);
      expect(await drain(queue)).toEqual(['6:not for the child']);
    });

    // Measured with Node's process.cpuUsage: a Node-only case.
    it.skipIf(!onNode)('costs no CPU while a receiver waits (any spinning is bounded)', async () => {
      const queue = await privateQueue();
      const before = process.cpuUsage();
      const started = performance.now();
      setTimeout(() => void queue.send(3, 'late'), 1000);
      expect(show(await queue.receive())).toBe('3:late');
      const elapsedMs = performance.now() - started;
      const used = process.cpuUsage(before);
      const cpuMs = (used.user + used.system) / 1000;
      // A spinning receiver would use about as much CPU as time passed; a parked one next to none.
      expect(cpuMs).toBeLessThan(elapsedMs * 0.25);
    });

    it('carries binary payloads of any length up to the limit, and empty ones', async () => {
      const queue = await privateQueue();
      const big = new Uint8Array(4000).map((_, i) => (i * 7) % 256);
      await queue.send(1, big);
      await queue.send(2, new Uint8Array(0));
      await queue.send(3, new Uint8Array([0, 255, 0]));
      const first = await queue.receive();
      expect(first.type).toBe(1);
      expect(new Uint8Array(first.data)).toEqual(big);
      expect((await queue.receive()).data.length).toBe(0);
      expect([...(await queue.receive()).data]).toEqual([0, 255, 0]);
    });

    it('refuses a message longer than maxBytes with E2BIG and keeps it; noError takes it cut short', async () => {
      const queue = await privateQueue();
      await queue.send(4, 'ten bytes!');
      await expect(queue.receive({ maxBytes: 4 })).rejects.toMatchObject({ code: 'E2BIG', syscall: 'msgrcv' });
      expect(await queue.stat()).toMatchObject({ messages: 1, bytes: 10 });
      expect(show(await queue.receive({ maxBytes: 4, noError: true }))).toBe('4:ten ');
      expect(await queue.stat()).toMatchObject({ messages: 0, bytes: 0 });
      // A waiting receive meets the same rule when the message arrives: E2BIG, message kept.
      const waiting = queue.receive({ maxBytes: 2 });
      await sleep(20);
      await queue.send(1, 'long');
      await expect(waiting).rejects.toMatchObject({ code: 'E2BIG' });
      expect(await drain(queue)).toEqual(['1:long']);
    });

    it('fails at once with nowait (ENOMSG to receive, EAGAIN to send on a full queue); timeouts and aborts lose nothing', async () => {
      const queue = await privateQueue();
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ code: 'ENOMSG' });
      await queue.set({ maxBytes: 16 });
      await queue.send(1, '0123456789abcdef');
      await expect(queue.send(2, 'x', { nowait: true })).rejects.toMatchObject({ code: 'EAGAIN', syscall: 'msgsnd' });
      await expect(queue.send(2, 'x', { timeout: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'msgsnd' });
      const controller = new AbortController();
      const aborted = queue.send(2, 'x', { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      // None of the cancelled sends was queued.
      expect(await queue.stat()).toMatchObject({ messages: 1, bytes: 16 });
      await expect(queue.receive({ type: 9, timeout: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'msgrcv' });
      const receiveController = new AbortController();
      const abortedReceive = queue.receive({ type: 9, signal: receiveController.signal });
      setTimeout(() => receiveController.abort(), 20);
      await expect(abortedReceive).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await expect(queue.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      // The message is still there for the next receive.
      expect(show(await queue.receive())).toBe('1:0123456789abcdef');
    });

    it('never loses a message that arrives while its receive is being cancelled', async () => {
      const queue = await privateQueue();
      const received: string[] = [];
      for (let i = 0; i < 40; i++) {
        const controller = new AbortController();
        const pending = queue.receive({ signal: controller.signal });
        if (i % 2 === 1) await sleep(1);
        await queue.send(1, `m${i}`);
        controller.abort();
        const message = await pending.catch((error: unknown) => {
          expect(error).toMatchObject({ name: 'AbortError' });
          return null;
        });
        // Either the receive got it, or it is still in the queue.
        received.push(text((message ?? (await queue.receive({ nowait: true }))).data)!);
      }
      expect(received).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
      expect(await queue.stat()).toMatchObject({ messages: 0 });
    });

    it('releases a sender blocked on a full queue when a receiver in another process drains it, sends in call order', async () => {
      const queue = await privateQueue();
      await queue.set({ maxBytes: 64 });
      for (let type = 1; type <= 4; type++) await queue.send(type, `message ${type}`.padEnd(16, '.'));
      let settled = 0;
      const fifth = queue.send(5, 'message 5'.padEnd(16, '.')).then(() => settled++);
      const sixth = queue.send(6, 'message 6'.padEnd(16, '.')).then(() => settled++);
      await sleep(100);
      expect(settled).toBe(0); // still waiting: the queue is full
      const drainer = await spawn('mq-relay', [queue, null, 2, {}]);
      await Promise.all([fifth, sixth]);
      expect((await drainer.exited).code).toBe(0);
      expect((await drain(queue)).map((entry) => entry.split(':')[0])).toEqual(['3', '4', '5', '6']);
    });

    it('gives EIDRM to waiting receivers and senders when another process removes the queue; EINVAL afterwards', async () => {
      const queue = await privateQueue();
      const full = await privateQueue();
      await full.set({ maxBytes: 8 });
      await full.send(1, '12345678');
      // Both settle in either order: catch each at once, check them afterwards.
      const receiving = queue.receive().catch((error: unknown) => error);
      const sending = full.send(1, 'more').catch((error: unknown) => error);
      await spawn('mq-remove', [queue, 50]);
      const remover = await spawn('mq-remove', [full, 50]);
      expect(await receiving).toMatchObject({ name: 'IpcError', code: 'EIDRM', syscall: 'msgrcv' });
      expect(await sending).toMatchObject({ code: 'EIDRM', syscall: 'msgsnd' });
      expect((await remover.exited).code).toBe(0);
      await expect(queue.send(1, 'x')).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(queue.stat()).rejects.toMatchObject({ code: 'EINVAL', syscall: 'msgctl' });
    });

    itAsAnotherUser(
      context,
      'refuses a child running as another user a queue of mode 0o600 (EACCES) and admits it to one of mode 0o606',
      async () => {
        const closedKey = await uniqueKey('closed');
        const openKey = await uniqueKey('open');
        const closed = removeAfter(await queues().open(closedKey, { create: true, mode: 0o600 }));
        const shared = removeAfter(await queues().open(openKey, { create: true, mode: 0o606 }));
        // Revived by id, the reply queue needs no msgget permission check; 0o666 lets the child send.
        const reply = await privateQueue(0o666);
        const refused = await spawn('mq-open', [closedKey, {}, reply, 'sneaky'], { user: NOBODY });
        expect((await refused.exited).code).toBe(0);
        expect(await drain(reply)).toEqual(['1:EACCES']);
        const admitted = await spawn('mq-open', [openKey, {}, reply, 'hello from nobody'], { user: NOBODY });
        expect((await admitted.exited).code).toBe(0);
        expect(await drain(reply)).toEqual(['1:ok', '2:sent']);
        expect(show(await shared.receive({ nowait: true }))).toBe('1:hello from nobody');
        expect(await shared.stat()).toMatchObject({ lastSendPid: admitted.pid });
        expect(await closed.stat()).toMatchObject({ messages: 0, perm: { mode: 0o600 } });
      },
    );

    it('opens by key: ENOENT without create, EEXIST for create + exclusive, the same queue otherwise', async () => {
      const key = await uniqueKey('keyed');
      await expect(queues().open(key)).rejects.toMatchObject({ name: 'IpcError', code: 'ENOENT', syscall: 'msgget', key });
      const made = removeAfter(await queues().open(key, { create: true, exclusive: true, mode: 0o640 }));
      await expect(queues().open(key, { create: true, exclusive: true })).rejects.toMatchObject({ code: 'EEXIST', syscall: 'msgget' });
      const again = removeAfter(await queues().open(key));
      const created = removeAfter(await queues().open(key, { create: true }));
      // The unsigned spelling of a key (as ipcs prints it) is the same key.
      const unsigned = removeAfter(await queues().open(key >>> 0));
      expect([again.id, created.id, unsigned.id]).toEqual([made.id, made.id, made.id]);
      expect(made.key).toBe(key);
      await again.send(8, 'same queue');
      expect(show(await made.receive())).toBe('8:same queue');
      expect((await made.stat()).perm).toMatchObject({ key, mode: 0o640 });
    });

    it('opens by id (msqid) without a key or a prior handle: the same queue, a private queue whose handle was closed; EINVAL once removed', async () => {
      const key = await uniqueKey('by-id');
      const made = removeAfter(await queues().open(key, { create: true, exclusive: true, mode: 0o640 }));
      const byId = removeAfter(await queues().openById(made.id));
      expect(byId.id).toBe(made.id);
      // Opened by id, the handle reports the queue's own key (from IPC_STAT).
      expect(byId.key).toBe(key);
      await byId.send(3, 'through the id');
      expect(show(await made.receive({ nowait: true }))).toBe('3:through the id');

      // A private queue is reachable by nothing but its id: once its handle is closed, openById is
      // the only way back to it (to read what is left, and to remove it).
      const lost = await queues().open(IPC_PRIVATE, { mode: 0o600 });
      const lostId = lost.id;
      await lost.send(9, 'left in a private queue');
      await lost.close();
      await expect(lost.remove()).rejects.toMatchObject({ code: 'EBADF' });
      const found = removeAfter(await queues().openById(lostId));
      expect(found.id).toBe(lostId);
      expect(found.key).toBe(IPC_PRIVATE);
      expect((await found.stat()).messages).toBe(1);
      expect(show(await found.receive({ nowait: true }))).toBe('9:left in a private queue');
      await found.remove();
      await expect(queues().openById(lostId)).rejects.toMatchObject({ name: 'IpcError', code: 'EINVAL', syscall: 'msgctl' });
      await expect(queues().openById(0x7ffffff0)).rejects.toMatchObject({ name: 'IpcError', code: 'EINVAL', syscall: 'msgctl' });
    });

    it('removes by id without a handle (removeById): waiters get EIDRM, then EINVAL for the id', async () => {
      const queue = await privateQueue();
      await queue.send(1, 'discarded');
      const waiting = queue.receive({ type: 2 }).catch((error: unknown) => error);
      await sleep(20);
      await queues().removeById(queue.id);
      expect(await waiting).toMatchObject({ name: 'IpcError', code: 'EIDRM', syscall: 'msgrcv' });
      await expect(queue.stat()).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(queues().openById(queue.id)).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(queues().removeById(queue.id)).rejects.toMatchObject({ name: 'IpcError', code: 'EINVAL', syscall: 'msgctl' });
      await expect(queues().removeById(-1)).rejects.toThrow(RangeError);
      await expect(queues().removeById('7' as unknown as number)).rejects.toThrow(TypeError);
    });

    it('rejects misuse of openById with TypeError/RangeError before any system call', async () => {
      await expect(queues().openById('1' as unknown as number)).rejects.toThrow(TypeError);
      await expect(queues().openById(undefined as unknown as number)).rejects.toThrow(TypeError);
      await expect(queues().openById(1.5)).rejects.toThrow(RangeError);
      await expect(queues().openById(-1)).rejects.toThrow(RangeError);
      await expect(queues().openById(2 ** 31)).rejects.toThrow(RangeError);
      await expect(queues().openById(Number.NaN)).rejects.toThrow(RangeError);
    });

    it.skipIf(context.hasFeature('os-processes') && typeof process.getuid === 'function' && process.getuid() !== 0)(
      'refuses openById to another user without read permission (EACCES) and admits it to a queue of mode 0o606',
      async () => {
        const closed = await privateQueue(0o600);
        const shared = await privateQueue(0o606);
        const reply = await privateQueue(0o666);
        const refused = await spawn('mq-open-by-id', [closed.id, reply, 'sneaky'], { user: NOBODY });
        expect((await refused.exited).code).toBe(0);
        expect(await drain(reply)).toEqual(['1:EACCES']);
        const admitted = await spawn('mq-open-by-id', [shared.id, reply, 'by id from nobody'], { user: NOBODY });
        expect((await admitted.exited).code).toBe(0);
        expect(await drain(reply)).toEqual(['1:ok', '2:sent']);
        expect(show(await shared.receive({ nowait: true }))).toBe('1:by id from nobody');
        expect(await closed.stat()).toMatchObject({ messages: 0 });
      },
    );

    it('keeps a queue and its messages after the process that made it has exited', async () => {
      const key = await uniqueKey('outlives');
      const reply = await privateQueue();
      const child = await spawn('mq-open', [key, { create: true, exclusive: true, mode: 0o600 }, reply, 'left behind']);
      expect((await child.exited).code).toBe(0);
      expect(await drain(reply)).toEqual(['1:ok', '2:sent']);
      const queue = removeAfter(await queues().open(key));
      expect(show(await queue.receive({ nowait: true }))).toBe('1:left behind');
      expect(await queue.stat()).toMatchObject({ lastSendPid: child.pid });
    });

    it('reports its state with stat() and changes limits, mode and owner with set()', async () => {
      const key = await uniqueKey('stat');
      const before = Math.floor(Date.now() / 1000);
      const queue = removeAfter(await queues().open(key, { create: true, mode: 0o640 }));
      const fresh = await queue.stat();
      expect(fresh).toMatchObject({ messages: 0, bytes: 0, lastSendPid: 0, lastReceivePid: 0, lastSendTime: 0, lastReceiveTime: 0 });
      expect(fresh.perm).toMatchObject({ key, mode: 0o640 });
      expect(fresh.perm.uid).toBe(fresh.perm.cuid);
      expect(fresh.maxBytes).toBeGreaterThan(0);
      expect(fresh.changeTime).toBeGreaterThanOrEqual(before - 1);
      await queue.send(1, 'abc');
      await queue.send(2, 'defgh');
      const full = await queue.stat();
      expect(full).toMatchObject({ messages: 2, bytes: 8 });
      expect(full.lastSendPid).toBeGreaterThan(0);
      expect(full.lastSendTime).toBeGreaterThanOrEqual(before - 1);
      await queue.receive();
      expect(await queue.stat()).toMatchObject({ messages: 1, bytes: 5, lastReceivePid: full.lastSendPid });
      await queue.set({ maxBytes: 100, mode: 0o604 });
      expect(await queue.stat()).toMatchObject({ maxBytes: 100, perm: { mode: 0o604 } });
      await queue.set({ uid: NOBODY.uid, gid: NOBODY.gid });
      const owned = await queue.stat();
      expect(owned.perm).toMatchObject({ uid: NOBODY.uid, gid: NOBODY.gid, cuid: fresh.perm.cuid, mode: 0o604 });
      expect(owned.maxBytes).toBe(100);
    });

    it('survives a child killed by SIGKILL while sending or waiting: whole messages only, other users unaffected', async () => {
      const queue = await privateQueue();
      await queue.set({ maxBytes: 256 });
      const flood = await spawn('mq-flood', [queue]);
      for (let i = 0; i < 5; i++) expect(text((await queue.receive({ timeout: 10_000 })).data)).toBe(`seq:${i}`);
      expect(flood.kill('SIGKILL')).toBe(true);
      expect(await flood.exited).toEqual({ code: null, signal: 'SIGKILL' });
      // Everything left is whole and in sequence: the kill cut no message.
      const left = await drain(queue);
      expect(left).toEqual(left.map((_, i) => `1:seq:${i + 5}`));
      // A child killed while blocked in a receive takes nothing with it.
      const ready = await privateQueue();
      const waiter = await spawn('mq-relay', [queue, null, 1, { type: 42 }, ready]);
      expect(show(await ready.receive({ timeout: 10_000 }))).toBe('1:ready');
      await sleep(50); // the child is now blocked in its receive
      waiter.kill('SIGKILL');
      expect((await waiter.exited).signal).toBe('SIGKILL');
      await queue.send(42, 'after the kill');
      expect(show(await queue.receive({ nowait: true }))).toBe('42:after the kill');
      // And another process still uses the queue normally.
      const reply = await privateQueue();
      const relay = await spawn('mq-relay', [queue, reply, 1, {}]);
      await queue.send(3, 'still works');
      expect(show(await reply.receive({ timeout: 10_000 }))).toBe('3:still works');
      expect((await relay.exited).code).toBe(0);
    });

    it('keeps 1,000 receives pending on 1,000 queues without stalling timers or file I/O, then satisfies each', { timeout: 120_000 }, async () => {
      const count = 1000;
      const all: MessageQueue[] = [];
      for (let i = 0; i < count; i++) all.push(await privateQueue());
      let settledEarly = 0;
      const pending = all.map((queue, i) =>
        queue.receive({ type: i + 1 }).then((message) => {
          settledEarly++;
          return message;
        }),
      );
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        const file = await readOwnSource(import.meta.url);
        expect(file).toContain('1,000 receives');
        await sleep(500);
        expect(ticks).toBeGreaterThanOrEqual(10);
        expect(settledEarly).toBe(0);
      } finally {
        clearInterval(timer);
      }
      // Each queue gets a decoy of another type first, then its own message.
      for (let i = 0; i < count; i++) {
        await all[i]!.send(i + 2, 'decoy');
        await all[i]!.send(i + 1, `queue ${i}`);
      }
      const messages = await Promise.all(pending);
      expect(messages.map(show)).toEqual(all.map((_, i) => `${i + 1}:queue ${i}`));
      for (const queue of all.slice(0, 3)) expect(await queue.stat()).toMatchObject({ messages: 1 });
    });

    it('rejects misuse with TypeError/RangeError before any system call, and reports what the kernel refuses', async () => {
      const queue = await privateQueue();
      await expect(queues().open(1.5)).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open('5' as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queues().open(2 ** 32)).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(-(2 ** 31) - 1)).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(IPC_PRIVATE, 'x' as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queues().open(IPC_PRIVATE, { create: 'yes' } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queues().open(IPC_PRIVATE, { mode: 0o1000 })).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(IPC_PRIVATE, { mode: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(12345, { exclusive: true } as MessageQueueOpenOptions)).rejects.toBeInstanceOf(RangeError);
      await expect(queues().ftok(context.tempPath('any'), 0)).rejects.toBeInstanceOf(RangeError);
      await expect(queues().ftok(context.tempPath('any'), 256)).rejects.toBeInstanceOf(RangeError);
      await expect(queues().ftok('', 1)).rejects.toBeInstanceOf(RangeError);
      await expect(queues().ftok(5 as never, 1)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.send(0, 'x')).rejects.toBeInstanceOf(RangeError);
      await expect(queue.send(-1, 'x')).rejects.toBeInstanceOf(RangeError);
      await expect(queue.send(1.5, 'x')).rejects.toBeInstanceOf(RangeError);
      await expect(queue.send('1' as never, 'x')).rejects.toBeInstanceOf(TypeError);
      await expect(queue.send(1, 42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.send(1, 'x', { nowait: 'yes' } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.send(1, 'x', { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.receive({ type: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.receive({ type: '1' } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.receive({ maxBytes: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.receive({ except: true })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.receive({ type: -3, except: true })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.receive({ noError: 1 } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.receive({ signal: 'x' } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.set(undefined as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.set({ maxBytes: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.set({ mode: 0o1000 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.set({ uid: 'root' } as never)).rejects.toBeInstanceOf(TypeError);
      // What the kernel refuses comes back as its errno.
      // ftok examines the path where the host has a disk (Node); a page has none.
      if (onNode) await expect(queues().ftok(context.tempPath('missing'), 1)).rejects.toMatchObject({ name: 'IpcError', code: 'ENOENT', syscall: 'ftok' });
      await expect(queue.send(1, new Uint8Array(1 << 24))).rejects.toMatchObject({ name: 'IpcError', code: 'EINVAL', syscall: 'msgsnd' });
      // The queue is untouched and still works.
      expect(await queue.stat()).toMatchObject({ messages: 0 });
      await queue.send(1, 'ok');
      expect(show(await queue.receive())).toBe('1:ok');
    });

    it('rejects use after close with EBADF, ends pending operations with EBADF, and keeps the queue', async () => {
      const key = await uniqueKey('closing');
      const queue = await queues().open(key, { create: true });
      onTestFinished(() => queue.close());
      const other = removeAfter(await queues().open(key));
      await other.set({ maxBytes: 4 });
      await other.send(1, 'full');
      const outcomes = Promise.all([outcome(queue.receive({ type: 2 })), outcome(queue.send(3, 'wait')), outcome(queue.send(4, 'behind'))]);
      await sleep(20);
      await queue.close();
      expect(queue.closed).toBe(true);
      expect(await outcomes).toEqual(['EBADF', 'EBADF', 'EBADF']);
      await expect(queue.send(1, 'x')).rejects.toMatchObject({ code: 'EBADF' });
      await expect(queue.receive()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(queue.stat()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(queue.set({ mode: 0o600 })).rejects.toMatchObject({ code: 'EBADF' });
      await expect(queue.remove()).rejects.toMatchObject({ code: 'EBADF' });
      await queue.close(); // a second close does nothing
      // Closing is not removing: the queue and its message are still there.
      expect(await drain(other)).toEqual(['1:full']);
    });

    describe.skipIf(!context.hasFeature('host-interop'))('with host tools', () => {
      it('is listed by ipcs -q, and ipcrm -q removes it under a waiting receiver (EIDRM, then EINVAL)', async () => {
        const queue = await privateQueue(0o640);
        await queue.send(1, 'one');
        await queue.send(2, 'two');
        expect(ipcsQueues().find((row) => row.id === queue.id)).toMatchObject({ key: 0, perms: '640', messages: 2 });
        const waiting = queue.receive({ type: 3 });
        await sleep(50);
        execFileSync('ipcrm', ['-q', String(queue.id)]);
        await expect(waiting).rejects.toMatchObject({ code: 'EIDRM' });
        await expect(queue.send(3, 'gone')).rejects.toMatchObject({ code: 'EINVAL' });
        expect(ipcsQueues().some((row) => row.id === queue.id)).toBe(false);
      });

      it('stat().lastReceivePid is the process id after a receive that found the message, the waiting thread id after one that waited', async () => {
        const queue = await privateQueue();
        await queue.send(1, 'there already');
        await queue.receive();
        expect((await queue.stat()).lastReceivePid).toBe(hostPid);
        // A receive that waits does so on a waiter thread; Linux hands the message to that waiting
        // task (pipelined_send) and records its thread id, not the process's.
        const waiting = queue.receive({ timeout: 20_000 });
        await sleep(50);
        await queue.send(1, 'handed over');
        expect(show(await waiting)).toBe('1:handed over');
        const { lastReceivePid } = await queue.stat();
        expect(lastReceivePid).not.toBe(hostPid);
        expect(readFileSync(`/proc/${lastReceivePid}/status`, 'utf8')).toMatch(new RegExp(`^Tgid:\\s+${hostPid}$`, 'm'));
      });

      it('opens a queue made by ipcmk -Q by the id it printed, sends on it, and sees ipcrm remove it', async () => {
        const output = execFileSync('ipcmk', ['-Q', '-p', '0600'], { encoding: 'utf8' });
        const id = Number(/Message queue id: (\d+)/.exec(output)?.[1]);
        expect(Number.isInteger(id)).toBe(true);
        onTestFinished(() => {
          if (ipcsQueues().some((row) => row.id === id)) execFileSync('ipcrm', ['-q', String(id)]);
        });
        const row = ipcsQueues().find((entry) => entry.id === id)!;
        const queue = await queues().openById(id);
        onTestFinished(() => queue.close());
        expect(queue.id).toBe(id);
        expect(queue.key).toBe(row.key | 0);
        await queue.send(7, 'by id');
        await queue.send(8, 'second');
        expect(ipcsQueues().find((entry) => entry.id === id)).toMatchObject({ messages: 2 });
        expect(show(await queue.receive({ type: 8 }))).toBe('8:second');
        const waiting = queue.receive({ type: 99 });
        await sleep(50);
        execFileSync('ipcrm', ['-q', String(id)]);
        await expect(waiting).rejects.toMatchObject({ code: 'EIDRM' });
        expect(ipcsQueues().some((entry) => entry.id === id)).toBe(false);
        await expect(queues().openById(id)).rejects.toMatchObject({ code: 'EINVAL' });
      });

      it('opens and uses a queue made by ipcmk -Q, by its key', async () => {
        const output = execFileSync('ipcmk', ['-Q', '-p', '0640'], { encoding: 'utf8' });
        const id = Number(/(\d+)\s*$/.exec(output.trim())?.[1]);
        expect(Number.isInteger(id)).toBe(true);
        onTestFinished(() => {
          if (ipcsQueues().some((row) => row.id === id)) execFileSync('ipcrm', ['-q', String(id)]);
        });
        const row = ipcsQueues().find((entry) => entry.id === id)!;
        expect(row).toMatchObject({ perms: '640', messages: 0 });
        const queue = removeAfter(await queues().open(row.key));
        expect(queue.id).toBe(id);
        expect((await queue.stat()).perm).toMatchObject({ key: row.key | 0, mode: 0o640 });
        await queue.send(5, 'from ipcx');
        expect(ipcsQueues().find((entry) => entry.id === id)).toMatchObject({ messages: 1 });
        expect(show(await queue.receive())).toBe('5:from ipcx');
        await queue.remove();
        expect(ipcsQueues().some((entry) => entry.id === id)).toBe(false);
      });
    });
  });
}

/** The manifest's use of System V message queues: a message through a new private queue. */
export async function messageQueueProbe(context: SuiteContext): Promise<void> {
  const queue = await context.backend().messageQueues.open(IPC_PRIVATE, { create: true });
  try {
    await queue.send(7, 'manifest');
    const message = await queue.receive({ nowait: true });
    expect([message.type, text(message.data)]).toEqual([7, 'manifest']);
  } finally {
    await queue.remove();
    await queue.close();
  }
}
