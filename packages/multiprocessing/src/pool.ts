/**
 * Pool: Python's `multiprocessing.Pool`, processes on the native backend and worker threads on the
 * worker backend, each running `pool-worker.js` and talking to the pool over its own
 * {@link Connection} in the frames of pool-protocol.ts (a chunk of numbers and its numeric
 * results as float64 blocks). The pool keeps the queue of chunks and hands each worker its share,
 * up to {@link CHUNKS_IN_FLIGHT} at once (the next one is waiting in its Connection when it
 * finishes one, so it never idles while the pool reads its results); a worker runs its chunks in
 * the order sent, so the pool always knows which chunk a worker runs: a worker that dies fails
 * exactly that chunk (code `WORKER_DIED`), its chunks not started go back to the queue, and it is
 * replaced.
 */
import { abortErrorFor, Primitive, type IpcBackend } from '@ipcx/core';
import { v8Codec, type Codec } from './codec.js';
import { checkCodec } from './codec-registry.js';
import type { Connection } from './connection.js';
import { Pipe } from './pipe.js';
import { RingConnection } from './ring-connection.js';
import { ErrorCode, isMultiprocessingError, MultiprocessingError } from './errors.js';
import { requirePrimitives } from './transport-select.js';
import { errorFromRecord, Frame, frameKind, FrameReader, readDoneFrame, readValueFrame, runFrame, valueFrame, type RunMessage, type TaskRef, type WorkerMessage } from './pool-protocol.js';
import { markDense } from './plain-codec.js';
import { spawn, type Process } from './process.js';

export type { TaskRef } from './pool-protocol.js';

/** Names an exported function of a module for a pool: `task(new URL('./tasks.js', import.meta.url), 'double')`. */
export function task(module: string | URL, name: string): TaskRef {
  const href = module instanceof URL ? module.href : module;
  if (typeof href !== 'string' || !href.startsWith('file:')) throw new TypeError('module must be a file URL');
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('name must be the name of an exported function');
  return { module: href, name };
}

/** Options of {@link Pool.create}. */
export interface PoolOptions {
  /** Number of workers (default 2, at least 1). */
  readonly processes?: number;
  /** Run once in each worker before its first task (Python's `initializer`). */
  readonly initializer?: TaskRef;
  /** Arguments of the initializer (`initargs`). */
  readonly initargs?: readonly unknown[];
  /** A worker exits and is replaced after this many tasks (chunks); 0 (default): never. */
  readonly maxtasksperchild?: number;
  /** The codec of the workers' connections (default: structured clone). */
  readonly codec?: Codec;
}

/** Options of one pool call. */
export interface PoolCallOptions {
  /** Items per task sent to a worker (default: about a quarter of the items per worker, as Python). */
  readonly chunksize?: number;
  /**
   * Aborting rejects the call with `AbortError`: its chunks not started are dropped, and the
   * workers running its chunks are ended (and replaced), so nothing of it keeps running.
   */
  readonly signal?: AbortSignal;
}

/** A chunk's results: an array, or the float64s of a numbers frame. */
type Results = ArrayLike<unknown>;

interface Chunk {
  readonly id: number;
  readonly task: TaskRef;
  /** The items, unless they all are numbers and travel as {@link Chunk.frame}. */
  readonly items: readonly unknown[] | undefined;
  /** The chunk as a numbers run frame (pool-protocol.ts), when its items all are numbers. */
  readonly frame: Uint8Array | undefined;
  readonly star: boolean;
  readonly call: Call;
  /** Where its results go (`map`, `starmap`): `out.array[at..]`; else it resolves with them. */
  readonly out: ResultsArray | undefined;
  readonly at: number;
  readonly resolve: (results: Results) => void;
  readonly reject: (error: unknown) => void;
  /** Settled already (its call was aborted) though sent to a worker: its answer is dropped. */
  cancelled?: boolean;
}

/**
 * The array a `map` or `starmap` returns, made by `submit` once the call's chunks are sent (see
 * {@link resultsArray}), before any of them can settle; absent for a call of no items.
 */
interface ResultsArray {
  array?: unknown[];
}

interface Call {
  readonly chunks: Chunk[];
  readonly signal: AbortSignal | undefined;
  settled: boolean;
}

