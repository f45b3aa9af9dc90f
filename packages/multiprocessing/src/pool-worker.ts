/**
 * The module every pool worker runs (a child process on the native backend, a worker thread on
 * the worker backend): runs the initializer once, then each chunk it is sent, answering on its
 * Connection, until told to stop or `maxtasksperchild` tasks are done.
 */
// The index, not single files: the objects a task receives in its items revive from any kind.
import { defineChild, type Connection } from './index.js';
import { errorRecord, type RunMessage, type StopMessage, type TaskRef, type WorkerMessage } from './pool-protocol.js';
import { markDense } from './plain-codec.js';

type Fn = (...args: unknown[]) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
const functions = new Map<string, Fn>();

async function load(task: TaskRef): Promise<Fn> {
  const key = `${task.module}#${task.name}`;
  let fn = functions.get(key);
  if (fn === undefined) {
    const module = (await import(task.module)) as Record<string, unknown>;
    const found = module[task.name];
    if (typeof found !== 'function') {
      const error = new TypeError(`'${task.name}' is not a function exported by ${task.module}`);
      (error as { code?: string }).code = 'NO_SUCH_TASK';
      throw error;
    }
    fn = found as Fn;
    functions.set(key, fn);
  }
  return fn;
}

export default defineChild<[Connection, TaskRef | null, readonly unknown[], number]>(async ({ args: [conn, initializer, initargs, maxTasks] }) => {
  if (initializer !== null) await (await load(initializer))(...initargs);
  await conn.send({ type: 'ready' } satisfies WorkerMessage);
  let done = 0;
  for (;;) {
    const message = await conn.recv<RunMessage | StopMessage>();
    if (message.type === 'stop') break;
    // Built with push and sent before anyone sees it: dense, so the encoder skips its check.
    const results: unknown[] = markDense([]);
    let index = 0;
    // Python counts a chunk of a map as one task; so do we.
    done++;
    const retiring = maxTasks > 0 && done >= maxTasks;
    try {
      const fn = await load(message.task);
      for (; index < message.items.length; index++) {
        const item = message.items[index];
        const result = message.star ? fn(...(item as unknown[])) : fn(item);
        // Await only promises: a microtask turn per plain result would dominate tiny tasks.
        results.push(isThenable(result) ? await result : result);
      }
      await conn.send({ type: 'done', id: message.id, results, retiring } satisfies WorkerMessage);
    } catch (error) {
      await conn.send({ type: 'failed', id: message.id, error: errorRecord(error), index, retiring } satisfies WorkerMessage);
    }
    if (retiring) break;
  }
  await conn.close();
});
