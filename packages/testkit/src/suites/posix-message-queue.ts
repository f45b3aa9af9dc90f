/**
 * POSIX message queues, as the kernel defines them (mq_overview(7)): named queues of whole
 * messages, highest priority first and FIFO within one priority, attributes, timed and non-blocking
 * forms with the kernel's codes, permissions checked against the caller's identity.
 */
import { onTestFinished, describe, expect, it } from 'vitest';
import { execFile, spawn as spawnProgram } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  MQ_PRIO_MAX,
  isIpcError,
  type ByteWriter,
  type ChildProcess,
  type PosixMessage,
  type PosixMessageQueue,
  type PosixMessageQueueOpenOptions,
  type SpawnOptions,
} from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { LineReader, NOBODY, closeAfter, closeAllAfter, itAsAnotherUser, readToEnd, sleep, text } from '../util.js';

/** A message as `[text, priority]`, the shape the children report. */
type Entry = [string, number];

/**
 * A program that is not ipcx, for the host-interop check: Python calling the C library's
 * mq_open/mq_receive/mq_send through ctypes. It receives one message and prints it as
 * `text priority`, then sends `from python` with priority 9 and `python low` with priority 1.
 */
const PYTHON_PEER = `
import ctypes, ctypes.util, os, sys
lib = ctypes.CDLL(ctypes.util.find_library('rt') or None, use_errno=True)
lib.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
lib.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint)]
lib.mq_receive.restype = ctypes.c_ssize_t
lib.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
def check(result):
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result
mq = check(lib.mq_open(sys.argv[1].encode(), os.O_RDWR))
buffer = ctypes.create_string_buffer(int(sys.argv[2]))
priority = ctypes.c_uint()
n = check(lib.mq_receive(mq, buffer, len(buffer), ctypes.byref(priority)))
print(buffer.raw[:n].decode(), priority.value)
for text, prio in ((b'python low', 1), (b'from python', 9)):
    check(lib.mq_send(mq, text, len(text), prio))
`;

/** A uid/gid with no privileges (nobody), for permission checks. */

