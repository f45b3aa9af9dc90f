/**
 * Value, SharedArray, SharedStruct and ShareableList across processes: atomic and locked updates
 * from several children add up exactly; layouts, types and range checks.
 */
import { describe, expect, it } from 'vitest';
import { Primitive } from '@ipcx/core';
import { Barrier, Pipe, Pool, RingPipe, SharedArray, ShareableList, SharedStruct, Value, spawn, structLayout } from '@ipcx/multiprocessing';
import { after, disposeAfter, rejection, type MpContext } from './context.js';

export function sharedValuesSuite(context: MpContext): void {
  const { backend } = context;

  // Objects that exist only over shared memory (or pipes): on a backend without them each one
  // fails with ENOSYS naming what it needs, before anything is made.
  describe.skipIf(context.has(Primitive.sharedMemory))(`multiprocessing ${context.name} without shared memory`, () => {
    it(`multiprocessing ${context.name}: Value, Array, SharedStruct, ShareableList and RingPipe reject with ENOSYS; Barrier falls back to semaphores`, async () => {
      const refusals = [
        () => Value.create(backend, 'i', 0),
        () => SharedArray.create(backend, 'd', 4),
        () => SharedStruct.create(backend, { x: 'i' }),
        () => ShareableList.create(backend, [1, 'a']),
        () => RingPipe(backend),
      ];
      for (const refusal of refusals) expect(await rejection(refusal())).toMatchObject({ name: 'IpcError', code: 'ENOSYS', message: expect.stringMatching(/needs shared-memory/) });
      if (!context.has(Primitive.duplexPipe)) {
        expect(await rejection(Pipe(backend))).toMatchObject({ code: 'ENOSYS', message: expect.stringMatching(/^ENOSYS: Pipe needs duplex-pipe/) });
        expect(await rejection(Pool.create(backend))).toMatchObject({ code: 'ENOSYS', message: expect.stringMatching(/^ENOSYS: Pool needs duplex-pipe/) });
      }
      const barrier = disposeAfter(await Barrier.create(backend, 1));
      expect(await barrier.wait()).toBe(0);
    });
  });

  describe.skipIf(!context.has(Primitive.sharedMemory))(`multiprocessing ${context.name} shared values`, () => {
    it(`multiprocessing ${context.name}: Value/Array/struct/list updated by three children add up exactly (the seed's shared-memory example)`, async () => {
      const counter = disposeAfter(await Value.create(backend, 'i', 0, { lock: false }));
      const total = disposeAfter(await Value.create(backend, 'd', 0));
      const array = disposeAfter(await SharedArray.create(backend, 'int32', 3));
      const struct = disposeAfter(await SharedStruct.create(backend, { count: 'int32', samples: ['float64', 3] } as const));
      const list = disposeAfter(await ShareableList.create(backend, [null, null, null], { slotBytes: 16 }));
      const n = 200;
      const children = await Promise.all(
        [0, 1, 2].map(async (index) => {
          const child = await spawn(backend, context.child('shared-add'), [counter, total, array, struct, list, index, n]);
          after(async () => {
            child.kill('SIGKILL');
            await child.exited;
          });
          return child;
        }),
      );
      for (const child of children) expect((await child.join()).code).toBe(0);
      expect(counter.value).toBe(3 * n);
      expect(total.value).toBe(3 * n);
      expect(struct.get('count')).toBe(3 * n);
      expect(array.toArray()).toEqual([0, 10, 20]);
      expect(struct.get('samples')).toEqual([0.5, 1.5, 2.5]);
      expect(list.toArray()).toEqual(['child 0', 'child 1', 'child 2']);
    });

    it(`multiprocessing ${context.name}: number types and Python type codes, with wrap, bigint and bool`, async () => {
      const byte = disposeAfter(await Value.create(backend, 'uint8', 250, { lock: false }));
      expect(byte.add(10)).toBe(4);
      expect(byte.value).toBe(4);
      const big = disposeAfter(await Value.create(backend, 'q', 2n ** 62n, { lock: false }));
      expect(big.value).toBe(2n ** 62n);
      expect(() => (big.value = 1 as never)).toThrow(TypeError);
      const flag = disposeAfter(await Value.create(backend, '?', true, { lock: false }));
      expect(flag.value).toBe(true);
      const floats = disposeAfter(await SharedArray.create(backend, 'f', [1.5, -2.25], { lock: false }));
      expect([...floats]).toEqual([1.5, -2.25]);
      expect(floats.array).toBeInstanceOf(Float32Array);
      expect(() => floats.get(2)).toThrow(RangeError);
      expect(() => floats.getLock()).toThrow(TypeError);
      await expect(Value.create(backend, 'x' as never)).rejects.toThrow(TypeError);
    });

    it(`multiprocessing ${context.name}: struct layout aligns each field to its size, the total to 8`, () => {
      expect(structLayout({ a: 'uint8', b: 'float64', c: ['int16', 3], d: 'int32' })).toEqual({
        fields: [
          { name: 'a', type: 'uint8', offset: 0, length: 1, array: false },
          { name: 'b', type: 'float64', offset: 8, length: 1, array: false },
          { name: 'c', type: 'int16', offset: 16, length: 3, array: true },
          { name: 'd', type: 'int32', offset: 24, length: 1, array: false },
        ],
        bytes: 32,
      });
    });

    it(`multiprocessing ${context.name}: ShareableList keeps kinds and refuses strings longer than a slot`, async () => {
      const list = disposeAfter(await ShareableList.create(backend, [1.5, 7n, false, 'héllo', null]));
      expect(list.toArray()).toEqual([1.5, 7n, false, 'héllo', null]);
      expect(list.slotBytes).toBe(8);
      expect(() => list.set(3, 'much too long for eight')).toThrow(RangeError);
      expect(list.get(3)).toBe('héllo');
      list.set(0, 'x');
      expect(list.indexOf('x')).toBe(0);
      expect(list.count(null)).toBe(1);
    });
  });
}