interface Worker {
  readonly child: Process;
  readonly conn: Connection;
  readonly reader: FrameReader;
  /** Chunks sent and not answered, in the order the worker runs them: the first is running. */
  readonly sent: Chunk[];
  /** Chunks sent over its life (a worker retires after `maxtasksperchild`). */
  sentCount: number;
  ready: boolean;
  exiting: boolean;
  /** Settles once serve() has removed it from the pool (after its exit). */
  served?: Promise<void>;
}

const poolWorker = new URL('./pool-worker.js', import.meta.url);

/**
 * Bytes of each direction of a worker's pipe (its rings, where the backend has them). Large
 * enough that the chunks in flight and their answers fit at once with the default chunksize up
 * to ~30,000 numbers per chunk: a side that finds the ring full sleeps until the other side reads,
 * and each such wake-up cost 0.2–0.7 ms measured on a busy machine, more than the chunk itself.
 */
const POOL_PIPE_BYTES = 1 << 20;

/**
 * Bytes each side sends the other once when a worker starts, over shared-memory rings: nearly the
 * whole ring, so its pages are touched before the first call rather than during it. A ring's pages
 * are new memory the first time they are written: 1 MB through a new ring took 45 ms at load 25,
 * 0.1–1.4 ms the next times, and a pool's first calls paid that for its four rings (calls 2–4 of
 * a new pool, at load 20: median 70 ms without this, 26 ms with it, 7–12 ms later either way).
 */
const WARM_BYTES = POOL_PIPE_BYTES - 4096;

/**
 * Chunks handed to one worker at once: one running, up to three waiting in its Connection. With
 * Python's default chunksize (four chunks per worker) a call's chunks all go out at once, so no
 * chunk waits for this process to read an answer first (each such turn cost two wake-ups, which
 * under load took longer than a chunk of tiny tasks).
 */
export const CHUNKS_IN_FLIGHT = 4;

/**
 * A pool of workers running exported functions of modules.
 *
 * **Blocking**: every call returns a Promise (or an async iterator) and never blocks the event
 * loop; chunks run in parallel on the workers.
 *
 * **Errors**: a task that throws rejects its call with the worker's error, rebuilt with its class
 * (the same built-in class, or an `Error` named after it), message, stack and `code` (a string or
 * number; any other code is dropped). A thrown value that is not an `Error` rejects with an `Error`
 * whose message describes it. Either way the worker goes on serving.
 *
 * **Crash of a worker**: the chunk it was running rejects its call with `WORKER_DIED`, and a new
 * worker takes its place; other calls go on.
 *
 * **Lifetime**: `close()` lets queued work finish and the workers exit; `terminate()` ends them
 * at once (pending calls reject with `POOL_CLOSED`); `join()` waits for the workers to be gone.
 */
export class Pool implements AsyncDisposable {
  private readonly workers = new Set<Worker>();
  private readonly pending: Chunk[] = [];
  private nextId = 1;
  private state: 'running' | 'closed' | 'terminated' = 'running';
  private readonly starting = new Set<Promise<void>>();
  /** Buffers of run frames whose chunks were answered, reused for new ones (no fresh memory per call). */
  private readonly spareFrames: ArrayBuffer[] = [];
  /** The codec of the messages that are not numbers frames. */
  private readonly codec: Codec;

  private constructor(
    private readonly backend: IpcBackend,
    /** Number of workers kept running. */ readonly processes: number,
    private readonly options: PoolOptions,
  ) {
    this.codec = checkCodec(options.codec);
  }

  /** Starts a pool of `options.processes` workers; resolves once they are started. */
  static async create(backend: IpcBackend, options: PoolOptions = {}): Promise<Pool> {
    const processes = options.processes ?? 2;
    if (!Number.isInteger(processes) || processes < 1) throw new RangeError('processes must be an integer >= 1');
    const maxtasks = options.maxtasksperchild ?? 0;
    if (!Number.isInteger(maxtasks) || maxtasks < 0) throw new RangeError('maxtasksperchild must be an integer >= 0');
    if (options.initargs !== undefined && !Array.isArray(options.initargs)) throw new TypeError('initargs must be an array');
    // Workers are fed over duplex pipes (see pool-protocol.ts): none, no pool.
    requirePrimitives(backend, 'Pool', [Primitive.duplexPipe]);
    const pool = new Pool(backend, processes, options);
    try {
      await Promise.all(Array.from({ length: processes }, () => pool.startWorker()));
    } catch (error) {
      await pool.terminate();
      throw error;
    }
    return pool;
  }

