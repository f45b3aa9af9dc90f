/**
 * Event counters, as eventfd(2) defines them: a u64 counter; a write adds (waiting while the sum
 * would pass 0xfffffffffffffffe), a read takes the whole count (counter mode) or one
 * (`EFD_SEMAPHORE`), waiting while it is zero. The other side of the cross-process cases is a
 * real child from `processes.spawn`, a descriptor passed over a Unix socket, and (where the
 * backend runs programs) a Python program that uses `os.eventfd_read`/`os.eventfd_write`.
 */
import { onTestFinished, describe, expect, it } from 'vitest';
import { EVENTFD_MAX, type Descriptor, type Eventfd, type EventfdOptions, type Eventfds } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { LineReader, closeAfter, closeAllAfter, sleep, waitUntil } from '../util.js';

/**
 * The Python peer (fd 3: to Python, fd 4: from Python, fd 5: a semaphore-mode counter holding 3,
 * fd 1: the report pipe): reads fd 3 (blocking, as Python does), writes what it read plus one to
 * fd 4, takes three units from fd 5, and prints them as JSON.
 */
const PYTHON_PEER = `
import json, os
value = os.eventfd_read(3)
os.eventfd_write(4, value + 1)
units = [os.eventfd_read(5) for _ in range(3)]
os.write(1, (json.dumps({"read": str(value), "units": units}) + "\\n").encode())
`;

/**
 * `promise`, marked as handled: a test that fails before awaiting it (the close in its cleanup then
 * rejects it with EBADF) reports its own failure, not an unhandled rejection.
 */
function pendingOp<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

