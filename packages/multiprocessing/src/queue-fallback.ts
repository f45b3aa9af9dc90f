/**
 * The queue transport for backends without shared memory (the Redis backend; native or worker
 * where shared memory is unavailable): values travel as System V messages, their counts and
 * locks live in one System V semaphore set. Chosen by {@link queueTransport} (transport-select.ts).
 *
 * ```
 *  message types                         semaphores (one set)
 *  1      VALUE  a value's head          0 SLOTS      free places (maxsize > 0), taken by put, given back by get
 *  2      END    the shutdown marker     1 COUNT      values in the queue (for qsize; approximate)
 *  3 + s  PIECE  the rest of stream s    2 UNFINISHED tasks put and not yet done (JoinableQueue)
 *                                        3 SHUTDOWN   1 once shut down
 *  head: byte 0 flags (FrameFlag),       4 WRITER     1 free; a big value's producer holds it (SEM_UNDO)
 *        big values also u32 stream s    5 STREAM     1 + tag(s) of the stream being written, 0 none
 *        and u32 total length            6 READER     1 free; the consumer taking a big value holds it (SEM_UNDO)
 *                                        7 READING    1 + tag(s) of the stream that consumer takes
 * ```
 * A value that fits one message (the message limit less the 1-byte head) is one `msgsnd`: it
 * appears whole or not at all. A bigger one is a stream: its producer takes WRITER (one stream at
 * a time), draws a random 30-bit stream number s, sends the head (type VALUE), then the rest as
 * pieces of type `3 + s` (typed receive keeps them in order and apart from heads; the random
 * number keeps two streams apart even if a lease expiry ever let two producers hold WRITER).
 * `tag(s) = s mod 16000` fits a semaphore; the liveness checks below use it. Consumers receive with type
 * `-2` (the lowest type up to END): every value left is taken before the END marker, which each
 * consumer that meets it sends on for the next.
 *
 * **Crashes**: a producer that dies mid-stream gives WRITER back (`SEM_UNDO`); the consumer
 * waiting for its pieces sees WRITER free or STREAM moved on, takes what came and drops the torn
 * value unseen. A consumer that dies mid-stream gives READER back; the producer, finding READER
 * free while READING still names its stream, takes its own remaining pieces back and ends the
 * put: that value is lost with its consumer (at most the value it was receiving). (A consumer
 * that dies between taking a head and taking READER, while another consumer holds READER, leaves
 * that value's producer waiting: the one window this scheme does not cover.)
 */
import { IPC_PRIVATE, isIpcError, MSGMAX_DEFAULT, SEMVMX, type IpcBackend, type MessageQueue, type SemaphoreSet } from '@ipcx/core';
import { BLOCKED, FrameFlag, RingOutcome, type RingMessage, type RingOutcomeName, type TakeAt } from './ring.js';
import { NO_DEADLINE, type Deadline } from './wait.js';

const VALUE = 1;
const END = 2;
const PIECE_BASE = 3;
/** Stream tags (what of a stream number a semaphore holds) stay below SEMVMX. */
const STREAMS = 16000;
const tagOf = (stream: number): number => stream % STREAMS;
/** A fresh random stream number (30 bits: piece types stay positive 32-bit numbers). */
const newStream = (): number => crypto.getRandomValues(new Uint32Array(1))[0]! & 0x3fffffff;

/** Semaphore indexes of the set (see the file comment). */
export const FallbackSemaphore = { SLOTS: 0, COUNT: 1, UNFINISHED: 2, SHUTDOWN: 3, WRITER: 4, STREAM: 5, READER: 6, READING: 7 } as const;
const S = FallbackSemaphore;
const SEMAPHORES = 8;

/** Bytes of a big value's head before its data: flags, stream, total length. */
const STREAM_HEAD_BYTES = 9;
/** How long a stream's side waits for the other before it checks that the other is alive (ms). */
const LIVENESS_CHECK_MS = 100;
/** Bytes the queue is asked to hold (best effort: a backend may refuse to raise its limit). */
const QUEUE_BYTES = 1 << 20;

/** What the fallback's kernel objects travel as. */
export interface FallbackRecord {
  readonly queue: number;
  readonly semaphores: number;
  readonly maxsize: number;
}

