/**
 * Queue, JoinableQueue and SimpleQueue: Python's `multiprocessing` queues, across processes and
 * workers, over the shared-memory {@link Ring} (one System V segment, one System V semaphore set
 * of liveness slots for its robust locks), or, on a backend without shared memory (Redis), over
 * a System V message queue and a semaphore set ({@link MessageQueueChannel}, queue-fallback.ts).
 */
import type { IpcBackend, SysvSegment, WaitOptions } from '@ipcx/core';
import { abortErrorFor, moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import type { Codec } from './codec.js';
import { checkCodec, codecNamed } from './codec-registry.js';
import { ErrorCode, MultiprocessingError, timedOut } from './errors.js';
import { closedDuring, closedObject } from './kernel-objects.js';
import { BLOCKED, FrameFlag, RING_SLOTS, Ring, RingOutcome, ringBytes, ringCapacity, type RingOutcomeName } from './ring.js';
import { MessageQueueChannel, type FallbackRecord, type QueueChannel } from './queue-fallback.js';
import { registerReviver, reviveValue, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';
import { FALLBACK_PRIMITIVES, hasSharedMemory, requirePrimitives } from './transport-select.js';
import { NO_DEADLINE, deadlineOf, inTurn, type Deadline } from './wait.js';
import { decodeInPlace, decodeInPlaceAt, decodeValue, encodeValue, stableBytes, type EncodedValue } from './value-bytes.js';
import { v8Codec } from './codec.js';
import { encodePlainInScratch, plainScratch, releaseLargeScratch } from './plain-codec.js';

/** Options of {@link Queue.create}. */
export interface QueueOptions {
  /** Most values in the queue at once; `put` waits (backpressure) while it is full. 0 (default): no limit but the ring's bytes. */
  readonly maxsize?: number;
  /**
   * Bytes of the shared ring (rounded up to a power of two, at least 4096; default 262144). A value
   * larger than half of it streams through in pieces.
   */
  readonly capacity?: number;
  /** How values become bytes (default: structured clone through `v8.serialize`). */
  readonly codec?: Codec;
}

/** Options of a `get`/`put` that may wait. */
export interface QueueWaitOptions extends WaitOptions {
  /** Do not wait: `put` fails with `FULL`, `get` with `EMPTY` (Python's `block=False`). */
  readonly nowait?: boolean;
}

const DEFAULT_CAPACITY = 262144;
/** What a put that completed at once returns (a settled promise: awaiting it costs one turn). */
const DONE: Promise<void> = Promise.resolve();
type QueueKind = 'queue' | 'joinable-queue' | 'simple-queue';

interface QueueRecord {
  readonly kind: QueueKind;
  readonly codec: string;
  /** The ring's objects (shared memory)... */
  readonly segment?: number;
  readonly locks?: number;
  /** ...or the fallback's (message queue and semaphores). */
  readonly fallback?: FallbackRecord;
}

/**
 * A multi-producer, multi-consumer FIFO of values between processes: Python's
 * `multiprocessing.Queue`.
 *
 * **Order**: values of one producer come out in the order it put them; producers interleave.
 *
 * **Blocking**: `put` waits (without blocking the event loop) while the queue holds `maxsize`
 * values or its ring lacks space; `get` waits for a value. Both take `timeout` (then
 * `ETIMEDOUT`), `signal` (`AbortError`) and `nowait` (`FULL` / `EMPTY` at once). A wait that gives
 * up has changed nothing.
 *
 * **Atomicity**: a value is serialized before anything is written (a value that cannot be is a
 * {@link DataCloneError} and nothing is put), and becomes visible to consumers whole.
 *
 * **Crashes**: a producer killed mid-`put` leaves no torn value visible; a consumer killed
 * mid-`get` loses at most the value it was taking (usually none: the next consumer reads it);
 * a dead process's lock is given back by the kernel (`SEM_UNDO`) or the emulation.
 *
 * **Lifetime**: the process that created the queue owns its kernel objects: its `close()` removes
 * them, so close it last, after the children using it have ended. Copies in other processes
 * (received in `spawn` args or inside a value) only detach on `close()`.
 */
export class Queue<T = unknown> implements Shareable, AsyncDisposable, AsyncIterable<T> {
  /** @internal The shared ring, or the fallback's message queue channel. */
  protected readonly ring: QueueChannel;
  private isClosed = false;

  /** @internal Use {@link Queue.create}. */
  constructor(
    protected readonly backend: IpcBackend,
    ring: QueueChannel,
    private readonly codec: Codec,
    private readonly owner: boolean,
  ) {
    this.ring = ring;
  }

  /**
   * Makes a queue owned by this process: a new private System V segment and semaphore set, or,
   * where the backend has no shared memory, a private message queue and semaphore set.
   */
  static async create<T = unknown>(backend: IpcBackend, options: QueueOptions = {}): Promise<Queue<T>> {
    const parts = await createParts(backend, options);
    return new Queue<T>(backend, parts.ring, parts.codec, true);
  }

  /** The `maxsize` it was made with (0: unbounded). */
  get maxsize(): number {
    return this.ring.maxsize;
  }

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Puts `value` at the end. See the class comment for what waits and what is atomic. Rejects
   * with `FULL` (nowait), `ETIMEDOUT`, `AbortError`, `SHUT_DOWN` after {@link Queue.shutdown},
   * `CLOSED` after close (also a put still waiting when this handle is closed: its value is not
   * put); throws {@link DataCloneError} for a value the codec cannot encode.
   */
  put(value: T, options?: QueueWaitOptions): Promise<void> {
    if (this.isClosed) return Promise.reject(closedObject('queue', 'put'));
    const deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
    // An already aborted call does nothing (as a DOM API given an aborted signal).
    if (deadline.signal?.aborted) return Promise.reject(abortErrorFor(deadline.signal));
    let encoded: EncodedValue | undefined;
    let plain = this.codec === v8Codec;
    if (plain && this.queuedPuts === 0) {
      // A plain value (the common case): from the codec's scratch straight into the ring, with no
      // object or view per value; anything else, or a put that must wait, takes the path below
      // (encoded once: a getter of the value runs once per put).
      const size = encodePlainInScratch(value);
      if (size >= 0) {
        let now: RingOutcomeName | undefined | typeof BLOCKED;
        try {
          now = this.ring.trySend(plainScratch(), 0, this.countsTasks(), size);
          if (now === BLOCKED) encoded = { bytes: plainScratch().slice(0, size), objects: false, transient: false };
        } finally {
          releaseLargeScratch();
        }
        if (now === undefined) return DONE;
        if (now !== BLOCKED) return Promise.reject(outcomeError(now, 'put'));
      } else plain = false;
    }
    const tried = encoded !== undefined;
    encoded ??= encodeValue(this.codec, value, plain);
    const flags = encoded.objects ? FrameFlag.OBJECTS : 0;
    // The common case completes here, with no wait and no copy of the encoded bytes; but never
    // ahead of a put of this handle still waiting (its values keep their order).
    if (this.queuedPuts === 0 && !tried) {
      const now = this.ring.trySend(encoded.bytes, flags, this.countsTasks());
      if (now === undefined) return DONE;
      if (now !== BLOCKED) return Promise.reject(outcomeError(now, 'put'));
    }
    const bytes = stableBytes(encoded);
    const nowait = options?.nowait === true;
    this.queuedPuts++;
    // In turn behind this handle's waiting puts; one that times out or is aborted while it waits
    // for its turn rejects then, and its value is never sent.
    const { result, turnDone } = inTurn(this.putting, deadline, () => timedOut('put'), async () => {
      // A turn that comes after close sends nothing (the ring's memory is given up).
      this.checkOpen('put');
      try {
        const outcome = await this.ring.send(bytes, flags, deadline, nowait, this.countsTasks());
        if (outcome !== undefined) throw outcomeError(outcome, 'put');
      } catch (error) {
        throw closedDuring(error, this.isClosed, 'queue', 'put');
      }
    });
    result.then(this.putDone, this.putDone);
    this.putting = turnDone;
    return result;
  }

  /** Puts of this handle waiting, in call order, on {@link Queue.putting}. */
  private queuedPuts = 0;
  private putting: Promise<unknown> = DONE;
  private readonly putDone = (): void => {
    this.queuedPuts--;
  };

  /** `put(value, { nowait: true })`: Python's `put_nowait`. */
  putNowait(value: T): Promise<void> {
    return this.put(value, { nowait: true });
  }

  /**
   * Takes the value at the front, waiting for one. Rejects with `EMPTY` (nowait), `ETIMEDOUT`,
   * `AbortError`, `SHUT_DOWN` once the queue is shut down and empty, `CLOSED` after close (also a
   * get still waiting when this handle is closed: it takes nothing).
   */
  get(options?: QueueWaitOptions): Promise<T> {
    let deadline: Deadline;
    let now: unknown;
    const nowait = options?.nowait === true;
    let spun = false;
    try {
      this.checkOpen('get');
      deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
      if (deadline.signal?.aborted) throw abortErrorFor(deadline.signal);
      // The common case completes here: the value decoded straight from the ring, now or after
      // the wait policy's spin (a peer in a tight exchange answers within µs).
      now = this.ring.tryReceive(this.takeValue, this.takeValueAt);
      if (now === BLOCKED && !nowait) {
        spun = true;
        if (this.ring.spinNonEmpty(deadline)) {
          spun = false;
          now = this.ring.tryReceive(this.takeValue, this.takeValueAt);
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (now === BLOCKED) return this.getWaiting(deadline, nowait, spun);
    if (this.ring.lastFlags & FrameFlag.OBJECTS) return reviveValue(now, this.backend) as Promise<T>;
    return Promise.resolve(now as T);
  }

  private readonly takeValue = (bytes: Uint8Array): unknown => decodeInPlace(this.codec, bytes);
  private readonly takeValueAt = (data: Uint8Array, start: number, size: number): unknown => decodeInPlaceAt(this.codec, data, start, size);

  private async getWaiting(deadline: Deadline, nowait: boolean, spun: boolean): Promise<T> {
    // Wait for a value, then take it as the synchronous path does (decoded in place); the full
    // path below covers the rest: a value in pieces, a contended or orphaned read lock, shutdown,
    // the deadline (it then gives the outcome at once). `spun`: get's spin already missed.
    let message: Awaited<ReturnType<QueueChannel['receive']>>;
    try {
      if (!nowait && (await this.ring.waitNonEmpty(deadline, spun))) {
        // Closed while it waited: the ring's memory is given up, take nothing from it.
        this.checkOpen('get');
        const now = this.ring.tryReceive(this.takeValue, this.takeValueAt);
        if (now !== BLOCKED) return (this.ring.lastFlags & FrameFlag.OBJECTS ? await reviveValue(now, this.backend) : now) as T;
      }
      message = await this.ring.receive(deadline, nowait);
    } catch (error) {
      throw closedDuring(error, this.isClosed, 'queue', 'get');
    }
    if (typeof message === 'string') throw outcomeError(message, 'get');
    return (await decodeValue(this.codec, message.bytes, message.objects, this.backend)) as T;
  }

  /** `get({ nowait: true })`: Python's `get_nowait`. */
  getNowait(): Promise<T> {
    return this.get({ nowait: true });
  }

  /**
   * Values in the queue now. Approximate, as in Python, while other processes put and get.
   * Throws `CLOSED` after close.
   */
  qsize(): number {
    this.checkOpen('qsize');
    return this.ring.count();
  }

  /** `qsize() === 0` (approximate). Throws `CLOSED` after close. */
  empty(): boolean {
    this.checkOpen('empty');
    return this.ring.count() === 0;
  }

  /** True when `maxsize` values are in (approximate). Throws `CLOSED` after close. */
  full(): boolean {
    this.checkOpen('full');
    return this.ring.maxsize > 0 && this.ring.count() >= this.ring.maxsize;
  }

  /**
   * Shuts the queue down for every process (Python 3.13's `shutdown`): later puts reject with
   * `SHUT_DOWN`; gets take what is left, then reject with `SHUT_DOWN`; async iteration ends.
   * Wakes every waiter. Never blocks. Throws `CLOSED` after close (synchronously, as it returns
   * nothing to reject).
   */
  shutdown(): void {
    this.checkOpen('shutdown');
    this.ring.shutdown();
  }

  /** Values until the queue is shut down and empty (each `get()`; a value is taken by one iterator only). */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.get();
      } catch (error) {
        if ((error as { code?: string }).code === ErrorCode.shutDown) return;
        throw error;
      }
    }
  }

  /**
   * Gives up this handle (detaches the segment, closes the semaphore set); the creator's close
   * also removes them from the kernel. Python's `close()` + `join_thread()`: a put has completed
   * when its promise resolved, so there is no feeder thread to wait for. Calls of this handle
   * still waiting (`put`, `get`, `join`) reject with `CLOSED`; later ones too.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.ring instanceof MessageQueueChannel) {
      await this.ring.close(this.owner);
      return;
    }
    const { segment, locks } = this.ring as Ring;
    if (this.owner) {
      await (segment as SysvSegment).remove().catch(() => {});
      await locks.remove().catch(() => {});
    }
    await segment.close();
    await locks.close();
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Lets core's `processes.spawn` carry it in `args`, for any child (see share.ts). @internal */
  [moduleTransferSymbol](): ModuleTransfer {
    return transferByModule(this);
  }

  /** @internal */
  [shareSymbol](): ShareRecord {
    this.checkOpen('share');
    const ring = this.ring;
    const data: QueueRecord =
      ring instanceof MessageQueueChannel
        ? { kind: this.kind(), fallback: ring.record(), codec: this.codec.name }
        : { kind: this.kind(), segment: ((ring as Ring).segment as SysvSegment).id, locks: (ring as Ring).locks.id, codec: this.codec.name };
    return { kind: 'queue', data };
  }

  /** @internal */
  protected kind(): QueueKind {
    return 'queue';
  }

  /** @internal */
  protected countsTasks(): boolean {
    return false;
  }

  /** @internal */
  protected checkOpen(operation: string): void {
    if (this.isClosed) throw closedObject('queue', operation);
  }
}

/**
 * A {@link Queue} that counts unfinished tasks: Python's `JoinableQueue`. Every `put` adds one;
 * {@link JoinableQueue.taskDone} removes one; {@link JoinableQueue.join} waits for none.
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /** Makes a joinable queue owned by this process. */
  static override async create<T = unknown>(backend: IpcBackend, options: QueueOptions = {}): Promise<JoinableQueue<T>> {
    const parts = await createParts(backend, options);
    return new JoinableQueue<T>(backend, parts.ring, parts.codec, true);
  }

  /**
   * Marks one task taken with `get` as done (atomic across processes; never blocks). Throws
   * `OVER_RELEASE` if called more often than values were put (Python's `ValueError`), `CLOSED`
   * after close. A consumer that dies without calling it leaves its task unfinished, as in Python.
   */
  taskDone(): void {
    this.checkOpen('taskDone');
    if (!this.ring.taskDone()) throw new MultiprocessingError(ErrorCode.overRelease, 'taskDone() called more times than there were items');
  }

  /**
   * Waits until every value put has been marked done (`timeout`: `ETIMEDOUT`; `signal`:
   * `AbortError`; `CLOSED` after close, also when this handle is closed while it waits).
   */
  async join(options?: WaitOptions): Promise<void> {
    this.checkOpen('join');
    let joined: boolean;
    try {
      joined = await this.ring.join(deadlineOf(options));
    } catch (error) {
      throw closedDuring(error, this.closed, 'queue', 'join');
    }
    if (!joined) throw outcomeError(RingOutcome.timedOut, 'join');
  }

  /** @internal */
  protected override kind(): QueueKind {
    return 'joinable-queue';
  }

  /** @internal */
  protected override countsTasks(): boolean {
    return true;
  }
}

/**
 * Python's `SimpleQueue`: an unbounded {@link Queue} with only `put`, `get`, `empty` and `close`.
 * Over the same ring (whose puts already complete synchronously with respect to other processes).
 */
export class SimpleQueue<T = unknown> extends Queue<T> {
  /** Makes a simple queue owned by this process (`maxsize` is ignored: unbounded). */
  static override async create<T = unknown>(backend: IpcBackend, options: Omit<QueueOptions, 'maxsize'> = {}): Promise<SimpleQueue<T>> {
    const parts = await createParts(backend, { ...options, maxsize: 0 });
    return new SimpleQueue<T>(backend, parts.ring, parts.codec, true);
  }

  /** @internal */
  protected override kind(): QueueKind {
    return 'simple-queue';
  }
}

async function createParts(backend: IpcBackend, options: QueueOptions): Promise<{ codec: Codec; ring: QueueChannel }> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const maxsize = options.maxsize ?? 0;
  if (!Number.isInteger(maxsize) || maxsize < 0 || maxsize > 0x7fffffff) throw new RangeError('maxsize must be an integer >= 0');
  const capacity = ringCapacity(options.capacity ?? DEFAULT_CAPACITY);
  const codec = checkCodec(options.codec);
  if (!hasSharedMemory(backend)) {
    requirePrimitives(backend, 'Queue', FALLBACK_PRIMITIVES);
    return { codec, ring: await MessageQueueChannel.create(backend, maxsize) };
  }
  const segment = await backend.sharedMemory.openSysv('private', { size: ringBytes(capacity) });
  try {
    const locks = await backend.semaphores.open('private', { size: RING_SLOTS });
    try {
      return { codec, ring: Ring.initialize(segment, locks, capacity, maxsize) };
    } catch (error) {
      await locks.remove().catch(() => {});
      throw error;
    }
  } catch (error) {
    await segment.remove().catch(() => {});
    await segment.close();
    throw error;
  }
}

function outcomeError(outcome: RingOutcomeName, operation: string): MultiprocessingError {
  switch (outcome) {
    case RingOutcome.full:
      return new MultiprocessingError(ErrorCode.full, `queue is full (${operation})`);
    case RingOutcome.wouldBlock:
      return new MultiprocessingError(ErrorCode.empty, `queue is empty (${operation})`);
    case RingOutcome.shutDown:
      return new MultiprocessingError(ErrorCode.shutDown, `queue is shut down (${operation})`);
    default:
      return timedOut(operation);
  }
}

registerReviver('queue', async (data, backend) => {
  const record = data as QueueRecord;
  const codec = codecNamed(record.codec);
  const Kind = record.kind === 'joinable-queue' ? JoinableQueue : record.kind === 'simple-queue' ? SimpleQueue : Queue;
  if (record.fallback !== undefined) return new Kind(backend, await MessageQueueChannel.revive(backend, record.fallback), codec, false);
  const segment = await backend.sharedMemory.attachSysv(record.segment!);
  const locks = await backend.semaphores.openById(record.locks!).catch(async (error: unknown) => {
    await segment.close();
    throw error;
  });
  return new Kind(backend, new Ring(segment, locks), codec, false);
});