  /** Results of `fn(item)` for every item, in order (Python's `map`). */
  async map<R = unknown>(fn: TaskRef, items: Iterable<unknown>, options: PoolCallOptions = {}): Promise<R[]> {
    const list = listOf(items);
    const out: ResultsArray = {};
    await Promise.all(this.submit(fn, list, false, options, out));
    return (out.array ?? []) as R[];
  }

  /** Results of `fn(...args)` for every argument list, in order (Python's `starmap`). */
  async starmap<R = unknown>(fn: TaskRef, argsList: Iterable<readonly unknown[]>, options: PoolCallOptions = {}): Promise<R[]> {
    const list = listOf(argsList);
    const out: ResultsArray = {};
    await Promise.all(this.submit(fn, list, true, options, out));
    return (out.array ?? []) as R[];
  }

  /** The result of `fn(...args)` in one worker (Python's `apply`/`apply_async`). */
  async apply<R = unknown>(fn: TaskRef, args: readonly unknown[] = [], options: Omit<PoolCallOptions, 'chunksize'> = {}): Promise<R> {
    if (!Array.isArray(args)) throw new TypeError('args must be an array');
    const [chunk] = this.submit(fn, [args], true, { ...options, chunksize: 1 });
    return (await chunk)[0] as R;
  }

  /** Results of `fn(item)` in order, each as soon as it and those before it are done (Python's `imap`). */
  async *imap<R = unknown>(fn: TaskRef, items: Iterable<unknown>, options: PoolCallOptions = {}): AsyncGenerator<R, void, undefined> {
    const chunks = this.submit(fn, listOf(items), false, { chunksize: 1, ...options });
    chunks.forEach((chunk) => chunk.catch(() => {}));
    for (const chunk of chunks) {
      const results = await chunk;
      for (let i = 0; i < results.length; i++) yield results[i] as R;
    }
  }

  /** Results of `fn(item)` in the order they finish (Python's `imap_unordered`). */
  async *imapUnordered<R = unknown>(fn: TaskRef, items: Iterable<unknown>, options: PoolCallOptions = {}): AsyncGenerator<R, void, undefined> {
    const chunks = this.submit(fn, listOf(items), false, { chunksize: 1, ...options });
    const waiting = new Map(chunks.map((chunk, i) => [i, chunk.then((results) => ({ i, results }))]));
    chunks.forEach((chunk) => chunk.catch(() => {}));
    while (waiting.size > 0) {
      const { i, results } = await Promise.race(waiting.values());
      waiting.delete(i);
      for (let j = 0; j < results.length; j++) yield results[j] as R;
    }
  }

  /** The pids (thread ids on the worker backend) of the workers running now. */
  get pids(): number[] {
    return [...this.workers].filter((worker) => !worker.exiting).map((worker) => worker.child.pid);
  }

  /** Accepts no more work; queued and running chunks finish, then the workers exit. */
  close(): void {
    if (this.state !== 'running') return;
    this.state = 'closed';
    this.dispatch();
  }

  /** Ends every worker now; calls not finished reject with `POOL_CLOSED`. */
  async terminate(): Promise<void> {
    this.state = 'terminated';
    for (const chunk of this.pending.splice(0)) chunk.reject(poolClosed());
    await Promise.allSettled([...this.starting]);
    const workers = [...this.workers];
    for (const worker of workers) {
      worker.exiting = true;
      for (const chunk of worker.sent.splice(0)) if (!chunk.cancelled) chunk.reject(poolClosed());
      worker.child.kill('SIGKILL');
    }
    await Promise.all(workers.map((worker) => worker.child.exited));
  }

  /** Waits until every worker has exited (after {@link Pool.close} or {@link Pool.terminate}). */
  async join(): Promise<void> {
    if (this.state === 'running') throw new TypeError('join() needs close() or terminate() first');
    // Wait on what removes workers from the set (serve() finishing), never on promises that are
    // already settled: a loop over those would starve the event loop that delivers the EOFs.
    while (this.workers.size > 0 || this.starting.size > 0) {
      await Promise.allSettled([...this.starting, ...[...this.workers].map((worker) => worker.served)]);
    }
  }

