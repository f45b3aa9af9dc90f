/**
 * RingPipe: a {@link Connection} pair over two shared-memory rings (one per direction) instead of
 * a socketpair: the fast path for values between processes that share memory. Each direction has
 * one producer and one consumer, which keep the ring's write and read locks for good, so a send
 * or a receive makes no system call while the other side keeps up (one copy in, one copy out).
 *
 * End of stream: an end takes its rings' locks for good (its outgoing ring's write lock, its
 * incoming ring's read lock) when it is rebuilt in a process it was passed to (in `spawn` args or
 * inside a value), or on its first send or receive in the process that made it. The other side
 * then knows which process is on the far end: `close()` of an end holding them marks its outgoing
 * ring shut down, and the other side's `recv` rejects with `EOF` once the values before it are
 * taken; a far end whose process dies is seen within {@link HOLDER_CHECK_MS} (its liveness slot
 * went to 0) and is `EOF` too, also in the middle of a value, even if that child never sent.
 * Sending to a side that has closed rejects with `EPIPE`. The creator's copy of an end it passed
 * to a child and then closed unused holds no lock, so closing it ends nothing. The first end's
 * close removes both rings, so it ends both directions whatever it held: the other side reads
 * `EOF` once it has taken what it can and its sends reject with `EPIPE` (not the `EINVAL` of the
 * removed semaphore set its locks would need).
 */
import { IpcError, abortErrorFor, isIpcError, type IpcBackend, type SysvSegment, type WaitOptions } from '@ipcx/core';
import type { Codec } from './codec.js';
import { checkCodec, codecNamed } from './codec-registry.js';
import { Connection, checkInto, copyInto } from './connection.js';
import { ErrorCode, MultiprocessingError, timedOut } from './errors.js';
import { closedDuring, closedObject, createSegment, release } from './kernel-objects.js';
import { BLOCKED, FrameFlag, RING_SLOTS, Ring, RingOutcome, ringBytes, ringCapacity, type RingMessage, type RingOutcomeName } from './ring.js';
import { registerReviver, reviveValue, shareSymbol, type ShareRecord } from './share.js';
import { decodeInPlace, decodeValue, encodeValue, stableBytes } from './value-bytes.js';
import { NO_DEADLINE, deadlineOf, inTurn, type Deadline } from './wait.js';

/** What a send that completed at once returns. */
const DONE: Promise<void> = Promise.resolve();

/** Options of {@link RingPipe}. */
export interface RingPipeOptions {
  /** Bytes of each direction's ring (default 262144); larger values stream through in pieces. */
  readonly capacity?: number;
  /** How values become bytes (default: structured clone through `v8.serialize`). */
  readonly codec?: Codec;
}

interface RingRecord {
  readonly segment: number;
  readonly locks: number;
}

/** One end of a {@link RingPipe}: the same interface and guarantees as a {@link Connection}, see the file comment for EOF. */
export class RingConnection extends Connection {
  private ringClosed = false;
  // One send and one receive at a time per end: the end keeps its ring's lock for good, so calls
  // of this process are ordered here instead (in call order, as a Connection's are).
  private sending: Promise<unknown> = Promise.resolve();
  private receiving: Promise<unknown> = Promise.resolve();
  /** Sends / receives queued on the promise chains above: while any is, new ones queue too (call order). */
  private queuedSends = 0;
  private queuedReceives = 0;

  /** @internal Use {@link RingPipe}. */
  constructor(
    private readonly ringBackend: IpcBackend,
    private readonly ringCodec: Codec,
    private readonly inbound: Ring,
    private readonly outbound: Ring,
    private readonly owner: boolean,
  ) {
    super(undefined, undefined, ringBackend, ringCodec);
  }

  /**
   * @internal Takes this end's locks for good where they are free (never waits): its outgoing
   * ring's write lock and its incoming ring's read lock.
   */
  async claimEnds(): Promise<void> {
    await this.outbound.claimWriter();
    await this.inbound.claimReader();
  }

  override get readable(): boolean {
    return true;
  }

  override get writable(): boolean {
    return true;
  }

  override get closed(): boolean {
    return this.ringClosed;
  }

  override send(value: unknown, options?: WaitOptions): Promise<void> {
    if (this.ringClosed) return Promise.reject(closedObject('connection', 'send'));
    const deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
    if (deadline.signal?.aborted) return Promise.reject(abortErrorFor(deadline.signal));
    const encoded = encodeValue(this.ringCodec, value);
    const flags = encoded.objects ? FrameFlag.OBJECTS : 0;
    const now = this.trySendNow(encoded.bytes, flags);
    return now !== BLOCKED ? now : this.write(stableBytes(encoded), flags, deadline);
  }