/** What Queue needs of its transport (the shared ring has the same members). */
export interface QueueChannel {
  /** The maxsize it was made with (0: unbounded). */
  readonly maxsize: number;
  send(bytes: Uint8Array, flags: number, deadline: Deadline, nowait: boolean, countTask: boolean): Promise<RingOutcomeName | undefined>;
  receive(deadline: Deadline, nowait: boolean): Promise<RingMessage | RingOutcomeName>;
  count(): number;
  shutdown(): void;
  taskDone(): boolean;
  join(deadline: Deadline): Promise<boolean>;
  /**
   * The synchronous fast path (the ring's): puts the value now, or answers {@link BLOCKED} when
   * only the waiting {@link QueueChannel.send} can.
   */
  trySend(bytes: Uint8Array, flags: number, countTask: boolean, size?: number): RingOutcomeName | undefined | typeof BLOCKED;
  /** The synchronous fast path of a get: `take` of the next value now, or {@link BLOCKED}. */
  tryReceive<T>(take: (bytes: Uint8Array, flags: number) => T, takeAt?: TakeAt<T>): T | typeof BLOCKED;
  /**
   * Waits until a value may be there for {@link QueueChannel.tryReceive}; false when it cannot
   * tell. `spun`: the caller's {@link QueueChannel.spinNonEmpty} already missed (park at once).
   */
  waitNonEmpty(deadline: Deadline, spun?: boolean): Promise<boolean>;
  /** Spins (synchronously, within the wait policy's window) until a value may be there; false when none came or it cannot tell. */
  spinNonEmpty(deadline: Deadline): boolean;
  /** The frame flags of the value the last successful tryReceive took. */
  readonly lastFlags: number;
}

/** Options of a kernel wait until `deadline`, or `undefined` when it has passed. */
function waitOptions(deadline: Deadline, sliceMs = Infinity): { timeout?: number; signal?: AbortSignal } | undefined {
  const remaining = Math.min(deadline.until - performance.now(), sliceMs);
  if (remaining <= 0) return undefined;
  return { ...(remaining === Infinity ? {} : { timeout: remaining }), ...(deadline.signal ? { signal: deadline.signal } : {}) };
}

/**
 * Runs an idempotent synchronous call (a read, a SETVAL) again when it timed out: a backend whose
 * synchronous calls travel over the network (Redis) answers ETIMEDOUT on a very busy machine.
 */
function again<T>(call: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return call();
    } catch (error) {
      if (!isIpcError(error, 'ETIMEDOUT') || attempt >= 5) throw error;
    }
  }
}

/** What sendStream answers when the consumer of its value died mid-way. */
const ABANDONED = 'abandoned';

const timedOut = (error: unknown): boolean => isIpcError(error, 'ETIMEDOUT') || isIpcError(error, 'EAGAIN');

/** A queue's transport over a System V message queue and a semaphore set. */
export class MessageQueueChannel implements QueueChannel {
  /** No synchronous path: every value goes through a kernel (or server) call that may wait. */
  readonly lastFlags = 0;

  /** Always {@link BLOCKED}: puts go through {@link MessageQueueChannel.send}. */
  trySend(): typeof BLOCKED {
    return BLOCKED;
  }

  /** Always {@link BLOCKED}: gets go through {@link MessageQueueChannel.receive}. */
  tryReceive(): typeof BLOCKED {
    return BLOCKED;
  }

  /** False: the caller goes straight to {@link MessageQueueChannel.receive}, which waits itself. */
  async waitNonEmpty(): Promise<boolean> {
    return false;
  }

  /** False: nothing to spin on (see {@link MessageQueueChannel.waitNonEmpty}). */
  spinNonEmpty(): boolean {
    return false;
  }

  /** Data bytes of one message (the backend's message limit). */
  private readonly messageBytes = MSGMAX_DEFAULT;
  /** The END marker's send, started by shutdown() (which cannot wait for it). */
  private ending: Promise<void> | undefined;

  constructor(
    /** @internal */ readonly queue: MessageQueue,
    /** @internal */ readonly semaphores: SemaphoreSet,
    readonly maxsize: number,
  ) {}

  /** Makes the queue and the semaphore set (private; the caller owns them). */
  static async create(backend: IpcBackend, maxsize: number): Promise<MessageQueueChannel> {
    if (maxsize > SEMVMX) throw new RangeError(`maxsize must be at most ${SEMVMX} on a backend without shared memory (a semaphore counts the places)`);
    const queue = await backend.messageQueues.open(IPC_PRIVATE);
    try {
      // A larger buffer lets bigger values flow without waiting for a consumer; a backend may refuse.
      await queue.set({ maxBytes: QUEUE_BYTES }).catch(() => undefined);
      const semaphores = await backend.semaphores.open('private', { size: SEMAPHORES });
      try {
        semaphores.setValues([maxsize, 0, 0, 0, 1, 0, 1, 0]);
        return new MessageQueueChannel(queue, semaphores, maxsize);
      } catch (error) {
        await semaphores.remove().catch(() => undefined);
        await semaphores.close();
        throw error;
      }
    } catch (error) {
      await queue.remove().catch(() => undefined);
      await queue.close();
      throw error;
    }
  }

