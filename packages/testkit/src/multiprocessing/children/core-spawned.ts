/**
 * Child defined with core's `defineChild` (not the package's): the package's objects in its args
 * must arrive rebuilt all the same. Reports what it got, then uses each: takes the lock, adds to
 * the Value, releases a unit, answers on the Connection, sets the event.
 */
import { defineChild } from '@ipcx/core';
import { Connection, Event, Lock, Queue, Semaphore, Value } from '@ipcx/multiprocessing';

type Args = [{ queue: Queue<unknown> }, [Lock, Event, Semaphore], Value<'int32'> | null, Connection | null];

export default defineChild<Args>(async ({ args: [{ queue }, [lock, event, units], counter, conn] }) => {
  await queue.put({
    queue: queue instanceof Queue,
    lock: lock instanceof Lock,
    event: event instanceof Event,
    units: units instanceof Semaphore,
    counter: counter === null || counter instanceof Value,
    conn: conn === null || conn instanceof Connection,
  });
  await lock.acquire();
  try {
    counter?.add(5);
  } finally {
    await lock.release();
  }
  await units.release();
  if (conn !== null) await conn.send(`got ${String(await conn.recv())}`);
  await event.set();
});