export function eventfdSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('eventfd'))('eventfd', { timeout: 60_000 }, () => {
    const eventfds = (): Eventfds => context.backend().eventfds;
    /** Creates a counter that is closed when the test finishes, passed or failed. */
    const create = async (options?: EventfdOptions): Promise<Eventfd> => closeAfter(await eventfds().create(options));
    const reportPipe = async () => {
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      return { lines: new LineReader(reader), writer };
    };

    it('counter mode: the initial value, writes add, a read takes the whole count; nowait EAGAIN on zero', async () => {
      const counter = await create({ initial: 7 });
      expect(counter.semaphore).toBe(false);
      expect(counter.closed).toBe(false);
      expect(await counter.read()).toBe(7n);
      await expect(counter.read({ nowait: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EAGAIN', syscall: 'read' });
      await counter.write();
      await counter.write(2);
      await counter.write(40n);
      expect(await counter.read({ nowait: true })).toBe(43n);
      // Values past 2^53 and past 2^63 come back exactly (u64).
      await counter.write(2n ** 63n + 5n);
      await counter.write(2n ** 53n + 1n);
      expect(await counter.read()).toBe(2n ** 63n + 2n ** 53n + 6n);
      // A write of 0 adds nothing and succeeds (the kernel accepts it).
      await counter.write(0);
      await expect(counter.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      // The largest initial value eventfd2 takes (an unsigned int).
      const full = await create({ initial: 0xffffffff });
      expect(await full.read()).toBe(0xffffffffn);
    });

    it('semaphore mode (EFD_SEMAPHORE): each read takes one; EAGAIN at zero', async () => {
      const semaphore = await create({ initial: 3, semaphore: true });
      expect(semaphore.semaphore).toBe(true);
      expect([await semaphore.read(), await semaphore.read(), await semaphore.read()]).toEqual([1n, 1n, 1n]);
      await expect(semaphore.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN', syscall: 'read' });
      await semaphore.write(2n);
      expect(await semaphore.read({ nowait: true })).toBe(1n);
      expect(await semaphore.read({ nowait: true })).toBe(1n);
      await expect(semaphore.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it('a waiting read is woken by a write; in semaphore mode one unit wakes exactly one reader', async () => {
      const counter = await create();
      const pending = pendingOp(counter.read({ timeout: 20_000 }));
      // The wait does not hold the event loop: a timer set after it fires.
      let fired = false;
      setTimeout(() => (fired = true), 1);
      await sleep(30);
      expect(fired).toBe(true);
      await counter.write(5n);
      expect(await pending).toBe(5n);

      const semaphore = await create({ semaphore: true });
      const settled: bigint[] = [];
      const first = pendingOp(semaphore.read({ timeout: 20_000 }).then((value) => settled.push(value)));
      const second = pendingOp(semaphore.read({ timeout: 20_000 }).then((value) => settled.push(value)));
      await sleep(20);
      await semaphore.write(1);
      await waitUntil(() => settled.length > 0, 'a reader woken by the write');
      // The other reader stays asleep: one unit, one reader.
      await sleep(50);
      expect(settled).toEqual([1n]);
      await semaphore.write(1);
      await Promise.all([first, second]);
      expect(settled).toEqual([1n, 1n]);
      await expect(semaphore.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it('timeout (ETIMEDOUT), abort (AbortError) and close (EBADF) end a waiting read; nothing is lost', async () => {
      const counter = await create();
      await expect(counter.read({ timeout: 30 })).rejects.toMatchObject({ name: 'IpcError', code: 'ETIMEDOUT', syscall: 'read' });
      await expect(counter.read({ timeout: 0 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const controller = new AbortController();
      const aborted = pendingOp(counter.read({ signal: controller.signal }));
      await sleep(10);
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await expect(counter.read({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      // The cancelled reads took nothing: a later write is read in full.
      await counter.write(9n);
      expect(await counter.read()).toBe(9n);

      const closing = await eventfds().create();
      onTestFinished(() => closing.close());
      const pending = pendingOp(closing.read());
      await sleep(10);
      await closing.close();
      await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
      expect(closing.closed).toBe(true);
      await expect(closing.read()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(closing.write(1)).rejects.toMatchObject({ code: 'EBADF' });
      await closing.close();
      // `await using` closes.
      let disposed: Eventfd | undefined;
      {
        await using scoped = await eventfds().create();
        disposed = scoped;
        await scoped.write(1);
      }
      expect(disposed.closed).toBe(true);
    });

    it('overflow: a write past 0xfffffffffffffffe says EAGAIN (nowait) or waits until a read makes room; a cancelled write adds nothing', async () => {
      expect(EVENTFD_MAX).toBe(0xfffffffffffffffen);
      const counter = await create();
      await counter.write(EVENTFD_MAX);
      await expect(counter.write(1, { nowait: true })).rejects.toMatchObject({ name: 'IpcError', code: 'EAGAIN', syscall: 'write' });
      await expect(counter.write(1, { timeout: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'write' });
      const controller = new AbortController();
      const aborted = pendingOp(counter.write(5n, { signal: controller.signal }));
      await sleep(10);
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
      // A write of 0 always fits.
      await counter.write(0, { nowait: true });
      let done = false;
      const waiting = pendingOp(counter.write(7n).then(() => (done = true)));
      await sleep(30);
      expect(done).toBe(false);
      // The read takes the maximum (nothing the cancelled writes tried was added), then the waiting write fits.
      expect(await counter.read()).toBe(EVENTFD_MAX);
      await waiting;
      expect(await counter.read()).toBe(7n);

      // Room for part of a value is no room: the write waits for the whole of it.
      await counter.write(EVENTFD_MAX - 3n);
      await expect(counter.write(4n, { nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      await counter.write(3n, { nowait: true });
      expect(await counter.read()).toBe(EVENTFD_MAX);

      // close() ends a write waiting for room with EBADF.
      const closing = await eventfds().create();
      onTestFinished(() => closing.close());
      await closing.write(EVENTFD_MAX);
      const pending = pendingOp(closing.write(1));
      await sleep(10);
      await closing.close();
      await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
    });

    it('rejects bad values and options with TypeError/RangeError and stays usable', async () => {
      await expect(eventfds().create({ initial: 2 ** 32 })).rejects.toBeInstanceOf(RangeError);
      await expect(eventfds().create({ initial: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(eventfds().create({ initial: 1.5 })).rejects.toBeInstanceOf(RangeError);
      await expect(eventfds().create({ initial: '1' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(eventfds().create({ semaphore: 'yes' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(eventfds().create(42 as never)).rejects.toBeInstanceOf(TypeError);
      const counter = await create({ initial: 1 });
      await expect(counter.write(-1)).rejects.toBeInstanceOf(RangeError);
      await expect(counter.write(-1n)).rejects.toBeInstanceOf(RangeError);
      await expect(counter.write(2n ** 64n - 1n)).rejects.toBeInstanceOf(RangeError);
      await expect(counter.write(2n ** 64n)).rejects.toBeInstanceOf(RangeError);
      await expect(counter.write(2 ** 53)).rejects.toBeInstanceOf(RangeError);
      await expect(counter.write(0.5)).rejects.toBeInstanceOf(RangeError);
      await expect(counter.write('1' as never)).rejects.toBeInstanceOf(TypeError);
      await expect(counter.write(1, { nowait: 1 as never })).rejects.toBeInstanceOf(TypeError);
      await expect(counter.read({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(counter.read({ signal: 'stop' as never })).rejects.toBeInstanceOf(TypeError);
      // Nothing was added or taken by the refused calls.
      expect(await counter.read({ nowait: true })).toBe(1n);
    });

    it('crosses processes: a child from processes.spawn answers 200 pings on two counters', async () => {
      const ping = await create();
      const pong = await create({ semaphore: false });
      const mode = await create({ semaphore: true });
      const { lines, writer } = await reportPipe();
      const child = await context.backend().processes.spawn(context.child('eventfd-relay'), { args: [ping, pong, writer, 200] });
      onTestFinished(() => child[Symbol.asyncDispose]());
      let expected = 0n;
      for (let i = 1n; i <= 200n; i++) {
        // Values above 2^32 cross intact; each round trip is one write and one waiting read per side.
        const value = i * 0x100000000n;
        expected += value;
        await ping.write(value);
        expect(await pong.read({ timeout: 20_000 })).toBe(value + 1n);
      }
      expect(JSON.parse((await lines.next({ timeout: 20_000 }))!)).toEqual({ rounds: 200, semaphore: [false, false], sum: String(expected) });
      expect(await child.exited).toEqual({ code: 0, signal: null });
      // The semaphore mode travels too, and a write waiting for room in the child is woken by a
      // read here: pong is full when the child answers its one ping.
      await pong.write(EVENTFD_MAX);
      const second = await reportPipe();
      const modeChild = await context.backend().processes.spawn(context.child('eventfd-relay'), { args: [mode, pong, second.writer, 1] });
      onTestFinished(() => modeChild[Symbol.asyncDispose]());
      await mode.write(3n);
      // The child takes one unit (semaphore mode) and then waits to write 2 into the full pong,
      // usually before this side reads (if it comes later, its write simply fits: same results).
      const report = pendingOp(second.lines.next({ timeout: 20_000 }));
      await sleep(300);
      expect(await pong.read({ nowait: true })).toBe(EVENTFD_MAX);
      expect(await pong.read({ timeout: 20_000 })).toBe(2n);
      expect(JSON.parse((await report)!)).toEqual({ rounds: 1, semaphore: [true, false], sum: '1' });
      expect(await modeChild.exited).toEqual({ code: 0, signal: null });
      // The child's copies are gone with it; this side's counters still work: two units are left.
      expect([await mode.read({ nowait: true }), await mode.read({ nowait: true })]).toEqual([1n, 1n]);
      await expect(mode.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it.skipIf(!context.has('unix-socket'))('passes over a Unix socket (SCM_RIGHTS): adopt gives the same counter, in its mode', async () => {
      const counter = await create({ initial: 4, semaphore: true });
      const [a, b] = closeAllAfter(await context.backend().unixSockets.pair('stream'));
      await a.send('x', { transfer: [counter] });
      const message = await b.receive({ timeout: 20_000 });
      expect(message?.objects).toHaveLength(1);
      // Native: a generic Descriptor of type 'eventfd' (SCM_RIGHTS carries no kind), which adopt
      // takes over; worker: an Eventfd already, returned as it is.
      const arrived = message!.objects[0] as Eventfd | Descriptor;
      const received = closeAfter(await eventfds().adopt(arrived));
      if (arrived !== received) {
        expect((arrived as Descriptor).type).toBe('eventfd');
        expect(arrived.closed).toBe(true);
      }
      expect(received).not.toBe(counter);
      expect(await eventfds().adopt(received)).toBe(received);
      await expect(eventfds().adopt(counter as never)).resolves.toBe(counter);
      const [pipeReader] = closeAllAfter(await context.backend().pipes.create());
      await expect(eventfds().adopt(pipeReader as never)).rejects.toBeInstanceOf(TypeError);
      await expect(eventfds().adopt(null as never)).rejects.toBeInstanceOf(TypeError);
      expect(received.semaphore).toBe(true);
      expect(await received.read({ nowait: true })).toBe(1n);
      expect(await counter.read({ nowait: true })).toBe(1n);
      expect(await counter.read()).toBe(1n);
      expect(await received.read()).toBe(1n);
      // A read waiting on the received copy is woken by a write through the original.
      const pending = pendingOp(received.read({ timeout: 20_000 }));
      await sleep(20);
      await counter.write(1n);
      expect(await pending).toBe(1n);
      // Closing one copy leaves the other working.
      await received.close();
      await counter.write(2n);
      expect(await counter.read()).toBe(1n);
    });

    it.skipIf(!context.hasFeature('executables') || !context.hasFeature('host-interop'))('works with a program that is not ipcx (Python os.eventfd_read/os.eventfd_write)', async () => {
      const toPython = await create();
      const fromPython = await create();
      const units = await create({ initial: 3, semaphore: true });
      const { lines, writer } = await reportPipe();
      const program = await context.backend().processes.spawnExecutable('python3', {
        args: ['-c', PYTHON_PEER],
        descriptors: { 1: writer, 3: toPython, 4: fromPython, 5: units },
      });
      onTestFinished(() => program[Symbol.asyncDispose]());
      // This side waits first (on the poller), Python's write wakes it.
      const answer = pendingOp(fromPython.read({ timeout: 20_000 }));
      await sleep(20);
      await toPython.write(2n ** 40n + 5n);
      expect(await answer).toBe(2n ** 40n + 6n);
      expect(JSON.parse((await lines.next({ timeout: 20_000 }))!)).toEqual({ read: String(2n ** 40n + 5n), units: [1, 1, 1] });
      expect(await program.exited).toEqual({ code: 0, signal: null });
      // Python took all three units of the shared counter.
      await expect(units.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    });

    it.skipIf(!context.hasFeature('executables') || !context.hasFeature('host-interop'))('does not depend on O_NONBLOCK, which another process sets on the shared description', async () => {
      const counter = await create();
      const program = await context.backend().processes.spawnExecutable('python3', {
        args: ['-c', 'import fcntl, os; fcntl.fcntl(3, fcntl.F_SETFL, fcntl.fcntl(3, fcntl.F_GETFL) | os.O_NONBLOCK)'],
        descriptors: { 3: counter },
      });
      onTestFinished(() => program[Symbol.asyncDispose]());
      expect(await program.exited).toEqual({ code: 0, signal: null });
      // A read of zero still waits (it does not fail with the flag's EAGAIN) and is woken by a write.
      const pending = pendingOp(counter.read({ timeout: 20_000 }));
      await sleep(20);
      await counter.write(3n);
      expect(await pending).toBe(3n);
      // A write that has no room still waits for it, and completes after a read.
      await counter.write(EVENTFD_MAX);
      let written = false;
      const waiting = pendingOp(counter.write(2n, { timeout: 20_000 }).then(() => (written = true)));
      await sleep(30);
      expect(written).toBe(false);
      expect(await counter.read()).toBe(EVENTFD_MAX);
      await waiting;
      expect(await counter.read()).toBe(2n);
    });
  });
}

/** The manifest's use of event counters: one made, written, read back and closed. */
export async function eventfdProbe(context: SuiteContext): Promise<void> {
  const counter = await context.backend().eventfds.create({ initial: 1 });
  try {
    await counter.write(2);
    const value = await counter.read({ nowait: true });
    if (value !== 3n) throw new Error(`eventfd probe read ${value}, expected 3n`);
  } finally {
    await counter.close();
  }
}