  /** Reopens the objects of `record` (in another process). */
  static async revive(backend: IpcBackend, record: FallbackRecord): Promise<MessageQueueChannel> {
    const queue = await backend.messageQueues.openById(record.queue);
    const semaphores = await backend.semaphores.openById(record.semaphores).catch(async (error: unknown) => {
      await queue.close();
      throw error;
    });
    return new MessageQueueChannel(queue, semaphores, record.maxsize);
  }

  /** What this channel travels as. */
  record(): FallbackRecord {
    return { queue: this.queue.id, semaphores: this.semaphores.id, maxsize: this.maxsize };
  }

  /** Gives the objects up; `owner` removes them first. */
  async close(owner: boolean): Promise<void> {
    await this.ending?.catch(() => undefined);
    if (owner) {
      await this.queue.remove().catch(() => undefined);
      await this.semaphores.remove().catch(() => undefined);
    }
    await this.queue.close();
    await this.semaphores.close();
  }

  private isShutDown(): boolean {
    return again(() => this.semaphores.value(S.SHUTDOWN)) !== 0;
  }

  /** The last put of this handle: puts of one handle go one after another, so they stay in call order. */
  private lastSend: Promise<unknown> = Promise.resolve();

  send(bytes: Uint8Array, flags: number, deadline: Deadline, nowait: boolean, countTask: boolean): Promise<RingOutcomeName | undefined> {
    const sending = this.lastSend.then(() => this.sendNow(bytes, flags, deadline, nowait, countTask));
    this.lastSend = sending.catch(() => undefined);
    return sending;
  }

  private async sendNow(bytes: Uint8Array, flags: number, deadline: Deadline, nowait: boolean, countTask: boolean): Promise<RingOutcomeName | undefined> {
    const sems = this.semaphores;
    const gaveUp = nowait ? RingOutcome.full : RingOutcome.timedOut;
    // One semop, no wait: not shut down (SHUTDOWN zero), a place taken, the value and its task
    // counted before the value is visible (so a consumer never takes COUNT below zero).
    const counts = [{ index: S.COUNT, delta: 1 }, ...(countTask ? [{ index: S.UNFINISHED, delta: 1 }] : [])];
    const place = this.maxsize > 0 ? [{ index: S.SLOTS, delta: -1 }] : [];
    try {
      await sems.operate([{ index: S.SHUTDOWN, delta: 0 }, ...place, ...counts], { nowait: true });
    } catch (error) {
      if (!isIpcError(error, 'EAGAIN')) throw error;
      // Shut down, or no place (maxsize): wait for a place, then count (the slow path).
      if (this.isShutDown()) return RingOutcome.shutDown;
      if (nowait) return gaveUp;
      const options = waitOptions(deadline);
      if (options === undefined) return gaveUp;
      try {
        await sems.operate(place, options);
      } catch (waited) {
        if (timedOut(waited)) return gaveUp;
        throw waited;
      }
      try {
        await sems.operate([{ index: S.SHUTDOWN, delta: 0 }, ...counts], { nowait: true });
      } catch (shut) {
        sems.post(S.SLOTS);
        if (isIpcError(shut, 'EAGAIN')) return RingOutcome.shutDown;
        throw shut;
      }
    }
    const undo = (): void => {
      void sems.operate([...(this.maxsize > 0 ? [{ index: S.SLOTS, delta: 1 }] : []), ...counts.map((op) => ({ index: op.index, delta: -1 }))], { nowait: true }).catch(() => undefined);
    };
    try {
      if (bytes.length + 1 <= this.messageBytes) {
        const message = new Uint8Array(bytes.length + 1);
        message[0] = flags & (FrameFlag.OBJECTS | FrameFlag.BYTES);
        message.set(bytes, 1);
        const outcome = await this.sendMessage(VALUE, message, deadline, nowait);
        if (outcome !== undefined) undo();
        return outcome;
      }
      const outcome = await this.sendStream(bytes, flags, deadline, nowait);
      if (outcome === ABANDONED) {
        // Its consumer died after taking the head: the value is gone with it, as is its place.
        void sems.operate([...(this.maxsize > 0 ? [{ index: S.SLOTS, delta: 1 }] : []), { index: S.COUNT, delta: -1 }], { nowait: true }).catch(() => undefined);
        return undefined;
      }
      if (outcome !== undefined) undo();
      return outcome;
    } catch (error) {
      undo();
      throw error;
    }
  }

