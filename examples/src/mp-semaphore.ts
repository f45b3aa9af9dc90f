/**
 * The seed's semaphore example with @ipcx/multiprocessing: Semaphore(3) guards five children, so
 * at most three are inside at once; each reports when it enters and leaves on a Queue.
 *
 * Python:
 *   sem = Semaphore(3)
 *   ps = [Process(target=worker, args=(sem, q, i)) for i in range(5)]
 *   with sem: ...   # in each worker
 */
import { Queue, Semaphore, Value, defineChild, spawn } from '@ipcx/multiprocessing';
import { expectEqual, type ExampleMain } from './example.js';

/** Child side: enter, count in, work 30 ms, count out, leave. */
export default defineChild<[Semaphore, Value<'int32'>, Queue<{ pid: number; text: string }>, number]>(async ({ args: [sem, inside, q, i], pid }) => {
  await sem.acquire();
  try {
    const now = inside.add(1);
    await q.put({ pid, text: `worker ${i} in (${now} inside)` });
    await new Promise((resolve) => setTimeout(resolve, 30));
    inside.add(-1);
  } finally {
    await sem.release();
  }
});

/** Parent side. */
export const main: ExampleMain = async (backend) => {
  const sem = await Semaphore.create(backend, 3);
  const inside = await Value.create(backend, 'int32', 0, { lock: false });
  const q = await Queue.create<{ pid: number; text: string }>(backend);
  try {
    const ps = await Promise.all([0, 1, 2, 3, 4].map((i) => spawn(backend, import.meta.url, [sem, inside, q, i])));
    for (const p of ps) expectEqual(await p.join(), { code: 0, signal: null }, 'child exit status');
    const reports: Array<{ pid: number; text: string }> = [];
    while (!q.empty()) reports.push(await q.get());
    const most = Math.max(...reports.map((report) => Number(/\((\d) inside\)/.exec(report.text)![1])));
    if (most > 3) throw new Error(`${most} workers were inside a Semaphore(3)`);
    expectEqual(reports.length, 5, 'workers that entered');
    return {
      crossings: reports.map((report) => ({ from: `child ${report.pid}`, to: `parent ${process.pid}`, what: report.text })),
      outcome: { entered: reports.length, atMostThree: most <= 3 },
    };
  } finally {
    await q.close();
    await inside.close();
    await sem.close();
  }
};