  override sendBytes(bytes: Uint8Array, offset = 0, size = bytes.length - offset): Promise<void> {
    if (this.ringClosed) return Promise.reject(closedObject('connection', 'sendBytes'));
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) throw new RangeError('offset is outside bytes');
    if (!Number.isInteger(size) || size < 0 || offset + size > bytes.length) throw new RangeError('size goes past the end of bytes');
    const payload = bytes.subarray(offset, offset + size);
    // The caller's bytes go straight into the ring (one copy), at once when nothing waits, else
    // once there is room: like a stream's write, the bytes must not change until this settles.
    const now = this.trySendNow(payload, FrameFlag.BYTES);
    return now !== BLOCKED ? now : this.write(payload, FrameFlag.BYTES, NO_DEADLINE);
  }

  override recv<T = unknown>(options?: WaitOptions): Promise<T> {
    let deadline: Deadline;
    let now: unknown;
    try {
      this.checkOpen('recv');
      deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
      if (deadline.signal?.aborted) throw abortErrorFor(deadline.signal);
      now = this.tryReceiveNow(this.takeValue);
    } catch (error) {
      return Promise.reject(error);
    }
    if (now === BLOCKED) return this.recvWaiting<T>(deadline);
    if (this.inbound.lastFlags & FrameFlag.OBJECTS) return reviveValue(now, this.ringBackend) as Promise<T>;
    return Promise.resolve(now as T);
  }

  override async recvBytes(options?: WaitOptions): Promise<Uint8Array> {
    this.checkOpen('recv');
    const deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
    if (deadline.signal?.aborted) throw abortErrorFor(deadline.signal);
    const now = this.tryReceiveNow(takeCopy);
    if (now !== BLOCKED) return now;
    return this.receiveWaiting(deadline, takeCopy, (message) => message.bytes);
  }

  override async recvBytesInto(buffer: Uint8Array, offset = 0, options?: WaitOptions): Promise<number> {
    this.checkOpen('recv');
    checkInto(buffer, offset);
    const deadline = options === undefined ? NO_DEADLINE : deadlineOf(options);
    if (deadline.signal?.aborted) throw abortErrorFor(deadline.signal);
    // Straight from the ring into the caller's buffer: one copy out, no array per message.
    const take = (bytes: Uint8Array): number => copyInto(bytes, buffer, offset);
    const now = this.tryReceiveNow(take);
    if (now !== BLOCKED) return now;
    return this.receiveWaiting(deadline, take, (message) => take(message.bytes));
  }

  /** A value's bytes as {@link RingConnection.recv} gives them (raw bytes copied, values decoded). */
  private readonly takeValue = (bytes: Uint8Array, flags: number): unknown => ((flags & FrameFlag.BYTES) !== 0 ? bytes.slice() : decodeInPlace(this.ringCodec, bytes));

  /** Sends at once when this end already holds its ring's write lock, nothing is queued and there is room. */
  private trySendNow(bytes: Uint8Array, flags: number): Promise<void> | typeof BLOCKED {
    if (this.queuedSends !== 0 || !this.outbound.holdingWriter) return BLOCKED;
    const outcome = this.outbound.trySend(bytes, flags, false);
    if (outcome === BLOCKED) return BLOCKED;
    return outcome === undefined ? DONE : Promise.reject(outcomeError(outcome, 'send'));
  }

  /** Receives at once when this end already holds its ring's read lock, nothing is queued and a whole value is in. */
  private tryReceiveNow<T>(take: (bytes: Uint8Array, flags: number) => T): T | typeof BLOCKED {
    if (this.queuedReceives !== 0 || !this.inbound.holdingReader) return BLOCKED;
    return this.inbound.tryReceive(take);
  }

  private recvWaiting<T>(deadline: Deadline): Promise<T> {
    return this.receiveWaiting(deadline, this.takeValue, async ({ bytes, flags }) => {
      if (flags & FrameFlag.BYTES) return bytes;
      return decodeValue(this.ringCodec, bytes, (flags & FrameFlag.OBJECTS) !== 0, this.ringBackend);
    }, true) as Promise<T>;
  }

  /**
   * A receive that waits, in its turn: waits for a message, then takes it in place with `take` as
   * the synchronous path does (a value with objects is revived); the full path (`fromMessage` of
   * a copied message) covers the rest: a value in pieces, EOF, the deadline.
   */
  private receiveWaiting<R>(
    deadline: Deadline,
    take: (bytes: Uint8Array, flags: number) => R,
    fromMessage: (message: { bytes: Uint8Array; flags: number }) => R | Promise<R>,
    revive = false,
  ): Promise<R> {
    return this.serialReceive(deadline, async () => {
      let message: { bytes: Uint8Array; flags: number };
      try {
        // A turn that comes after close takes nothing (the ring's memory is given up).
        this.checkOpen('recv');
        if (this.inbound.holdingReader && (await this.inbound.waitReadable(deadline))) {
          this.checkOpen('recv');
          const now = this.inbound.tryReceive(take);
          if (now !== BLOCKED) return revive && this.inbound.lastFlags & FrameFlag.OBJECTS ? ((await reviveValue(now, this.ringBackend)) as R) : now;
        }
        message = await this.readNow(deadline);
      } catch (error) {
        // Closed while it waited (the ring detached or closed under it, or shut down by the close itself: EOF).
        throw closedDuring(error, this.ringClosed, 'connection', 'recv');
      }
      return fromMessage(message);
    });
  }

  /**
   * Runs a receive after those queued before it (at once when none is), counted in
   * `queuedReceives` while it runs, so that the synchronous paths wait their turn too. One that
   * times out or is aborted while it waits for its turn rejects then and takes nothing.
   */
  private serialReceive<T>(deadline: Deadline, task: () => Promise<T>): Promise<T> {
    const queued = this.queuedReceives++;
    if (queued === 0) {
      const next = task();
      this.receiving = next.then(this.receiveDone, this.receiveDone);
      return next;
    }
    const { result, turnDone } = inTurn(this.receiving, deadline, () => timedOut('recv'), task);
    result.then(this.receiveDone, this.receiveDone);
    this.receiving = turnDone;
    return result;
  }

  private readonly receiveDone = (): void => {
    this.queuedReceives--;
  };

  override async poll(timeout = 0): Promise<boolean> {
    this.checkOpen('poll');
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) throw new RangeError('timeout must be a number >= 0');
    if (this.inbound.readable()) return true;
    let ready: boolean;
    try {
      ready = timeout === 0 ? (await this.inbound.writerDied()) || this.inbound.readable() : await this.inbound.waitReadable(deadlineOf(timeout === Infinity ? {} : { timeout }));
    } catch (error) {
      throw closedDuring(error, this.ringClosed, 'connection', 'poll');
    }
    // Closed while it waited: its own close shut the ring down, which reads as readable.
    this.checkOpen('poll');
    return ready;
  }

  /**
   * Closes this end (see the file comment for what the other side sees). Calls of this end still
   * waiting (`send`, `recv`, `poll`, ...) reject with `CLOSED`; later ones too.
   */
  override async close(): Promise<void> {
    if (this.ringClosed) return;
    this.ringClosed = true;
    // Only a side that has sent ends the stream: the parent's unused copy of a child's end must
    // not. The owner removes the rings below, which ends both directions: said in them first.
    if (this.owner || this.outbound.holdingWriter) this.outbound.shutdown();
    // A receiver that leaves tells the sender (its sends fail with EPIPE from now on).
    if (this.owner || this.inbound.holdingReader) this.inbound.shutdown();
    for (const ring of [this.inbound, this.outbound]) await release(this.owner, [ring.segment as SysvSegment, ring.locks]);
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal */
  override [shareSymbol](): ShareRecord {
    this.checkOpen('share');
    const record = (ring: Ring): RingRecord => ({ segment: (ring.segment as SysvSegment).id, locks: ring.locks.id });
    return { kind: 'ring-connection', data: { codec: this.ringCodec.name, inbound: record(this.inbound), outbound: record(this.outbound) } };
  }

  /** A send in turn behind this end's waiting sends (one that gives up while it waits is never sent). */
  private write(bytes: Uint8Array, flags: number, deadline: Deadline): Promise<void> {
    this.queuedSends++;
    const { result, turnDone } = inTurn(this.sending, deadline, () => timedOut('send'), () => this.writeNow(bytes, flags, deadline));
    result.then(this.sendDone, this.sendDone);
    this.sending = turnDone;
    return result;
  }

  private readonly sendDone = (): void => {
    this.queuedSends--;
  };

  private async writeNow(bytes: Uint8Array, flags: number, deadline: ReturnType<typeof deadlineOf>): Promise<void> {
    // A turn that comes after close sends nothing (the ring's memory is given up).
    this.checkOpen('send');
    let outcome: RingOutcomeName | undefined;
    try {
      if (!(await this.outbound.holdWriter(deadline))) throw timedOut('send');
      outcome = await this.outbound.send(bytes, flags, deadline, false, false);
    } catch (error) {
      throw closedDuring(peerGone(error, this.outbound, 'send'), this.ringClosed, 'connection', 'send');
    }
    if (outcome !== undefined) throw closedDuring(outcomeError(outcome, 'send'), this.ringClosed, 'connection', 'send');
  }

  private async readNow(deadline: ReturnType<typeof deadlineOf>): Promise<{ bytes: Uint8Array; flags: number }> {
    let message: RingMessage | RingOutcomeName;
    try {
      if (!(await this.inbound.holdReader(deadline))) throw timedOut('recv');
      message = await this.inbound.receive(deadline, false);
    } catch (error) {
      throw peerGone(error, this.inbound, 'recv');
    }
    if (typeof message === 'string') throw outcomeError(message, 'recv');
    return message;
  }

  private checkOpen(operation: string): void {
    if (this.ringClosed) throw closedObject('connection', operation);
  }
}