  /** One msgsnd until `deadline`; an outcome name when it gave up (nothing sent). */
  private async sendMessage(type: number, message: Uint8Array, deadline: Deadline, nowait: boolean): Promise<RingOutcomeName | undefined> {
    const options = nowait ? { nowait: true } : waitOptions(deadline);
    if (options === undefined) return nowait ? RingOutcome.full : RingOutcome.timedOut;
    try {
      await this.queue.send(type, message, options);
      return undefined;
    } catch (error) {
      if (timedOut(error)) return nowait ? RingOutcome.full : RingOutcome.timedOut;
      throw error;
    }
  }

  /** A value bigger than one message: head, then pieces, holding WRITER (see the file comment). */
  private async sendStream(bytes: Uint8Array, flags: number, deadline: Deadline, nowait: boolean): Promise<RingOutcomeName | typeof ABANDONED | undefined> {
    const sems = this.semaphores;
    const options = nowait ? { nowait: true } : waitOptions(deadline);
    const gaveUp = nowait ? RingOutcome.full : RingOutcome.timedOut;
    if (options === undefined) return gaveUp;
    try {
      await sems.operate([{ index: S.WRITER, delta: -1, undo: true }], options);
    } catch (error) {
      if (timedOut(error)) return gaveUp;
      throw error;
    }
    try {
      const stream = newStream();
      // Named while WRITER is held, so that its consumer can tell when it is no longer written.
      again(() => sems.setValue(S.STREAM, tagOf(stream) + 1));
      const headData = this.messageBytes - STREAM_HEAD_BYTES;
      const head = new Uint8Array(this.messageBytes);
      const view = new DataView(head.buffer);
      head[0] = (flags & (FrameFlag.OBJECTS | FrameFlag.BYTES)) | FrameFlag.FIRST;
      view.setUint32(1, stream);
      view.setUint32(5, bytes.length);
      head.set(bytes.subarray(0, headData), STREAM_HEAD_BYTES);
      const outcome = await this.sendMessage(VALUE, head, deadline, nowait);
      if (outcome !== undefined) return outcome;
      // The value is begun: the rest follows whatever the deadline (as the ring finishes a value).
      for (let offset = headData; offset < bytes.length; ) {
        const piece = bytes.subarray(offset, offset + this.messageBytes);
        try {
          await this.queue.send(PIECE_BASE + stream, piece, { timeout: LIVENESS_CHECK_MS });
          offset += piece.length;
        } catch (error) {
          if (!timedOut(error)) throw error;
          if (this.consumerDied(stream)) {
            // Its consumer died holding READER: take our pieces back; the value went with it.
            await this.drain(stream);
            return ABANDONED;
          }
        }
      }
      return undefined;
    } finally {
      again(() => sems.setValue(S.STREAM, 0));
      await sems.operate([{ index: S.WRITER, delta: 1, undo: true }], { nowait: true });
    }
  }

  /** True if the consumer of `stream` died: READER is free while READING still names it. */
  private consumerDied(stream: number): boolean {
    const sems = this.semaphores;
    return again(() => sems.value(S.READING)) === tagOf(stream) + 1 && again(() => sems.value(S.READER)) === 1;
  }

  /** Takes every piece of `stream` still queued (of a torn or abandoned value). */
  private async drain(stream: number): Promise<void> {
    for (;;) {
      try {
        await this.queue.receive({ type: PIECE_BASE + stream, nowait: true });
      } catch (error) {
        if (isIpcError(error, 'ENOMSG')) return;
        throw error;
      }
    }
  }