  /** `terminate()` then `join()`, as Python's `with Pool() as p:` does on exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
    await this.join();
  }

  private submit(fn: TaskRef, items: readonly unknown[], star: boolean, options: PoolCallOptions, out?: ResultsArray): Array<Promise<Results>> {
    if (this.state !== 'running') throw poolClosed();
    if (fn === null || typeof fn !== 'object' || typeof fn.module !== 'string' || typeof fn.name !== 'string') throw new TypeError('fn must be a task(module, name)');
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
    const chunksize = options.chunksize ?? Math.max(1, Math.ceil(items.length / (this.processes * 4)));
    if (!Number.isInteger(chunksize) || chunksize < 1) throw new RangeError('chunksize must be an integer >= 1');
    if (signal?.aborted) throw abortErrorFor(signal);
    const call: Call = { chunks: [], signal, settled: false };
    const promises: Array<Promise<Results>> = [];
    const count = items.length;
    // Numbers travel as float64 blocks only where the codec is the default one (whose numbers are float64 too).
    const numbers = !star && this.codec === v8Codec;
    let numberFrames = 0;
    for (let start = 0; start < count; start += chunksize) {
      const end = Math.min(count, start + chunksize);
      const id = this.nextId++;
      const frame = numbers ? runFrame(id, fn, items, start, end, this.allocateFrame) : undefined;
      if (frame !== undefined) numberFrames++;
      const chunkItems = frame === undefined ? denseSlice(items, start, end) : undefined;
      promises.push(
        new Promise<Results>((resolve, reject) => {
          call.chunks.push({ id, task: fn, items: chunkItems, frame, star, call, out, at: start, resolve, reject });
        }),
      );
    }
    if (signal !== undefined) {
      const onAbort = () => this.abortCall(call);
      signal.addEventListener('abort', onAbort, { once: true });
      void Promise.allSettled(promises).then(() => signal.removeEventListener('abort', onAbort));
    }
    this.pending.push(...call.chunks);
    this.dispatch();
    // The results array is made once the first chunks are out, while the workers run them: a large
    // array's fresh pages cost a page fault each (~17 us in a paravirtualised guest, 3-9 ms for
    // 100,000 results), which this thread then pays instead of waiting.
    if (out !== undefined && count > 0) out.array = resultsArray(count, numberFrames === call.chunks.length);
    return promises;
  }

  private abortCall(call: Call): void {
    const error = abortErrorFor(call.signal!);
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (this.pending[i].call === call) this.pending.splice(i, 1)[0].reject(error);
    }
    for (const worker of this.workers) {
      const running = worker.sent[0];
      for (const chunk of worker.sent) {
        if (chunk.call !== call || chunk.cancelled) continue;
        chunk.cancelled = true;
        chunk.reject(error);
      }
      if (running !== undefined && running.call === call && !worker.exiting) {
        // A chunk cannot be stopped inside a function: its worker goes (and is replaced); the
        // chunks of other calls it had waiting go back to the queue when it is gone.
        worker.exiting = true;
        worker.child.kill('SIGKILL');
      }
    }
  }

  private dispatch(): void {
    const maxtasks = this.options.maxtasksperchild ?? 0;
    const free = (worker: Worker): boolean => worker.ready && !worker.exiting && worker.sent.length < CHUNKS_IN_FLIGHT && !(maxtasks > 0 && worker.sentCount >= maxtasks);
    const takers = [...this.workers].filter(free);
    // Each free worker in turn takes its share of the queue at once (rounded up over the workers
    // left, so a short queue still spreads over them): its chunks are all in its pipe by the time
    // it wakes, and it runs them back to back instead of sleeping between them (each wake-up of
    // a sleeping worker costs more than a chunk of tiny tasks).
    for (let k = 0; k < takers.length && this.pending.length > 0; k++) {
      const worker = takers[k];
      let share = Math.ceil(this.pending.length / (takers.length - k));
      let chunk: Chunk | undefined;
      while (share > 0 && free(worker) && (chunk = this.pending.shift()) !== undefined) {
        try {
          let frame = chunk.frame;
          if (frame === undefined) {
            const message: RunMessage = { type: 'run', id: chunk.id, task: chunk.task, items: chunk.items!, star: chunk.star };
            frame = valueFrame(this.codec, message);
          }
          worker.conn.sendBytes(frame).catch(() => {});
        } catch (error) {
          // The items could not be serialized: nothing was sent; the worker stays free.
          chunk.reject(error);
          continue;
        }
        worker.sent.push(chunk);
        worker.sentCount++;
        share--;
      }
    }
    if (this.state === 'closed' && this.pending.length === 0) {
      for (const worker of this.workers) {
        if (worker.ready && !worker.exiting && worker.sent.length === 0 && !(maxtasks > 0 && worker.sentCount >= maxtasks)) this.stopWorker(worker);
      }
    }
  }

  /** The message of a value frame (the next one of `reader`, unless given); throws on any other kind. */
  private async readMessage(reader: FrameReader, frame?: Uint8Array): Promise<WorkerMessage> {
    const bytes = frame ?? (await reader.next());
    if (frameKind(bytes) !== Frame.value) throw new TypeError('a pool worker broke the protocol');
    return (await readValueFrame(bytes, this.codec, this.backend)) as WorkerMessage;
  }