const takeCopy = (bytes: Uint8Array): Uint8Array => bytes.slice();

/**
 * `error` of a call on `ring`, or the end of the stream (`EPIPE` for a send, `EOF` for a receive)
 * when the kernel refused it after the other side shut the ring down: its owner's close removed
 * the ring's semaphore set (a semop on it is then `EINVAL`, or `EIDRM` for one waiting). Any other
 * error, and the kernel's while the ring is not shut down, is `error` itself.
 */
function peerGone(error: unknown, ring: Ring, operation: 'send' | 'recv'): unknown {
  return isIpcError(error) && ring.isShutDown() ? outcomeError(RingOutcome.shutDown, operation) : error;
}

function outcomeError(outcome: RingOutcomeName, operation: string): Error {
  if (outcome === RingOutcome.shutDown) {
    return operation === 'send'
      ? new IpcError('EPIPE', { syscall: 'send', object: 'ring connection', message: 'EPIPE: the other end of the pipe is closed' })
      : new MultiprocessingError(ErrorCode.eof, 'the other end of the pipe is closed');
  }
  return timedOut(operation);
}

async function createRing(backend: IpcBackend, capacity: number): Promise<Ring> {
  const segment = await createSegment(backend, ringBytes(capacity), 'RingPipe');
  try {
    const locks = await backend.semaphores.open('private', { size: RING_SLOTS });
    return Ring.initialize(segment, locks, capacity, 0);
  } catch (error) {
    await release(true, [segment]);
    throw error;
  }
}