export function posixMessageQueueSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('posix-message-queue'))('posix message queue', () => {
    const queues = () => context.backend().posixMessageQueues;
    const processes = () => context.backend().processes;

    /** Unlinks `name` when the test finishes, passed or failed (a name already gone is fine). */
    const unlinkAfter = (name: string): string => {
      onTestFinished(async () => {
        await queues()
          .unlink(name)
          .catch((error: unknown) => {
            if (!isIpcError(error, 'ENOENT')) throw error;
          });
      });
      return name;
    };

    /** Creates a queue under a fresh unique name; it is closed and unlinked when the test finishes. */
    const createQueue = async (label: string, options: PosixMessageQueueOpenOptions = {}): Promise<PosixMessageQueue> => {
      const name = unlinkAfter(context.uniqueName(label));
      return closeAfter(await queues().open(name, { create: true, exclusive: true, ...options }));
    };

    /** Starts a kit child; it is killed when the test finishes if it is still running. */
    const spawn = async (child: string, options: SpawnOptions): Promise<ChildProcess> => {
      const handle = await processes().spawn(context.child(child), options);
      onTestFinished(async () => {
        if (handle.kill('SIGKILL')) await handle.exited;
      });
      return handle;
    };

    /** Runs a child that writes one JSON report to the pipe writer it gets; returns the report. */
    const runReporting = async (child: string, args: (report: ByteWriter) => unknown[], options: Omit<SpawnOptions, 'args'> = {}): Promise<unknown> => {
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      const handle = await spawn(child, { ...options, args: args(writer) });
      await writer.close();
      const report = text(await readToEnd(reader));
      expect(await handle.exited).toEqual({ code: 0, signal: null });
      return JSON.parse(report!);
    };

    const entry = (message: PosixMessage): Entry => [text(message.data)!, message.priority];

    /** Resolves true if `promise` is still pending after `ms` (only ever used where nothing can settle it). */
    const stillPending = async (promise: Promise<unknown>, ms = 30): Promise<boolean> => {
      let settled = false;
      promise.then(
        () => (settled = true),
        () => (settled = true),
      );
      await sleep(ms);
      return !settled;
    };

    const mixed: Entry[] = [['a', 1], ['b', 5], ['c', 1], ['d', 0], ['e', 5], ['f', 3], ['g', 0]];
    // Highest priority first; within one priority, the order they were sent in.
    const byPriority: Entry[] = [['b', 5], ['e', 5], ['f', 3], ['a', 1], ['c', 1], ['d', 0], ['g', 0]];

    it('delivers a child\'s messages highest priority first, FIFO within one priority', async () => {
      const queue = await createQueue('prio', { maxMessages: 8, messageSize: 64 });
      const child = await spawn('pmq-send', { args: [queue, mixed, 0] });
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(queue.attributes().currentMessages).toBe(mixed.length);
      const received: Entry[] = [];
      for (let i = 0; i < mixed.length; i++) received.push(entry(await queue.receive({ nowait: true })));
      expect(received).toEqual(byPriority);
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it('orders messages the same way for a child that receives them', async () => {
      const queue = await createQueue('prio-rev', { maxMessages: 8, messageSize: 64 });
      for (const [message, priority] of mixed) await queue.send(message, { priority, nowait: true });
      const report = await runReporting('pmq-receive', (writer) => [queue, mixed.length, writer]);
      expect(report).toEqual(byPriority);
      expect(queue.attributes().currentMessages).toBe(0);
    });

    it('keeps bytes and boundaries, including empty and full-size messages, at the highest priority', async () => {
      const queue = await createQueue('bytes', { maxMessages: 4, messageSize: 256 });
      const full = new Uint8Array(256).map((_, i) => (i * 7) % 256);
      await queue.send(full, { priority: 2 });
      await queue.send(new Uint8Array(0), { priority: 2 });
      await queue.send('top', { priority: MQ_PRIO_MAX - 1 });
      expect(entry(await queue.receive())).toEqual(['top', MQ_PRIO_MAX - 1]);
      const first = await queue.receive();
      expect(first.priority).toBe(2);
      expect(new Uint8Array(first.data)).toEqual(full);
      const empty = await queue.receive();
      expect(empty.data.length).toBe(0);
    });

    it('reports its attributes as messages come and go', async () => {
      const queue = await createQueue('attrs', { maxMessages: 4, messageSize: 128 });
      expect(queue.attributes()).toEqual({ maxMessages: 4, messageSize: 128, currentMessages: 0 });
      const child = await spawn('pmq-send', { args: [queue, [['x', 0], ['y', 0], ['z', 0]], 0] });
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(queue.attributes()).toEqual({ maxMessages: 4, messageSize: 128, currentMessages: 3 });
      // Another handle on the same name sees the same queue; attributes given for an existing name are ignored.
      const other = closeAfter(await queues().open(queue.name, { create: true, maxMessages: 2, messageSize: 16 }));
      expect(other.attributes()).toEqual({ maxMessages: 4, messageSize: 128, currentMessages: 3 });
      expect(entry(await other.receive())).toEqual(['x', 0]);
      expect(queue.attributes().currentMessages).toBe(2);
      await queue.send('w');
      expect(other.attributes().currentMessages).toBe(3);
    });

    it('takes the system defaults for attributes not given', async () => {
      const plain = await createQueue('defaults');
      const defaults = plain.attributes();
      expect(defaults.maxMessages).toBeGreaterThan(0);
      expect(defaults.messageSize).toBeGreaterThan(0);
      const sized = await createQueue('half-defaults', { messageSize: 32 });
      expect(sized.attributes()).toEqual({ maxMessages: defaults.maxMessages, messageSize: 32, currentMessages: 0 });
      const counted = await createQueue('half-defaults', { maxMessages: 3 });
      expect(counted.attributes()).toEqual({ maxMessages: 3, messageSize: defaults.messageSize, currentMessages: 0 });
      if (context.hasFeature('host-interop')) {
        const read = (file: string) => Number(readFileSync(`/proc/sys/fs/mqueue/${file}`, 'utf8'));
        expect(defaults).toEqual({ maxMessages: read('msg_default'), messageSize: read('msgsize_default'), currentMessages: 0 });
      }
    });

    it('fails timed forms with ETIMEDOUT and nowait forms with EAGAIN, changing nothing', async () => {
      const queue = await createQueue('timed', { maxMessages: 2, messageSize: 32 });
      await expect(queue.receive({ timeout: 30 })).rejects.toMatchObject({ name: 'IpcError', code: 'ETIMEDOUT' });
      await expect(queue.receive({ timeout: 0 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EAGAIN' });
      await queue.send('one', { priority: 1 });
      await queue.send('two', { priority: 2 });
      await expect(queue.send('three', { timeout: 30 })).rejects.toMatchObject({ name: 'IpcError', code: 'ETIMEDOUT' });
      await expect(queue.send('three', { nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      expect(queue.attributes().currentMessages).toBe(2);
      expect(entry(await queue.receive())).toEqual(['two', 2]);
      expect(entry(await queue.receive())).toEqual(['one', 1]);
      // A message that arrives before the timeout is delivered.
      const waiting = queue.receive({ timeout: 20_000 });
      await queue.send('in time');
      expect(entry(await waiting)).toEqual(['in time', 0]);
    });

    it('wakes a blocked receive when a child sends', async () => {
      const queue = await createQueue('wake-recv', { maxMessages: 2, messageSize: 32 });
      const receiving = queue.receive();
      expect(await stillPending(receiving)).toBe(true);
      const child = await spawn('pmq-send', { args: [queue, [['from child', 7]], 0] });
      expect(entry(await receiving)).toEqual(['from child', 7]);
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(queue.attributes().currentMessages).toBe(0);
    });

    it('releases a blocked send when a child drains the full queue', async () => {
      const queue = await createQueue('wake-send', { maxMessages: 2, messageSize: 32 });
      await queue.send('one', { nowait: true });
      await queue.send('two', { nowait: true });
      const sending = queue.send('three');
      expect(await stillPending(sending)).toBe(true);
      const report = runReporting('pmq-receive', (writer) => [queue, 3, writer]);
      await sending;
      expect(await report).toEqual([['one', 0], ['two', 0], ['three', 0]]);
      expect(queue.attributes().currentMessages).toBe(0);
    });

    it('serves pending receives of one handle in call order', async () => {
      const queue = await createQueue('order', { maxMessages: 4, messageSize: 32 });
      const first = queue.receive();
      const second = queue.receive();
      await queue.send('first');
      await queue.send('second');
      expect(entry(await first)).toEqual(['first', 0]);
      expect(entry(await second)).toEqual(['second', 0]);
    });

    it('loses no message to an aborted receive and sends nothing for an aborted send', async () => {
      const queue = await createQueue('abort', { maxMessages: 2, messageSize: 32 });
      const controller = new AbortController();
      const receiving = queue.receive({ signal: controller.signal });
      expect(await stillPending(receiving)).toBe(true);
      controller.abort();
      await expect(receiving).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await expect(queue.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      const child = await spawn('pmq-send', { args: [queue, [['after abort', 3]], 0] });
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(entry(await queue.receive({ timeout: 20_000 }))).toEqual(['after abort', 3]);

      await queue.send('kept 1');
      await queue.send('kept 2');
      const sendController = new AbortController();
      const sending = queue.send('never sent', { signal: sendController.signal });
      sendController.abort();
      await expect(sending).rejects.toMatchObject({ name: 'AbortError' });
      expect(queue.attributes().currentMessages).toBe(2);
      expect(entry(await queue.receive())).toEqual(['kept 1', 0]);
      expect(entry(await queue.receive())).toEqual(['kept 2', 0]);
      await expect(queue.receive({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it('reports EEXIST, ENOENT, ENAMETOOLONG, EMSGSIZE, EINVAL and EBADF as the kernel does', async () => {
      const queue = await createQueue('errors', { maxMessages: 2, messageSize: 16 });
      await expect(queues().open(queue.name, { create: true, exclusive: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EEXIST' });
      const missing = unlinkAfter(context.uniqueName('missing'));
      await expect(queues().open(missing)).rejects.toMatchObject({ name: 'IpcError', code: 'ENOENT' });
      await expect(queues().unlink(missing)).rejects.toMatchObject({ code: 'ENOENT' });
      // NAME_MAX is 255 characters after the slash.
      await expect(queues().open(`/${'n'.repeat(256)}`, { create: true })).rejects.toMatchObject({ name: 'IpcError', code: 'ENAMETOOLONG' });

      await expect(queue.send(new Uint8Array(17))).rejects.toMatchObject({ name: 'IpcError', code: 'EMSGSIZE' });
      await queue.send(new Uint8Array(16).fill(9));
      expect(new Uint8Array((await queue.receive()).data)).toEqual(new Uint8Array(16).fill(9));

      for (const attributes of [{ maxMessages: 0 }, { messageSize: 0 }, { maxMessages: 100_000 }, { messageSize: 64 << 20 }]) {
        const name = unlinkAfter(context.uniqueName('bad-attrs'));
        await expect(queues().open(name, { create: true, ...attributes })).rejects.toMatchObject({ name: 'IpcError', code: 'EINVAL' });
        await expect(queues().open(name)).rejects.toMatchObject({ code: 'ENOENT' });
        // Checked only when the open creates the queue: an open with create that finds the queue
        // there ignores the attributes, and the queue keeps its own.
        const existing = closeAfter(await queues().open(queue.name, { create: true, ...attributes }));
        expect(existing.attributes()).toMatchObject({ maxMessages: 2, messageSize: 16 });
      }

      const reader = closeAfter(await queues().open(queue.name, { access: 'read' }));
      const writer = closeAfter(await queues().open(queue.name, { access: 'write' }));
      await expect(reader.send('x')).rejects.toMatchObject({ code: 'EBADF' });
      await expect(writer.receive({ nowait: true })).rejects.toMatchObject({ code: 'EBADF' });
      await writer.send('one way');
      expect(entry(await reader.receive())).toEqual(['one way', 0]);
    });

    itAsAnotherUser(
      context,
      'refuses another user with EACCES as the mode says, and applies that user\'s limits',
      async () => {
        const open = (name: string, options: PosixMessageQueueOpenOptions) =>
          runReporting('pmq-open', (writer) => [name, options, writer], { user: NOBODY });
        const privateQueue = await createQueue('private', { mode: 0o600, maxMessages: 2, messageSize: 32 });
        expect(await open(privateQueue.name, { access: 'read' })).toEqual({ code: 'EACCES' });
        expect(await open(privateQueue.name, { access: 'readwrite' })).toEqual({ code: 'EACCES' });
        const readable = await createQueue('readable', { mode: 0o644, maxMessages: 2, messageSize: 32 });
        expect(await open(readable.name, { access: 'read' })).toEqual({ attributes: { maxMessages: 2, messageSize: 32, currentMessages: 0 } });
        expect(await open(readable.name, { access: 'write' })).toEqual({ code: 'EACCES' });
        if (context.hasFeature('host-interop')) {
          // An unprivileged caller may not exceed msg_max / msgsize_max.
          for (const [file, key] of [['msg_max', 'maxMessages'], ['msgsize_max', 'messageSize']] as const) {
            const limit = Number(readFileSync(`/proc/sys/fs/mqueue/${file}`, 'utf8'));
            const name = unlinkAfter(context.uniqueName('over-limit'));
            expect(await open(name, { create: true, [key]: limit + 1 })).toEqual({ code: 'EINVAL' });
            await expect(queues().open(name)).rejects.toMatchObject({ code: 'ENOENT' });
          }
        }
      },
    );

    it.skipIf(!context.hasFeature('host-interop'))('is the same queue for a program that is not ipcx (C library through Python)', async () => {
      const queue = await createQueue('interop', { maxMessages: 4, messageSize: 64 });
      await queue.send('from ipcx', { priority: 4 });
      const { stdout } = await promisify(execFile)('python3', ['-c', PYTHON_PEER, queue.name, '64']);
      expect(stdout.trim()).toBe('from ipcx 4');
      expect(entry(await queue.receive({ nowait: true }))).toEqual(['from python', 9]);
      expect(entry(await queue.receive({ nowait: true }))).toEqual(['python low', 1]);
    });

    it('rejects misuse with TypeError/RangeError before any system call', async () => {
      const queue = await createQueue('misuse', { maxMessages: 2, messageSize: 16 });
      for (const bad of ['no-slash', '/two/slashes', '/', '', 42, null]) {
        await expect(queues().open(bad as never, { create: true })).rejects.toBeInstanceOf(bad === '' ? RangeError : TypeError);
        await expect(queues().unlink(bad as never)).rejects.toBeInstanceOf(bad === '' ? RangeError : TypeError);
      }
      const name = unlinkAfter(context.uniqueName('never-made'));
      await expect(queues().open(name, { create: true, maxMessages: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(name, { create: true, messageSize: -5 })).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(name, { create: true, messageSize: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(name, { create: true, maxMessages: '4' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(queues().open(name, { create: true, mode: 'rw' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(queues().open(name, { create: true, mode: 0o1000 })).rejects.toBeInstanceOf(RangeError);
      await expect(queues().open(name, { create: true, access: 'rw' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(queues().open(name, { create: 'yes' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(queues().open(name, 'options' as never)).rejects.toBeInstanceOf(TypeError);
      // None of those reached the kernel: the name was never created.
      await expect(queues().open(name)).rejects.toMatchObject({ code: 'ENOENT' });

      await expect(queue.send(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(queue.send('x', { priority: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.send('x', { priority: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.send('x', { priority: MQ_PRIO_MAX })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.send('x', { priority: '1' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(queue.send('x', { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(queue.send('x', { nowait: 1 as never })).rejects.toBeInstanceOf(TypeError);
      await expect(queue.receive({ signal: 'x' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(queue.receive({ timeout: Number.NaN })).rejects.toBeInstanceOf(TypeError);
      expect(queue.attributes().currentMessages).toBe(0);
      // Still usable afterwards.
      await queue.send('ok', { priority: 4 });
      expect(entry(await queue.receive())).toEqual(['ok', 4]);
    });

    it('rejects use after close with EBADF, ends pending operations, and keeps the name', async () => {
      const queue = await createQueue('closed', { maxMessages: 1, messageSize: 16 });
      const receiving = queue.receive();
      await queue.close();
      await expect(receiving).rejects.toMatchObject({ name: 'IpcError', code: 'EBADF' });
      await expect(queue.receive()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(queue.send('x')).rejects.toMatchObject({ code: 'EBADF' });
      expect(() => queue.attributes()).toThrow(expect.objectContaining({ code: 'EBADF' }));
      expect(queue.closed).toBe(true);
      await queue.close(); // a second close does nothing

      // Closing is not removing: the queue is still there under its name.
      const again = closeAfter(await queues().open(queue.name));
      await again.send('full');
      const sending = again.send('blocked');
      await again.close();
      await expect(sending).rejects.toMatchObject({ code: 'EBADF' });
      const third = closeAfter(await queues().open(queue.name));
      expect(third.attributes().currentMessages).toBe(1);
    });

    describe('notification (mq_notify) and receive size', () => {
      const notifyChild = async (queue: PosixMessageQueue, timeoutMs: number) => {
        const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
        const child = await spawn('pmq-notify', { args: [queue, writer, timeoutMs] });
        return { child, lines: new LineReader(reader) };
      };

      it('notifies once when a message arrives in the empty queue; the message stays; one registration per queue (EBUSY)', async () => {
        const queue = await createQueue('notify', { maxMessages: 4, messageSize: 64 });
        const notified = queue.notify({ timeout: 20_000 });
        // A second registration, through this handle, another handle or another process: EBUSY.
        await expect(queue.notify()).rejects.toMatchObject({ name: 'IpcError', code: 'EBUSY', syscall: 'mq_notify' });
        const other = closeAfter(await queues().open(queue.name));
        await expect(other.notify()).rejects.toMatchObject({ code: 'EBUSY' });
        const { child, lines } = await notifyChild(queue, 20_000);
        expect(await lines.json({ timeout: 20_000 })).toEqual({ code: 'EBUSY' });
        expect((await child.exited).code).toBe(0);
        expect(await stillPending(notified)).toBe(true);
        await queue.send('first');
        await notified;
        expect(queue.attributes().currentMessages).toBe(1);
        // One-shot, and only on empty -> not empty: re-armed on a queue with a message, a second send does not fire it.
        const again = queue.notify({ timeout: 20_000 });
        await queue.send('second');
        expect(await stillPending(again)).toBe(true);
        expect(entry(await queue.receive())).toEqual(['first', 0]);
        expect(entry(await queue.receive())).toEqual(['second', 0]);
        await queue.send('third', { priority: 3 });
        await again;
        expect(entry(await queue.receive({ nowait: true }))).toEqual(['third', 3]);
        // Linux drops a process's registration when that process closes any descriptor of the queue.
        const dropped = queue.notify({ timeout: 20_000 });
        await other.close();
        await expect(dropped).rejects.toMatchObject({ name: 'IpcError', code: 'ECANCELED', syscall: 'mq_notify' });
        const fresh = queue.notify({ timeout: 20_000 });
        await queue.send('fourth');
        await fresh;
      });

      it('an ipcx receive pending meanwhile does not suppress the notification (it waits outside mq_receive)', async () => {
        const queue = await createQueue('notify-receiver');
        const reader = closeAfter(await queues().open(queue.name, { access: 'read' }));
        const receiving = reader.receive({ timeout: 20_000 });
        const notified = queue.notify({ timeout: 20_000 });
        await sleep(20);
        await queue.send('both');
        await notified;
        expect(entry(await receiving)).toEqual(['both', 0]);
      });

      it.skipIf(!context.hasFeature('host-interop'))('a program blocked in mq_receive takes the message instead, and no notification is sent', async () => {
        const queue = await createQueue('notify-blocked');
        const receiver = `
import ctypes, ctypes.util, os, sys
lib = ctypes.CDLL(ctypes.util.find_library('rt') or None, use_errno=True)
lib.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
lib.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint)]
lib.mq_receive.restype = ctypes.c_ssize_t
mq = lib.mq_open(sys.argv[1].encode(), os.O_RDONLY)
buffer = ctypes.create_string_buffer(8192)
priority = ctypes.c_uint()
n = lib.mq_receive(mq, buffer, len(buffer), ctypes.byref(priority))
print(buffer.raw[:n].decode(), priority.value, flush=True)
`;
        const program = spawnProgram('python3', ['-c', receiver, queue.name]);
        onTestFinished(() => {
          if (program.exitCode === null && program.signalCode === null) program.kill('SIGKILL');
        });
        const output = new Promise<string>((resolve) => {
          let text = '';
          program.stdout.on('data', (chunk) => (text += String(chunk)));
          program.on('exit', () => resolve(text.trim()));
        });
        // Blocked inside mq_receive: the kernel shows the task sleeping in mqueue's wait (wq_sleep).
        const deadline = Date.now() + 20_000;
        while (readFileSync(`/proc/${program.pid}/wchan`, 'utf8') !== 'wq_sleep') {
          if (Date.now() > deadline) throw new Error('python never blocked in mq_receive');
          await sleep(10);
        }
        const notified = queue.notify({ timeout: 20_000 });
        await queue.send('to the blocked receiver', { priority: 2 });
        expect(await output).toBe('to the blocked receiver 2');
        expect(await stillPending(notified, 100)).toBe(true);
        // With nobody blocked, the next message fires it.
        await queue.send('to the queue');
        await notified;
      });

      it('notifies a registered child when this process sends; meanwhile nobody else can register', async () => {
        const queue = await createQueue('notify-child');
        const { child, lines } = await notifyChild(queue, 20_000);
        expect(await lines.next({ timeout: 20_000 })).toBe('registered');
        await expect(queue.notify()).rejects.toMatchObject({ code: 'EBUSY' });
        await queue.send('wake up');
        expect(await lines.json({ timeout: 20_000 })).toEqual({ notified: true });
        expect((await child.exited).code).toBe(0);
        // The child's registration was used up: this process can register now.
        const mine = queue.notify({ timeout: 20_000 });
        expect(entry(await queue.receive())).toEqual(['wake up', 0]);
        await queue.send('mine');
        await mine;
      });

      it('abort, timeout and close unregister; a child whose registration times out frees the queue', async () => {
        const queue = await createQueue('notify-cancel');
        const controller = new AbortController();
        const aborted = queue.notify({ signal: controller.signal });
        controller.abort();
        await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
        await expect(queue.notify({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
        await expect(queue.notify({ timeout: 30 })).rejects.toMatchObject({ name: 'IpcError', code: 'ETIMEDOUT', syscall: 'mq_notify' });
        const { child, lines } = await notifyChild(queue, 50);
        expect(await lines.next({ timeout: 20_000 })).toBe('registered');
        expect(await lines.json({ timeout: 20_000 })).toEqual({ code: 'ETIMEDOUT' });
        expect((await child.exited).code).toBe(0);
        // Every one of those unregistered: a registration works and fires.
        const pending = queue.notify({ timeout: 20_000 });
        const closing = queue.notify();
        await expect(closing).rejects.toMatchObject({ code: 'EBUSY' });
        await queue.send('x');
        await pending;
        await queue.receive();
        const cut = queue.notify();
        await queue.close();
        await expect(cut).rejects.toMatchObject({ code: 'EBADF' });
        await expect(queue.notify()).rejects.toMatchObject({ code: 'EBADF' });
      });

      it('notifications() re-arms before each yield, so the loop body drains without missing; return() unregisters', async () => {
        const queue = await createQueue('notify-loop', { maxMessages: 8, messageSize: 32 });
        const sender = await spawn('pmq-send', { args: [queue, [['one', 0]], 50] });
        const received: Entry[] = [];
        let rounds = 0;
        for await (const _ of queue.notifications({ signal: AbortSignal.timeout(20_000) })) {
          rounds++;
          // Re-armed already: what arrives during the drain is taken by it or fires the next round.
          if (rounds === 1) await queue.send('two');
          for (;;) {
            const message = await queue.receive({ nowait: true }).catch((error: unknown) => {
              if (isIpcError(error, 'EAGAIN')) return null;
              throw error;
            });
            if (message === null) break;
            received.push(entry(message));
          }
          if (rounds === 1) setTimeout(() => void queue.send('three'), 20);
          if (received.length === 3) break;
        }
        expect(received).toEqual([['one', 0], ['two', 0], ['three', 0]]);
        expect(rounds).toBe(2);
        expect((await sender.exited).code).toBe(0);
        // The loop's end unregistered its armed registration.
        const after = queue.notify({ timeout: 20_000 });
        await queue.send('four');
        await after;
      });

      it('receive({ maxBytes }) below the message size fails with EMSGSIZE at once and leaves the message queued', async () => {
        const queue = await createQueue('small-buffer', { maxMessages: 2, messageSize: 64 });
        await expect(queue.receive({ maxBytes: 10, nowait: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EMSGSIZE', syscall: 'mq_receive' });
        // Even without nowait on an empty queue: the kernel checks the buffer first and never waits.
        await expect(queue.receive({ maxBytes: 0 })).rejects.toMatchObject({ code: 'EMSGSIZE' });
        await queue.send('hello');
        await expect(queue.receive({ maxBytes: 63 })).rejects.toMatchObject({ code: 'EMSGSIZE' });
        expect(queue.attributes().currentMessages).toBe(1);
        expect(entry(await queue.receive({ maxBytes: 64 }))).toEqual(['hello', 0]);
        await queue.send('again');
        expect(entry(await queue.receive({ maxBytes: 1 << 20 }))).toEqual(['again', 0]);
        const writeOnly = closeAfter(await queues().open(queue.name, { access: 'write' }));
        await expect(writeOnly.receive({ maxBytes: 1 })).rejects.toMatchObject({ code: 'EBADF' });
        await expect(queue.receive({ maxBytes: -1 })).rejects.toBeInstanceOf(RangeError);
        await expect(queue.receive({ maxBytes: 1.5 })).rejects.toBeInstanceOf(RangeError);
        await expect(queue.receive({ maxBytes: '64' as never })).rejects.toBeInstanceOf(TypeError);
        await expect(queue.notify({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      });

      it.skipIf(!context.hasFeature('host-interop'))('is notified of a message that a program that is not ipcx sends (C library through Python)', async () => {
        const queue = await createQueue('notify-python');
        const notified = queue.notify({ timeout: 20_000 });
        const send = `
import ctypes, ctypes.util, os, sys
lib = ctypes.CDLL(ctypes.util.find_library('rt') or None, use_errno=True)
lib.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
lib.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
mq = lib.mq_open(sys.argv[1].encode(), os.O_WRONLY)
assert mq >= 0 and lib.mq_send(mq, b'from python', 11, 4) == 0
`;
        await promisify(execFile)('python3', ['-c', send, queue.name]);
        await notified;
        expect(entry(await queue.receive({ nowait: true }))).toEqual(['from python', 4]);
      });
    });

    it('unlinks the name while open handles keep working', async () => {
      const queue = await createQueue('unlinked', { maxMessages: 2, messageSize: 16 });
      await queues().unlink(queue.name);
      await expect(queues().open(queue.name)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(queues().unlink(queue.name)).rejects.toMatchObject({ code: 'ENOENT' });
      await queue.send('still here');
      expect(entry(await queue.receive())).toEqual(['still here', 0]);
      // The name can be made again, for a new and empty queue.
      const fresh = closeAfter(await queues().open(queue.name, { create: true, exclusive: true, maxMessages: 3, messageSize: 8 }));
      expect(fresh.attributes()).toEqual({ maxMessages: 3, messageSize: 8, currentMessages: 0 });
      await queue.send('old queue');
      expect(fresh.attributes().currentMessages).toBe(0);
    });
  });
}

/** The manifest's use of POSIX message queues: a message through a new named queue, then unlinked. */
export async function posixMessageQueueProbe(context: SuiteContext): Promise<void> {
  const queues = context.backend().posixMessageQueues;
  const name = context.uniqueName('manifest');
  const queue = await queues.open(name, { create: true, exclusive: true, access: 'readwrite' });
  try {
    await queue.send('manifest', { priority: 3 });
    const message = await queue.receive({ nowait: true });
    expect([message.priority, text(message.data)]).toEqual([3, 'manifest']);
  } finally {
    await queue.close();
    await queues.unlink(name);
  }
}