  /**
   * Settles the chunk a worker answered (answers come in the order the chunks were sent): its
   * results go into its call's array (copied now when `transient`, a view of a buffer reused by
   * the next read), or it fails with `error`. Its run frame's buffer is free again: the worker
   * has read it.
   */
  private settle(worker: Worker, id: number, results: Results | undefined, transient: boolean, error?: Error): void {
    const chunk = worker.sent[0]?.id === id ? worker.sent.shift() : undefined;
    if (chunk === undefined) return;
    if (chunk.frame !== undefined && this.spareFrames.length < this.processes * CHUNKS_IN_FLIGHT * 2) this.spareFrames.push(chunk.frame.buffer as ArrayBuffer);
    if (chunk.cancelled) return;
    if (error !== undefined || results === undefined) {
      chunk.reject(error);
      return;
    }
    if (chunk.out !== undefined) {
      const { at } = chunk;
      // Made by submit before any answer could come (answers are read on later turns).
      const out = chunk.out.array!;
      for (let i = 0; i < results.length; i++) out[at + i] = results[i];
      chunk.resolve(NO_RESULTS);
    } else chunk.resolve(transient ? Array.from(results) : results);
  }

  /** A buffer for a run frame of `bytes`: a spare one (of an answered chunk) if one is large enough. */
  private readonly allocateFrame = (bytes: number): Uint8Array => {
    for (let i = this.spareFrames.length - 1; i >= 0; i--) {
      if (this.spareFrames[i].byteLength >= bytes) return new Uint8Array(this.spareFrames.splice(i, 1)[0]);
    }
    return new Uint8Array(bytes);
  };

  private stopWorker(worker: Worker): void {
    worker.exiting = true;
    worker.conn.sendBytes(valueFrame(this.codec, { type: 'stop' })).catch(() => {});
  }

  private startWorker(): Promise<void> {
    const started = (async () => {
      const [mine, theirs] = await Pipe(this.backend, { capacity: POOL_PIPE_BYTES, ...(this.options.codec ? { codec: this.options.codec } : {}) });
      const warm = mine instanceof RingConnection;
      let child: Process;
      try {
        child = await spawn(this.backend, poolWorker, [theirs, this.options.initializer ?? null, this.options.initargs ?? [], this.options.maxtasksperchild ?? 0, this.options.codec?.name ?? null, warm]);
      } finally {
        await theirs.close();
      }
      if (warm) mine.sendBytes(new Uint8Array(WARM_BYTES)).catch(() => {});
      // Ready once its initializer ran: a worker that cannot start fails here, never in a loop
      // of replacements.
      const reader = new FrameReader(mine);
      const greeting = async (): Promise<WorkerMessage> => {
        if (warm) await mine.recvBytes();
        return this.readMessage(reader);
      };
      const hello = await greeting().catch(async (error: unknown) => {
        const status = await child.exited;
        await mine.close();
        throw new MultiprocessingError(ErrorCode.workerDied, `a pool worker failed to start (${status.signal ?? `exit code ${status.code}`})`, { cause: error });
      });
      if (hello.type !== 'ready') throw new TypeError('a pool worker broke the protocol');
      const worker: Worker = { child, conn: mine, reader, sent: [], sentCount: 0, ready: true, exiting: false };
      this.workers.add(worker);
      worker.served = this.serve(worker);
      this.dispatch();
    })();
    this.starting.add(started);
    void started.finally(() => this.starting.delete(started)).catch(() => {});
    return started;
  }

