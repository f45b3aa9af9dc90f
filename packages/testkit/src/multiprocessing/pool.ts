/**
 * Pool: map/starmap/apply/imap/imapUnordered in order (or as finished), chunking, errors with
 * class, message, stack and code, a dying worker replaced with its task failing WORKER_DIED,
 * maxtasksperchild, initializer, AbortSignal, close/join/terminate.
 */
import { describe, expect, it } from 'vitest';
import { Primitive } from '@ipcx/core';
import { jsonCodec, Pool, task, type TaskRef } from '@ipcx/multiprocessing';
import { codeOf, disposeAfter, rejection, type MpContext } from './context.js';

export function poolSuite(context: MpContext): void {
  const { backend } = context;
  const fn = (name: string): TaskRef => task(context.child('tasks'), name);

  // The pool feeds its workers over duplex pipes: a backend without them has no Pool (ENOSYS, see shared-values.ts).
  describe.skipIf(!context.has(Primitive.duplexPipe))(`multiprocessing ${context.name} pool`, () => {
    it(`multiprocessing ${context.name}: map, starmap, apply, imap and imapUnordered give every result`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 2 }));
      const items = Array.from({ length: 1000 }, (_, i) => i);
      expect(await pool.map(fn('double'), items)).toEqual(items.map((x) => x * 2));
      expect(await pool.map(fn('double'), items, { chunksize: 7 })).toEqual(items.map((x) => x * 2));
      expect(await pool.map(fn('double'), [])).toEqual([]);
      expect(await pool.starmap(fn('add'), [[1, 2], [3, 4], ['a', 'b']])).toEqual([3, 7, 'ab']);
      expect(await pool.apply(fn('add'), [20, 22])).toBe(42);
      const ordered: number[] = [];
      for await (const result of pool.imap<number>(fn('slow'), [60, 1, 30])) ordered.push(result);
      expect(ordered).toEqual([60, 1, 30]);
      const unordered: number[] = [];
      for await (const result of pool.imapUnordered<number>(fn('slow'), [300, 1])) unordered.push(result);
      expect(unordered).toEqual([1, 300]);
    });

    it(`multiprocessing ${context.name}: map reads any iterable as its iterator would (holes as undefined), and results that are not plain come back whole`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 2 }));
      const sparse = [1, , 'a', -0];
      const mapped = await pool.map(fn('crash'), sparse, { chunksize: 2 });
      expect(mapped).toEqual([1, undefined, 'a', -0]);
      expect(1 in mapped).toBe(true);
      expect(Object.is(mapped[3], -0)).toBe(true);
      const named = Object.assign([1, 2, 3], { extra: 'not an item' });
      expect(await pool.map(fn('double'), named)).toEqual([2, 4, 6]);
      function* numbers(): Generator<number> {
        for (let i = 0; i < 5; i++) yield i;
      }
      expect(await pool.map(fn('double'), numbers())).toEqual([0, 2, 4, 6, 8]);
      const values = [new Map([[1, 'one']]), new Date(0), [1, , 3], Object.assign([1], { tag: 't' })];
      const back = await pool.map<unknown>(fn('crash'), values);
      expect(back[0]).toEqual(new Map([[1, 'one']]));
      expect(back[1]).toEqual(new Date(0));
      expect(2 in (back[2] as unknown[])).toBe(true);
      expect(1 in (back[2] as unknown[])).toBe(false);
      expect((back[3] as unknown as { tag: string }).tag).toBe('t');
      const many = Array.from({ length: 30_000 }, (_, i) => i - 0.5);
      expect(await pool.map(fn('double'), many)).toEqual(many.map((x) => x * 2));
    });

    it(`multiprocessing ${context.name}: chunks of numbers (float64 frames) keep every number and fall back to values for results that are not numbers`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 2 }));
      const special = [-0, NaN, Infinity, -Infinity, 2 ** 53 + 2, 5e-324, 0.1, -7];
      const same = await pool.map<number>(fn('crash'), special, { chunksize: 3 });
      expect(same.length).toBe(special.length);
      special.forEach((x, i) => expect(Object.is(same[i], x)).toBe(true));
      const small = Array.from({ length: 100 }, (_, i) => i);
      const expected = small.map((x) => (x === 3 ? 'three' : x % 5 === 0 ? { five: x } : x * 2));
      expect(await pool.map(fn('doubleOrNot'), small, { chunksize: 40 })).toEqual(expected);
      const streamed: unknown[] = [];
      for await (const result of pool.imap(fn('doubleOrNot'), small, { chunksize: 30 })) streamed.push(result);
      expect(streamed).toEqual(expected);
      expect(await pool.map(fn('later'), small, { chunksize: 25 })).toEqual(small.map((x) => x + 1));
      expect(await pool.apply(fn('double'), [21])).toBe(42);
      // Chunks larger than the workers' pipes (1 MiB) stream through in pieces.
      const big = Array.from({ length: 300_000 }, (_, i) => i / 4);
      const doubled = await pool.map<number>(fn('double'), big, { chunksize: 150_000 });
      expect(doubled.length).toBe(big.length);
      expect(doubled.every((x, i) => x === big[i] * 2)).toBe(true);
      // A number that fails mid-chunk, and a worker that dies on one.
      const seven = await rejection(pool.map(fn('failOnSeven'), small, { chunksize: 50 }));
      expect(seven).toBeInstanceOf(RangeError);
      expect(seven.message).toBe('seven is out of range');
      expect(codeOf(await rejection(pool.map(fn('exitOnThirteen'), small, { chunksize: 50 })))).toBe('WORKER_DIED');
      expect(await pool.map(fn('double'), small)).toEqual(small.map((x) => x * 2));
    });

    it(`multiprocessing ${context.name}: a pool with another codec sends numbers through it (JSON: NaN arrives as null)`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 1, codec: jsonCodec }));
      expect(await pool.map(fn('double'), [1, 2.5, -3])).toEqual([2, 5, -6]);
      expect(await pool.map(fn('crash'), [NaN, 1])).toEqual([null, 1]);
    });

    it(`multiprocessing ${context.name}: a task's error arrives with its class, message, stack and code`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 1 }));
      const typeError = await rejection(pool.apply(fn('fail'), ['type']));
      expect(typeError).toBeInstanceOf(TypeError);
      expect(typeError.message).toBe('bad input');
      expect(typeError.code).toBe('E_BAD_INPUT');
      expect(typeError.stack).toContain('tasks.js');
      const custom = await rejection(pool.map(fn('fail'), ['custom']));
      expect(custom.name).toBe('TaskFailure');
      expect(custom.message).toBe('failed on custom');
      const missing = await rejection(pool.apply(fn('nothing'), []));
      expect(codeOf(missing)).toBe('NO_SUCH_TASK');
      expect(codeOf(await rejection(pool.map(fn('double'), [() => 1])))).toBe('DATA_CLONE_ERR');
      expect(await pool.apply(fn('add'), [1, 1])).toBe(2);
    });

    it(`multiprocessing ${context.name}: a task that throws an unusual value fails with an Error carrying what can travel, and its worker serves on`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 1 }));
      const [pid] = pool.pids;
      const odd = (kind: string) => rejection(pool.apply(fn('throwOdd'), [kind]));
      const expectError = (error: Error): void => {
        expect(error).toBeInstanceOf(Error);
        expect(codeOf(error)).not.toBe('WORKER_DIED');
      };
      for (const [kind, message] of [['null', 'a non-Error was thrown: null'], ['symbol', 'a non-Error was thrown: Symbol(odd)'], ['null-prototype', 'a non-Error was thrown: [object Object]']]) {
        const error = await odd(kind!);
        expectError(error);
        expect(error.name).toBe('Error');
        expect(error.message).toBe(message);
      }
      // A code that cannot travel (a function) is dropped; message, stack and class still arrive.
      const functionCode = await odd('function-code');
      expectError(functionCode);
      expect(functionCode.message).toBe('with a function code');
      expect(functionCode.stack).toContain('tasks.js');
      expect('code' in functionCode).toBe(false);
      expect(codeOf(await odd('number-code'))).toBe(7);
      const noMessage = await odd('throwing-message');
      expectError(noMessage);
      expect(noMessage.message).toBe('');
      // Class names that are keys of Object.prototype are names like any other.
      for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
        const error = await odd(name);
        expectError(error);
        expect(Object.getPrototypeOf(error)).toBe(Error.prototype);
        expect(error.name).toBe(name);
        expect(error.message).toBe(`named ${name}`);
      }
      expect(pool.pids).toEqual([pid]);
      expect(await pool.map(fn('double'), [1, 2, 3])).toEqual([2, 4, 6]);
    });

    it(`multiprocessing ${context.name}: a worker that dies fails its task with WORKER_DIED and is replaced`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 2 }));
      const before = pool.pids;
      expect(before.length).toBe(2);
      const died = await rejection(pool.map(fn('crash'), ['a', 'die', 'b'], { chunksize: 1 }));
      expect(codeOf(died)).toBe('WORKER_DIED');
      expect(died.message).toMatch(/exit code 3/);
      expect(await pool.map(fn('double'), [1, 2, 3])).toEqual([2, 4, 6]);
      // The dead worker's replacement joins the pool.
      for (let i = 0; pool.pids.length < 2 || pool.pids.every((pid) => before.includes(pid)); i++) {
        if (i > 4000) throw new Error(`no replacement: ${pool.pids}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(pool.pids.filter((pid) => before.includes(pid)).length).toBe(1);
      const pids = new Set(await pool.map<number>(fn('whoami'), Array.from({ length: 40 }, (_, i) => i), { chunksize: 1 }));
      expect([...pids].every((pid) => pool.pids.includes(pid))).toBe(true);
    });

    it(`multiprocessing ${context.name}: maxtasksperchild replaces workers; the initializer runs in each`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 2, maxtasksperchild: 1, initializer: fn('init'), initargs: ['ready'] }));
      const pids = await pool.map(fn('whoami'), [1, 2, 3, 4], { chunksize: 1 });
      expect(new Set(pids).size).toBe(4);
      expect(await pool.map(fn('initValue'), [1, 2, 3], { chunksize: 1 })).toEqual(['ready', 'ready', 'ready']);
    });

    it(`multiprocessing ${context.name}: an AbortSignal cancels a call, even one running; the pool goes on`, async () => {
      const pool = disposeAfter(await Pool.create(backend, { processes: 1 }));
      const aborter = new AbortController();
      const running = pool.apply(fn('slow'), [60_000], { signal: aborter.signal });
      const queued = pool.map(fn('slow'), [60_000], { signal: aborter.signal });
      setTimeout(() => aborter.abort(), 100);
      const started = performance.now();
      expect(codeOf(await rejection(running))).toBe('ABORT_ERR');
      expect(codeOf(await rejection(queued))).toBe('ABORT_ERR');
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(await pool.apply(fn('add'), [2, 3])).toBe(5);
    });

    it(`multiprocessing ${context.name}: close lets work finish then join returns; terminate fails what is left with POOL_CLOSED`, async () => {
      const pool = await Pool.create(backend, { processes: 2 });
      const work = pool.map(fn('slow'), [50, 50, 50]);
      pool.close();
      expect(codeOf(await rejection(pool.map(fn('double'), [1])))).toBe('POOL_CLOSED');
      await pool.join();
      expect(await work).toEqual([50, 50, 50]);

      const other = await Pool.create(backend, { processes: 1 });
      const left = rejection(other.apply(fn('slow'), [60_000]));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await other.terminate();
      expect(codeOf(await left)).toBe('POOL_CLOSED');
      await other.join();
    });
  });
}
