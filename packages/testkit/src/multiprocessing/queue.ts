/**
 * Queue, JoinableQueue, SimpleQueue across processes: FIFO per producer, Full/Empty codes, maxsize
 * backpressure, shutdown and async iteration, kill -9 (or terminate) of a producer mid-put and of
 * a consumer mid-get, and a seeded 8 x 8 stress with 0 lost, 0 duplicated, per-producer order.
 */
import { describe, expect, it } from 'vitest';
import { Primitive } from '@ipcx/core';
import { sleep } from '../util.js';
import { DataCloneError, JoinableQueue, Lock, Pipe, Queue, RingField, SimpleQueue, spawn, type Process } from '@ipcx/multiprocessing';
import { after, codeOf, codeThrown, disposeAfter, rejection, rejectionWithin, seeded, type MpContext } from './context.js';


export function queueSuite(context: MpContext): void {
  const { backend } = context;
  const kill = context.osProcesses ? 'SIGKILL' : undefined;
  const shared = context.has(Primitive.sharedMemory);

  async function start(module: string, args: unknown[]): Promise<Process> {
    const child = await spawn(backend, context.child(module), args);
    after(async () => {
      child.kill('SIGKILL');
      await child.exited;
    });
    return child;
  }

  describe(`multiprocessing ${context.name} queue`, () => {
    it(`multiprocessing ${context.name}: put/get in one process keeps FIFO; nowait gives EMPTY and FULL; qsize/empty/full`, async () => {
      const q = disposeAfter(await Queue.create<unknown>(backend, { maxsize: 3 }));
      expect([q.qsize(), q.empty(), q.full()]).toEqual([0, true, false]);
      expect(codeOf(await rejection(q.getNowait()))).toBe('EMPTY');
      await q.put(1);
      await q.put({ two: [2n] });
      await q.putNowait('three');
      expect([q.qsize(), q.empty(), q.full()]).toEqual([3, false, true]);
      expect(codeOf(await rejection(q.putNowait(4)))).toBe('FULL');
      expect(codeOf(await rejection(q.put(4, { timeout: 20 })))).toBe('ETIMEDOUT');
      expect(await q.get()).toBe(1);
      expect(await q.get()).toEqual({ two: [2n] });
      expect(await q.getNowait()).toBe('three');
      expect(codeOf(await rejection(q.get({ timeout: 20 })))).toBe('ETIMEDOUT');
      const aborter = new AbortController();
      const pending = q.get({ signal: aborter.signal });
      aborter.abort();
      expect(codeOf(await rejection(pending))).toBe('ABORT_ERR');
      // Nothing was lost to the timeouts and the abort.
      await q.put('last');
      expect(await q.get()).toBe('last');
      expect(q.qsize()).toBe(0);
    });

    it(`multiprocessing ${context.name}: a put waiting for its turn gives up on its own timeout or abort, and its value is never put`, async () => {
      const q = disposeAfter(await Queue.create<unknown>(backend, { maxsize: 1 }));
      await q.put('fill');
      // 'first' waits for room; the others wait for their turn behind it (one handle keeps call order).
      const first = q.put('first');
      const aborter = new AbortController();
      const aborted = q.put('aborted', { signal: aborter.signal });
      const timed = q.put('timed', { timeout: 30 });
      const kept = q.put('kept');
      aborter.abort();
      expect(codeOf(await rejectionWithin(aborted, 2_000))).toBe('ABORT_ERR');
      expect(codeOf(await rejectionWithin(timed, 2_000))).toBe('ETIMEDOUT');
      expect(await q.get()).toBe('fill');
      await first;
      expect(await q.get()).toBe('first');
      await kept;
      expect(await q.get()).toBe('kept');
      expect(q.qsize()).toBe(0);
      // An already aborted signal: nothing is put, nothing is taken.
      expect(codeOf(await rejection(q.put('never', { signal: AbortSignal.abort() })))).toBe('ABORT_ERR');
      expect(q.qsize()).toBe(0);
      await q.put('there');
      expect(codeOf(await rejection(q.get({ signal: AbortSignal.abort() })))).toBe('ABORT_ERR');
      expect(await q.get()).toBe('there');
    });

    it(`multiprocessing ${context.name}: a get, put or join waiting when its handle closes rejects with CLOSED; after close put rejects and qsize/empty/full/shutdown throw CLOSED`, async () => {
      const empty = disposeAfter(await Queue.create<unknown>(backend));
      const full = disposeAfter(await Queue.create<unknown>(backend, { maxsize: 1 }));
      const joinable = disposeAfter(await JoinableQueue.create<unknown>(backend));
      await full.put('fill');
      await joinable.put('unfinished');
      const waiting = [empty.get(), full.put('no room'), full.put('behind it'), joinable.join()];
      const outcomes = Promise.all(waiting.map((pending) => rejectionWithin(pending, 5_000)));
      await sleep(20);
      await Promise.all([empty.close(), full.close(), joinable.close()]);
      expect((await outcomes).map(codeOf)).toEqual(['CLOSED', 'CLOSED', 'CLOSED', 'CLOSED']);
      // A call after close: put and get reject (nothing thrown), the synchronous members throw.
      const put = empty.put(1);
      expect(put).toBeInstanceOf(Promise);
      expect(codeOf(await rejection(put))).toBe('CLOSED');
      expect(codeOf(await rejection(empty.get()))).toBe('CLOSED');
      expect([() => empty.qsize(), () => empty.empty(), () => empty.full(), () => empty.shutdown(), () => joinable.taskDone()].map(codeThrown)).toEqual(['CLOSED', 'CLOSED', 'CLOSED', 'CLOSED', 'CLOSED']);
      expect(codeOf(await rejection(joinable.join()))).toBe('CLOSED');
    });

    // Pipe ends inside a value need pipes.
    it.skipIf(!context.has(Primitive.duplexPipe))(`multiprocessing ${context.name}: an unserializable value is a DataCloneError and nothing is put`, async () => {
      const q = disposeAfter(await Queue.create(backend));
      expect(() => q.put({ f() {} })).toThrow(DataCloneError);
      expect(q.qsize()).toBe(0);
      // A kernel-pipe Connection holds a descriptor: it cannot go inside a value.
      const [a, b] = await Pipe(backend, { transport: 'kernel' });
      after(async () => {
        await a.close();
        await b.close();
      });
      expect(() => q.put([a])).toThrow(TypeError);
      expect(q.qsize()).toBe(0);
      await q.put('ok');
      expect(await q.get()).toBe('ok');
    });

    it(`multiprocessing ${context.name}: values larger than the ring stream through whole, in order with small ones`, async () => {
      const q = disposeAfter(await Queue.create<Uint8Array | string>(backend, { capacity: 4096 }));
      const big = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
      const puts = Promise.all([q.put(big), q.put('small'), q.put(big.subarray(0, 3000))]);
      const first = (await q.get()) as Uint8Array;
      expect(Buffer.compare(Buffer.from(first), Buffer.from(big))).toBe(0);
      expect(await q.get()).toBe('small');
      expect(((await q.get()) as Uint8Array).length).toBe(3000);
      await puts;
    });

    it(`multiprocessing ${context.name}: maxsize backpressure across processes: the producer waits until the consumer takes`, async () => {
      const q = disposeAfter(await Queue.create<{ p: number; i: number; pad: string }>(backend, { maxsize: 2 }));
      const child = await start('queue-producer', [q, 0, 20, 1, 0]);
      // The child fills the queue to 2 and then cannot put the third until we take.
      for (let i = 0; q.qsize() < 2; i++) {
        if (i > 4000) throw new Error('the child never filled the queue');
        await sleep(5);
      }
      await sleep(50);
      expect(q.qsize()).toBe(2);
      const got: number[] = [];
      for (let i = 0; i < 20; i++) {
        got.push((await q.get()).i);
        expect(q.qsize()).toBeLessThanOrEqual(2);
      }
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect((await child.join()).code).toBe(0);
    });

    it(`multiprocessing ${context.name}: a queue travels inside a value, and shutdown ends async iteration`, async () => {
      const q = disposeAfter(await Queue.create<{ p: number; i: number; pad: string }>(backend));
      const results = disposeAfter(await Queue.create<{ consumer: number; taken: string[] }>(backend));
      const carrier = disposeAfter(await Queue.create<unknown>(backend));
      // The consumer gets its queues as spawn args; the producer gets the queue inside a value.
      const consumer = await start('queue-consumer', [q, results, 0]);
      await carrier.put({ queue: q });
      const { queue: copy } = (await carrier.get()) as { queue: Queue<{ p: number; i: number; pad: string }> };
      expect(copy).toBeInstanceOf(Queue);
      for (let i = 0; i < 10; i++) await copy.put({ p: 9, i, pad: '' });
      await copy.close();
      while (q.qsize() > 0) await sleep(5);
      q.shutdown();
      expect(codeOf(await rejection(q.put({ p: 0, i: 0, pad: '' })))).toBe('SHUT_DOWN');
      expect(await results.get({ timeout: 20_000 })).toEqual({ consumer: 0, taken: Array.from({ length: 10 }, (_, i) => `9:${i}`) });
      expect((await consumer.join()).code).toBe(0);
    });

    it(`multiprocessing ${context.name}: a value holding objects keeps the rest as structured clone gives it: holes, named array properties, own __proto__ keys, objects with the package's marker key, one object in two places`, async () => {
      const q = disposeAfter(await Queue.create<Record<string, unknown>>(backend));
      const lock = disposeAfter(await Lock.create(backend));
      // A user's objects that happen to carry the key this package marks its records with.
      const marked = { '@ipcx/multiprocessing': 'mine', data: 1 };
      const cyclic: Record<string, unknown> = { '@ipcx/multiprocessing': 'lock', data: { semaphores: -1 }, inner: lock };
      cyclic.self = cyclic;
      await q.put({
        lock,
        again: lock,
        sparse: [lock, , 'x'],
        named: Object.assign([1, 2], { tag: 'named', held: lock }),
        proto: JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as unknown,
        marked,
        markedAgain: marked,
        cyclic,
      });
      type Received = { lock: Lock; again: Lock; sparse: unknown[]; named: unknown[] & { tag: string; held: Lock }; proto: object; marked: object; markedAgain: object };
      const got = (await q.get()) as Received & { cyclic: Record<string, unknown> };
      // One working handle for every place the lock was in.
      expect(got.lock).toBeInstanceOf(Lock);
      after(() => got.lock.close());
      expect([got.again, got.sparse[0], got.named.held, got.cyclic.inner].every((copy) => copy === got.lock)).toBe(true);
      expect(Object.keys(got.sparse)).toEqual(['0', '2']);
      expect([got.sparse.length, got.sparse[2]]).toEqual([3, 'x']);
      expect(Object.keys(got.named)).toEqual(['0', '1', 'tag', 'held']);
      expect([got.named[0], got.named[1], got.named.tag]).toEqual([1, 2, 'named']);
      expect(Object.keys(got.proto)).toEqual(['__proto__', 'y']);
      expect(Object.getPrototypeOf(got.proto)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(got.proto, '__proto__')?.value).toEqual({ x: 1 });
      expect(got.marked).toEqual({ '@ipcx/multiprocessing': 'mine', data: 1 });
      expect(got.markedAgain).toBe(got.marked);
      expect(Object.keys(got.cyclic)).toEqual(['@ipcx/multiprocessing', 'data', 'inner', 'self']);
      expect(got.cyclic.data).toEqual({ semaphores: -1 });
      expect(got.cyclic.self).toBe(got.cyclic);
      expect(q.qsize()).toBe(0);
    });

    // The ring's own bookkeeping (shared memory only).
    it.skipIf(!shared)(`multiprocessing ${context.name}: one process claims one liveness slot per queue, however many handles it opens`, async () => {
      const q = disposeAfter(await Queue.create<number>(backend));
      const carrier = disposeAfter(await Queue.create<{ q: Queue<number> }>(backend));
      const cells = (q as unknown as { ring: { cells: Int32Array } }).ring.cells;
      await q.put(0);
      for (let i = 1; i <= 300; i++) {
        await carrier.put({ q });
        const { q: copy } = await carrier.get();
        await copy.put(i);
        await copy.close();
      }
      // This process claimed one slot for q (and one for the carrier in its own ring).
      expect(Atomics.load(cells, RingField.NEXT_SLOT / 4)).toBe(1);
      expect(q.qsize()).toBe(301);
    });

    it(`multiprocessing ${context.name}: JoinableQueue join waits for taskDone of every value; over-release is OVER_RELEASE`, async () => {
      const q = disposeAfter(await JoinableQueue.create<number>(backend));
      await q.put(1);
      await q.put(2);
      let joined = false;
      const joining = q.join().then(() => (joined = true));
      await q.get();
      q.taskDone();
      await sleep(30);
      expect(joined).toBe(false);
      await q.get();
      q.taskDone();
      await joining;
      expect(joined).toBe(true);
      expect(() => q.taskDone()).toThrow(expect.objectContaining({ code: 'OVER_RELEASE' }));
      await q.put(3);
      expect(codeOf(await rejection(q.join({ timeout: 20 })))).toBe('ETIMEDOUT');
    });

    it(`multiprocessing ${context.name}: SimpleQueue put/get across a child`, async () => {
      const q = disposeAfter(await SimpleQueue.create<string>(backend));
      const results = disposeAfter(await SimpleQueue.create<string>(backend));
      const child = await start('queue-get-one', [q, results]);
      await q.put('hello');
      expect(await results.get({ timeout: 20_000 })).toBe('hello');
      expect((await child.join()).code).toBe(0);
    });

    it.skipIf(!shared)(`multiprocessing ${context.name}: a consumer killed while in get loses nothing: the next get takes the value`, async () => {
      const q = disposeAfter(await Queue.create<string>(backend));
      const results = disposeAfter(await Queue.create<string>(backend));
      const child = await start('queue-get-one', [q, results]);
      // The child is parked in get once it has counted itself among the ring's parked consumers.
      const cells = (q as unknown as { ring: { cells: Int32Array } }).ring.cells;
      for (let i = 0; Atomics.load(cells, RingField.CONSUMER_WAITERS / 4) === 0; i++) {
        if (i > 4000) throw new Error('child never entered get');
        await sleep(5);
      }
      child.kill(kill);
      await child.exited;
      await q.put('kept');
      expect(await q.get({ timeout: 5_000 })).toBe('kept');
    });

    it.skipIf(!shared)(`multiprocessing ${context.name}: a producer killed mid-put leaves no torn value; the next value is whole`, async () => {
      const q = disposeAfter(await Queue.create<unknown>(backend, { capacity: 8192 }));
      const child = await start('queue-put-big', [q, 1_000_000]);
      expect(await q.get({ timeout: 20_000 })).toBe('ready');
      // Wait until the child holds the write lock with the ring full of its partial value.
      const cells = (q as unknown as { ring: { cells: Int32Array } }).ring.cells;
      await sleep(100);
      expect(Atomics.load(cells, RingField.WRITE_LOCK / 4)).not.toBe(0);
      const getting = q.get({ timeout: 20_000 });
      child.kill(kill);
      await child.exited;
      await q.put('whole');
      expect(await getting).toBe('whole');
      expect(q.qsize()).toBe(0);
    });

    // The same two crashes on the fallback (message queue + semaphores), where no ring cell shows
    // what the child is doing: it is given time to get there.
    it.skipIf(shared)(`multiprocessing ${context.name}: a consumer killed while in get loses nothing (message-queue transport)`, async () => {
      const q = disposeAfter(await Queue.create<string>(backend));
      const results = disposeAfter(await Queue.create<string>(backend));
      const child = await start('queue-get-one', [q, results]);
      await sleep(1500);
      child.kill(kill);
      await child.exited;
      await q.put('kept');
      expect(await q.get({ timeout: 5_000 })).toBe('kept');
      expect(q.qsize()).toBe(0);
    });

    it.skipIf(shared)(`multiprocessing ${context.name}: a producer killed mid-put of a value larger than the queue leaves no torn value (message-queue transport)`, async () => {
      const q = disposeAfter(await Queue.create<unknown>(backend));
      const child = await start('queue-put-big', [q, 4_000_000]);
      expect(await q.get({ timeout: 20_000 })).toBe('ready');
      // The child streams its value until the queue is full, then waits for a consumer: wait
      // until its pieces fill the message queue underneath.
      const underneath = (q as unknown as { ring: { queue: { stat(): Promise<{ messages: number; bytes: number; maxBytes: number }> } } }).ring.queue;
      const streaming = async (): Promise<boolean> => {
        const now = await underneath.stat();
        return now.messages >= 2 && now.bytes + 8192 > now.maxBytes;
      };
      for (let i = 0; !(await streaming()); i++) {
        if (i > 4000) throw new Error('the child never streamed its value');
        await sleep(5);
      }
      // Killed while blocked mid-value (the queue full of its pieces, nobody taking them): a get
      // started before the kill could drain the pieces and let the child finish its value first.
      // The get goes first: the pieces fill the queue underneath, so a put would wait for room.
      child.kill(kill);
      await child.exited;
      const getting = q.get({ timeout: 30_000 });
      await q.put('whole');
      expect(await getting).toBe('whole');
      expect(q.qsize()).toBe(0);
    });

    it(`multiprocessing ${context.name}: seeded stress, 8 producers x 8 consumers: 0 lost, 0 duplicated, per-producer order`, async () => {
      const seed = Number(process.env.IPCX_MP_SEED ?? 20261206);
      const random = seeded(seed);
      const q = disposeAfter(await Queue.create<{ p: number; i: number; pad: string }>(backend, { capacity: 16384, maxsize: 64 }));
      const results = disposeAfter(await Queue.create<{ consumer: number; taken: string[] }>(backend));
      const perProducer = 150;
      const consumers = await Promise.all(Array.from({ length: 8 }, (_, c) => start('queue-consumer', [q, results, c])));
      const producers = await Promise.all(Array.from({ length: 8 }, (_, p) => start('queue-producer', [q, p, perProducer, Math.floor(random() * 2 ** 31), 37])));
      for (const producer of producers) expect((await producer.join()).code).toBe(0);
      q.shutdown();
      const reports: Array<{ consumer: number; taken: string[] }> = [];
      for (let i = 0; i < 8; i++) reports.push(await results.get({ timeout: 60_000 }));
      for (const consumer of consumers) expect((await consumer.join()).code).toBe(0);
      const all = reports.flatMap((report) => report.taken);
      expect(all.length, `seed ${seed}`).toBe(8 * perProducer);
      expect(new Set(all).size, `seed ${seed}: duplicates`).toBe(all.length);
      for (const report of reports) {
        const last = new Map<string, number>();
        for (const entry of report.taken) {
          const [p, i] = entry.split(':');
          expect(Number(i), `seed ${seed}: producer ${p} out of order at consumer ${report.consumer}`).toBeGreaterThan(last.get(p) ?? -1);
          last.set(p, Number(i));
        }
      }
    });
  });
}
