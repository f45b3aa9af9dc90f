/**
 * The package's objects passed through core's own `backend.processes.spawn(entry, { args })`, to
 * a child defined with core's `defineChild` and to one defined with the package's: each arrives
 * as a working object of its class (core imports the package's revive module in the child).
 */
import { describe, expect, it } from 'vitest';
import { Primitive } from '@ipcx/core';
import { Event, Lock, Pipe, Queue, Semaphore, Value, type Connection } from '@ipcx/multiprocessing';
import { after, disposeAfter, type MpContext } from './context.js';

export function coreSpawnSuite(context: MpContext): void {
  const { backend } = context;
  const shared = context.has(Primitive.sharedMemory);
  const pipes = context.has(Primitive.pipe);

  async function pipe(): Promise<[Connection, Connection] | [null, null]> {
    if (!pipes) return [null, null];
    const [mine, theirs] = await Pipe(backend);
    disposeAfter(mine);
    disposeAfter(theirs);
    return [mine, theirs];
  }

  describe(`multiprocessing ${context.name} core spawn`, () => {
    it(`multiprocessing ${context.name}: objects in core processes.spawn args reach a core defineChild child rebuilt and working`, async () => {
      const queue = disposeAfter(await Queue.create(backend));
      const lock = disposeAfter(await Lock.create(backend));
      const event = disposeAfter(await Event.create(backend));
      const units = disposeAfter(await Semaphore.create(backend, 0));
      const counter = shared ? disposeAfter(await Value.create(backend, 'int32', 1)) : null;
      const [mine, theirs] = await pipe();
      const child = await backend.processes.spawn(context.child('core-spawned'), { args: [{ queue }, [lock, event, units], counter, theirs] });
      after(async () => {
        child.kill('SIGKILL');
        await child.exited;
      });
      await theirs?.close();
      expect(await queue.get({ timeout: 20_000 })).toEqual({ queue: true, lock: true, event: true, units: true, counter: true, conn: true });
      await mine?.send('ping');
      expect(await units.acquire({ timeout: 20_000 })).toBe(true);
      if (mine !== null) expect(await mine.recv()).toBe('got ping');
      expect(await event.wait({ timeout: 20_000 })).toBe(true);
      expect((await child.exited).code).toBe(0);
      if (counter !== null) expect(counter.value).toBe(6);
    });

    it.skipIf(!pipes)(`multiprocessing ${context.name}: a Connection in core processes.spawn args reaches a child of the package's defineChild`, async () => {
      const [mine, theirs] = await pipe();
      const child = await backend.processes.spawn(context.child('echo'), { args: [theirs] });
      after(async () => {
        child.kill('SIGKILL');
        await child.exited;
      });
      await theirs!.close();
      await mine!.send({ double: 21 });
      expect(await mine!.recv()).toBe(42);
      await mine!.send(new Map([['a', [1, 2]]]));
      expect(await mine!.recv()).toEqual(new Map([['a', [1, 2]]]));
      await mine!.send('stop');
      expect((await child.exited).code).toBe(0);
    });
  });
}
