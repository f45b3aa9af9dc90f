/**
 * The seed's queue example with @ipcx/multiprocessing: objects put by one process, got by another.
 *
 * Python:
 *   q = Queue()
 *   p = Process(target=producer, args=(q,)); p.start()
 *   while (item := q.get()) is not None: print(item)
 *   p.join()
 */
import { Queue, defineChild, spawn } from '@ipcx/multiprocessing';
import { expectEqual, type ExampleMain } from './example.js';

interface Item {
  readonly id: number;
  readonly name: string;
  readonly values: number[];
}

/** Child side (the producer): five items, then None. */
export default defineChild<[Queue<Item | null>]>(async ({ args: [q] }) => {
  for (let id = 0; id < 5; id++) await q.put({ id, name: `item ${id}`, values: [id, id * id] });
  await q.put(null);
  await q.close();
});

/** Parent side (the consumer). */
export const main: ExampleMain = async (backend) => {
  const q = await Queue.create<Item | null>(backend);
  try {
    const p = await spawn(backend, import.meta.url, [q]);
    const got: Item[] = [];
    for (let item = await q.get(); item !== null; item = await q.get()) got.push(item);
    expectEqual(got.map((item) => item.id), [0, 1, 2, 3, 4], 'items in the order put');
    expectEqual(await p.join(), { code: 0, signal: null }, 'child exit status');
    return {
      crossings: [{ from: `child ${p.pid}`, to: `parent ${process.pid}`, what: `q.put() of 5 objects like ${JSON.stringify(got[0])}, then null` }],
      outcome: got,
    };
  } finally {
    await q.close();
  }
};