  async receive(deadline: Deadline, nowait: boolean): Promise<RingMessage | RingOutcomeName> {
    for (;;) {
      const options = nowait ? { nowait: true } : waitOptions(deadline);
      if (options === undefined) return RingOutcome.timedOut;
      let message;
      try {
        message = await this.queue.receive({ type: -END, ...options });
      } catch (error) {
        if (isIpcError(error, 'ENOMSG')) return RingOutcome.wouldBlock;
        if (timedOut(error)) return RingOutcome.timedOut;
        throw error;
      }
      if (message.type === END) {
        // Shut down and empty: hand the marker on to the next consumer.
        await this.queue.send(END, new Uint8Array(0)).catch(() => undefined);
        return RingOutcome.shutDown;
      }
      const data = message.data;
      const flags = data[0]!;
      let bytes: Uint8Array | undefined;
      if ((flags & FrameFlag.FIRST) === 0) bytes = data.slice(1);
      else bytes = await this.receiveStream(data);
      // A value was taken (whole, or torn and dropped): its place and count go back, in one semop.
      await this.semaphores.operate([...(this.maxsize > 0 ? [{ index: S.SLOTS, delta: 1 }] : []), { index: S.COUNT, delta: -1 }], { nowait: true }).catch(async () => {
        // COUNT was already zero (its producer died between counting and sending): the place alone.
        if (this.maxsize > 0) await this.semaphores.operate([{ index: S.SLOTS, delta: 1 }], { nowait: true }).catch(() => undefined);
      });
      if (bytes !== undefined) return { bytes, objects: (flags & FrameFlag.OBJECTS) !== 0, flags: flags & ~FrameFlag.FIRST };
      // A torn value: never delivered. Its task (JoinableQueue) is done with it.
      await this.semaphores.operate([{ index: S.UNFINISHED, delta: -1 }], { nowait: true }).catch(() => undefined);
    }
  }

  /** The rest of a big value whose head is `head`; `undefined` if its producer died mid-way. */
  private async receiveStream(head: Uint8Array): Promise<Uint8Array | undefined> {
    const sems = this.semaphores;
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const stream = view.getUint32(1);
    const total = view.getUint32(5);
    const bytes = new Uint8Array(total);
    bytes.set(head.subarray(STREAM_HEAD_BYTES, STREAM_HEAD_BYTES + total));
    let offset = Math.min(total, head.length - STREAM_HEAD_BYTES);
    // One consumer takes a stream at a time; READER given back by SEM_UNDO if it dies.
    await sems.operate([{ index: S.READER, delta: -1, undo: true }], waitOptions(NO_DEADLINE));
    try {
      again(() => sems.setValue(S.READING, tagOf(stream) + 1));
      while (offset < total) {
        let piece;
        try {
          piece = await this.queue.receive({ type: PIECE_BASE + stream, timeout: LIVENESS_CHECK_MS });
        } catch (error) {
          if (!timedOut(error)) throw error;
          if (!this.producerGone(stream)) continue;
          // Its producer finished or died: what it sent is queued already; nothing more comes.
          try {
            piece = await this.queue.receive({ type: PIECE_BASE + stream, nowait: true });
          } catch (last) {
            if (!isIpcError(last, 'ENOMSG')) throw last;
            return undefined;
          }
        }
        bytes.set(piece.data.subarray(0, total - offset), offset);
        offset += piece.data.length;
      }
      return bytes;
    } finally {
      again(() => sems.setValue(S.READING, 0));
      await sems.operate([{ index: S.READER, delta: 1, undo: true }], { nowait: true });
    }
  }

  /** True if the producer of `stream` no longer writes it (WRITER free, or another stream is written). */
  private producerGone(stream: number): boolean {
    const sems = this.semaphores;
    return again(() => sems.value(S.WRITER)) === 1 || again(() => sems.value(S.STREAM)) !== tagOf(stream) + 1;
  }

  count(): number {
    return this.semaphores.value(S.COUNT);
  }

  shutdown(): void {
    this.semaphores.setValue(S.SHUTDOWN, 1);
    // Producers waiting for a place wake, see SHUTDOWN and give up.
    const room = SEMVMX - this.semaphores.value(S.SLOTS);
    if (this.maxsize > 0 && room > 0) this.semaphores.post(S.SLOTS, Math.min(room, STREAMS));
    this.ending = this.queue.send(END, new Uint8Array(0)).catch(() => undefined);
  }

  taskDone(): boolean {
    if (this.semaphores.value(S.UNFINISHED) <= 0) return false;
    // The check above is what callers see; the decrement cannot fail for a caller that pairs each
    // taskDone with a get (applied at once where the backend can, else next on its connection).
    void this.semaphores.operate([{ index: S.UNFINISHED, delta: -1 }], { nowait: true }).catch(() => undefined);
    return true;
  }

  async join(deadline: Deadline): Promise<boolean> {
    const options = waitOptions(deadline);
    if (options === undefined) return this.semaphores.value(S.UNFINISHED) === 0;
    try {
      await this.semaphores.waitForZero(S.UNFINISHED, options);
      return true;
    } catch (error) {
      if (timedOut(error)) return false;
      throw error;
    }
  }
}
