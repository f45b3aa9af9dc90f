/**
 * The module every pool worker runs (a child process on the native backend, a worker thread on
 * the worker backend): runs the initializer once, then each chunk it is sent, answering on its
 * Connection (in the frames of pool-protocol.ts), until told to stop or `maxtasksperchild` tasks
 * are done.
 */
import type { IpcBackend } from '@ipcx/core';
// The index, not single files: the objects a task receives in its items revive from any kind.
import { defineChild, type Connection } from './index.js';
import type { Codec } from './codec.js';
import { checkCodec, codecNamed } from './codec-registry.js';
import {
  doneFrame,
  doneFrameBytes,
  doneResults,
  errorRecord,
  Frame,
  frameKind,
  FrameReader,
  readRunFrame,
  readValueFrame,
  valueFrame,
  type NumbersRun,
  type RunMessage,
  type StopMessage,
  type TaskRef,
  type WorkerMessage,
} from './pool-protocol.js';
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

/** The done frames' buffer, reused: each is sent (and the send awaited) before the next chunk runs. */
let doneBuffer = new Uint8Array(0);

function send(conn: Connection, codec: Codec, message: WorkerMessage): Promise<void> {
  return conn.sendBytes(valueFrame(codec, message));
}

/**
 * Runs a chunk of numbers (items a view of the reader's buffer, read before the next frame is):
 * results go straight into a done frame while they are numbers; from the first that is not (a
 * promise, a string...), the chunk finishes as a `done` value, with what was computed so far.
 */
async function runNumbers(conn: Connection, codec: Codec, run: NumbersRun, retiring: boolean): Promise<void> {
  const { id, items } = run;
  const count = items.length;
  let index = 0;
  try {
    const fn = await load(run.task);
    if (doneBuffer.length < doneFrameBytes(count)) doneBuffer = new Uint8Array(doneFrameBytes(count));
    const frame = doneFrame(doneBuffer, id, count, retiring);
    const out = doneResults(frame);
    let result: unknown;
    for (; index < count; index++) {
      result = fn(items[index]);
      if (typeof result !== 'number') break;
      out[index] = result;
    }
    if (index === count) {
      await conn.sendBytes(frame);
      return;
    }
    const results: unknown[] = markDense([]);
    for (let i = 0; i < index; i++) results.push(out[i]);
    results.push(isThenable(result) ? await result : result);
    for (index++; index < count; index++) {
      const next = fn(items[index]);
      results.push(isThenable(next) ? await next : next);
    }
    await send(conn, codec, { type: 'done', id, results, retiring });
  } catch (error) {
    await send(conn, codec, { type: 'failed', id, error: errorRecord(error), index, retiring });
  }
}

/** Runs a chunk sent as a value (items of any kind, or spread as arguments). */
async function runItems(conn: Connection, codec: Codec, message: RunMessage, retiring: boolean): Promise<void> {
  // Built with push and sent before anyone sees it: dense, so the encoder skips its check.
  const results: unknown[] = markDense([]);
  let index = 0;
  try {
    const fn = await load(message.task);
    for (; index < message.items.length; index++) {
      const item = message.items[index];
      const result = message.star ? fn(...(item as unknown[])) : fn(item);
      // Await only promises: a microtask turn per plain result would dominate tiny tasks.
      results.push(isThenable(result) ? await result : result);
    }
    await send(conn, codec, { type: 'done', id: message.id, results, retiring });
  } catch (error) {
    await send(conn, codec, { type: 'failed', id: message.id, error: errorRecord(error), index, retiring });
  }
}

export default defineChild<[Connection, TaskRef | null, readonly unknown[], number, string | null, boolean]>(async ({ backend, args: [conn, initializer, initargs, maxTasks, codecName, warm] }) => {
  const codec = codecName === null ? checkCodec(undefined) : codecNamed(codecName);
  if (warm) {
    // The pool's warm-up (pool.ts, WARM_BYTES): its frame through the inbound ring, one as large back.
    const frame = await conn.recvBytes();
    await conn.sendBytes(new Uint8Array(frame.length));
  }
  if (initializer !== null) await (await load(initializer))(...initargs);
  await send(conn, codec, { type: 'ready' });
  const reader = new FrameReader(conn);
  let done = 0;
  for (;;) {
    const frame = await reader.next();
    const run = frameKind(frame) === Frame.run ? readRunFrame(frame) : await nextMessage(frame, codec, backend);
    if (run.type === 'stop') break;
    // Python counts a chunk of a map as one task; so do we.
    done++;
    const retiring = maxTasks > 0 && done >= maxTasks;
    if (run.type === 'numbers') await runNumbers(conn, codec, run, retiring);
    else await runItems(conn, codec, run, retiring);
    if (retiring) break;
  }
  await conn.close();
});

async function nextMessage(frame: Uint8Array, codec: Codec, backend: IpcBackend): Promise<RunMessage | StopMessage> {
  if (frameKind(frame) !== Frame.value) throw new TypeError('the pool broke the protocol');
  return (await readValueFrame(frame, codec, backend)) as RunMessage | StopMessage;
}