/**
 * Python's `Pipe()` over shared memory: two connected {@link RingConnection}s, each sending on one
 * ring and receiving on the other. The first end owns the rings: its `close()` removes them, so
 * close it last (after the process using the second end is done).
 */
export async function RingPipe(backend: IpcBackend, options: RingPipeOptions = {}): Promise<[RingConnection, RingConnection]> {
  const codec = checkCodec(options.codec);
  const capacity = ringCapacity(options.capacity ?? 262144);
  const aToB = await createRing(backend, capacity);
  let bToA: Ring;
  try {
    bToA = await createRing(backend, capacity);
  } catch (error) {
    await release(true, [aToB.segment as SysvSegment, aToB.locks]);
    throw error;
  }
  // The first end owns both rings (its close removes them): the second is the one usually passed
  // to a child, and the parent closes its copy of it right after, so it has handles of its own.
  const first = new RingConnection(backend, codec, bToA, aToB, true);
  try {
    const second = new RingConnection(backend, codec, await attach(backend, aToB), await attach(backend, bToA), false);
    return [first, second];
  } catch (error) {
    await first.close();
    throw error;
  }
}

/** Handles of this process's own onto a ring (by the ids of its segment and liveness set). */
async function attach(backend: IpcBackend, ring: Ring | RingRecord): Promise<Ring> {
  const record = ring instanceof Ring ? { segment: (ring.segment as SysvSegment).id, locks: ring.locks.id } : ring;
  const segment = await backend.sharedMemory.attachSysv(record.segment);
  try {
    return new Ring(segment, await backend.semaphores.openById(record.locks));
  } catch (error) {
    await segment.close();
    throw error;
  }
}

registerReviver('ring-connection', async (data, backend) => {
  const { codec, inbound, outbound } = data as { codec: string; inbound: RingRecord; outbound: RingRecord };
  const end = new RingConnection(backend, codecNamed(codec), await attach(backend, inbound), await attach(backend, outbound), false);
  // Held from here, so the other side learns of this process's end (EOF) even if it never sends.
  await end.claimEnds();
  return end;
});
