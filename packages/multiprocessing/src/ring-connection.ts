/**
 * RingPipe: a {@link Connection} pair over two shared-memory rings (one per direction) instead of
 * a socketpair: the fast path for values between processes that share memory. Each direction has
 * one producer and one consumer, which keep the ring's write and read locks for good, so a send
 * or a receive makes no system call while the other side keeps up (one copy in, one copy out).
 *
 * End of stream: `close()` by a side that has sent marks its outgoing ring shut down, and the
 * other side's `recv` rejects with `EOF` once the values before it are taken; a sender that dies
 * is seen by the receiver within {@link HOLDER_CHECK_MS} (its liveness slot went to 0) and is
 * `EOF` too, also in the middle of a value. Sending to a side that has closed rejects with `EPIPE`.
 * Unlike a socketpair, a copy of an end that never sent (the parent's copy of the end it passed to
 * a child) closes without ending the stream.
 */
import { IpcError, type IpcBackend, type SysvSegment, type WaitOptions } from '@ipcx/core';
import type { Codec } from './codec.js';
import { checkCodec, codecNamed } from './codec-registry.js';
import { Connection } from './connection.js';
import { ErrorCode, MultiprocessingError } from './errors.js';
import { createSegment, release } from './kernel-objects.js';
import { FrameFlag, RING_SLOTS, Ring, RingOutcome, ringBytes, ringCapacity, type RingOutcomeName } from './ring.js';
import { registerReviver, shareSymbol, type ShareRecord } from './share.js';
import { decodeValue, encodeValue } from './value-bytes.js';
import { deadlineOf } from './wait.js';

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
    this.checkOpen('send');
    const { bytes, objects } = encodeValue(this.ringCodec, value);
    return this.write(bytes, objects ? FrameFlag.OBJECTS : 0, options);
  }

  override sendBytes(bytes: Uint8Array, offset = 0, size = bytes.length - offset): Promise<void> {
    this.checkOpen('sendBytes');
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) throw new RangeError('offset is outside bytes');
    if (!Number.isInteger(size) || size < 0 || offset + size > bytes.length) throw new RangeError('size goes past the end of bytes');
    return this.write(bytes.subarray(offset, offset + size), FrameFlag.BYTES);
  }

  override async recv<T = unknown>(options?: WaitOptions): Promise<T> {
    this.checkOpen('recv');
    const { bytes, flags } = await this.read(options);
    if (flags & FrameFlag.BYTES) return bytes as T;
    return (await decodeValue(this.ringCodec, bytes, (flags & FrameFlag.OBJECTS) !== 0, this.ringBackend)) as T;
  }

  override async recvBytes(options?: WaitOptions): Promise<Uint8Array> {
    return (await this.read(options)).bytes;
  }

  override async poll(timeout = 0): Promise<boolean> {
    this.checkOpen('poll');
    if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) throw new RangeError('timeout must be a number >= 0');
    if (this.inbound.readable()) return true;
    if (timeout === 0) return (await this.inbound.writerDied()) || this.inbound.readable();
    return this.inbound.waitReadable(deadlineOf(timeout === Infinity ? {} : { timeout }));
  }

  override async close(): Promise<void> {
    if (this.ringClosed) return;
    this.ringClosed = true;
    // Only a side that has sent ends the stream: the parent's unused copy of a child's end must not.
    if (this.outbound.holdingWriter) this.outbound.shutdown();
    // A receiver that leaves tells the sender (its sends fail with EPIPE from now on).
    if (this.inbound.holdingReader) this.inbound.shutdown();
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

  private write(bytes: Uint8Array, flags: number, options?: WaitOptions): Promise<void> {
    const deadline = deadlineOf(options);
    const next = this.sending.then(() => this.writeNow(bytes, flags, deadline));
    this.sending = next.catch(() => {});
    return next;
  }

  private async writeNow(bytes: Uint8Array, flags: number, deadline: ReturnType<typeof deadlineOf>): Promise<void> {
    if (!(await this.outbound.holdWriter(deadline))) throw new MultiprocessingError(ErrorCode.timedOut, 'timed out (send)');
    const outcome = await this.outbound.send(bytes, flags, deadline, false, false);
    if (outcome !== undefined) throw outcomeError(outcome, 'send');
  }

  private read(options?: WaitOptions): Promise<{ bytes: Uint8Array; flags: number }> {
    this.checkOpen('recv');
    const deadline = deadlineOf(options);
    const next = this.receiving.then(() => this.readNow(deadline));
    this.receiving = next.catch(() => {});
    return next;
  }

  private async readNow(deadline: ReturnType<typeof deadlineOf>): Promise<{ bytes: Uint8Array; flags: number }> {
    if (!(await this.inbound.holdReader(deadline))) throw new MultiprocessingError(ErrorCode.timedOut, 'timed out (recv)');
    const message = await this.inbound.receive(deadline, false);
    if (typeof message === 'string') throw outcomeError(message, 'recv');
    return message;
  }

  private checkOpen(operation: string): void {
    if (this.ringClosed) throw new MultiprocessingError(ErrorCode.closed, `connection is closed (${operation})`);
  }
}

function outcomeError(outcome: RingOutcomeName, operation: string): Error {
  if (outcome === RingOutcome.shutDown) {
    return operation === 'send'
      ? new IpcError('EPIPE', { syscall: 'send', object: 'ring connection', message: 'EPIPE: the other end of the pipe is closed' })
      : new MultiprocessingError(ErrorCode.eof, 'the other end of the pipe is closed');
  }
  return new MultiprocessingError(ErrorCode.timedOut, `timed out (${operation})`);
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
  return new RingConnection(backend, codecNamed(codec), await attach(backend, inbound), await attach(backend, outbound), false);
});