  /** Reads one worker's answers until it ends; then fails its chunk and replaces it if needed. */
  private async serve(worker: Worker): Promise<void> {
    try {
      for (;;) {
        const frame = await worker.reader.next();
        if (frameKind(frame) === Frame.done) {
          // Results that are all numbers: a view of the reader's buffer, taken before the next read.
          const done = readDoneFrame(frame);
          if (done.retiring) worker.exiting = true;
          this.settle(worker, done.id, done.results, true);
        } else {
          const message = await this.readMessage(worker.reader, frame);
          if (message.type !== 'ready') {
            // A retiring worker gets nothing more: it exits and serve() replaces it below.
            if (message.retiring) worker.exiting = true;
            if (message.type === 'done') this.settle(worker, message.id, message.results, false);
            else this.settle(worker, message.id, undefined, false, errorFromRecord(message.error));
          }
        }
        this.dispatch();
      }
    } catch (error) {
      // EOF: the worker ended (it finished, retired after maxtasksperchild, or died). Anything
      // else is a broken protocol: the worker goes (and is replaced) rather than being waited for.
      if (!isMultiprocessingError(error)) {
        worker.exiting = true;
        worker.child.kill('SIGKILL');
      }
    }
    const status = await worker.child.exited;
    this.workers.delete(worker);
    await worker.conn.close();
    const [running, ...waiting] = worker.sent.splice(0);
    if (running !== undefined && !running.cancelled) {
      running.reject(new MultiprocessingError(ErrorCode.workerDied, `the pool's worker ${worker.child.pid} died running this task (${status.signal ?? `exit code ${status.code}`}); it was replaced`));
    }
    // Chunks it never started (it retired, or died on the one before) go first to the next worker.
    this.pending.unshift(...waiting.filter((chunk) => !chunk.cancelled));
    const needed = this.state === 'running' || (this.state === 'closed' && this.pending.length > 0);
    if (needed) {
      await this.startWorker().catch((error: unknown) => {
        // No replacement: the queued chunks would wait forever; fail them instead.
        for (const chunk of this.pending.splice(0)) chunk.reject(error);
      });
    } else this.dispatch();
  }
}

/**
 * The array of `length` results of a `map`, made once in its final elements kind: of doubles when
 * the results are expected to be numbers (its items all travelled as numbers, so the results
 * likely come back as float64 blocks), else of any values. `new Array(n)` starts as small
 * integers, and the first double or object stored into it copied every element: a second large
 * allocation, whose fresh pages cost a page fault each (~17 us in a paravirtualised guest), and
 * float64 stores into it took ~27 ns each. Every index is written by the call's chunks, the
 * placeholder included; results of another kind turn it into a generic array, once.
 */
function resultsArray(length: number, numbers: boolean): unknown[] {
  const array: unknown[] = numbers ? [0.5] : [undefined];
  array.length = length;
  return array;
}

/**
 * The items of a call: a plain array as it is (read index by index when it is cut into chunks, as
 * its iterator would: holes read as `undefined`), any other iterable spread. Not copying a large
 * array whole matters: a fresh array of 100,000 elements is a large object, and its pages are
 * new memory each time (page faults cost ~20 µs each on the guests this was measured on).
 */
function listOf(items: Iterable<unknown>): readonly unknown[] {
  return Array.isArray(items) && items[Symbol.iterator] === Array.prototype[Symbol.iterator] ? items : [...items];
}

/** `items[start..end)` as a new dense array (holes as `undefined`), marked so for the encoder. */
function denseSlice(items: readonly unknown[], start: number, end: number): unknown[] {
  const slice: unknown[] = [];
  for (let i = start; i < end; i++) slice.push(items[i]);
  return markDense(slice);
}

const NO_RESULTS: Results = [];

function poolClosed(): MultiprocessingError {
  return new MultiprocessingError(ErrorCode.poolClosed, 'the pool is closed');
}
