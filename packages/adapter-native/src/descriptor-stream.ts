/**
 * A byte stream over a descriptor: the shared engine of pipe ends, FIFO ends, duplex pipes and
 * stream sockets.
 *
 * The descriptor's open file description stays blocking (the kernel's default), because other
 * processes may share it and may change its O_NONBLOCK flag at any time: ipcx's own calls are
 * non-blocking by themselves instead ({@link IoMode}, and native/descriptor.h for the reasons).
 *
 * Fast path: `read`/`write` call the kernel at once on the calling thread. Only when it answers
 * EAGAIN does the operation queue and ask libuv for readiness (uv_poll); there is no thread per
 * read and nothing on libuv's pool. The poll keeps the loop alive only while operations are
 * queued; its readable interest stays registered between reads (unref'd) until readiness arrives
 * that no read wants (see `pollUpdate`), so a stream in a tight exchange does not re-register per
 * message, and an idle stream neither costs CPU nor keeps the process alive.
 */
import {
  Errno,
  completedNow,
  DEFAULT_READ_BYTES,
  abortErrorFor,
  closedError,
  iterateReader,
  type IteratorOptions,
  readerToWebStream,
  transferSymbol,
  writerToWebStream,
  type NowaitOptions,
  type ReadOptions,
  type TransferRecord,
  type WaitOptions,
  type WriteOptions,
} from '@ipcx/core';
import {
  checkInteger,
  checkOptionalBoolean,
  checkWaitOptions,
  checkBytes,
} from '@ipcx/core/backend';
import { PollEvent, addon, errorFromErrno } from './addon.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { bufferGoneError, spinWindow, WOULD_BLOCK, cancellationError, watchCancellation, type CancelReason } from './wait.js';

const { EAGAIN, ENOMEM, EPIPE, ENXIO, EOPNOTSUPP } = Errno;
const MAX_READ_BYTES = 1 << 30;

/**
 * The most a read allocates before the kernel has delivered anything: the default `maxBytes`, a
 * pipe's default capacity. A larger `maxBytes` is only an upper bound (see {@link readSized}).
 */
export const READ_CHUNK_BYTES = DEFAULT_READ_BYTES;

// The scratch buffer every non-blocking read of this thread goes through first (pipes, FIFOs,
// sockets, generic descriptors): allocated once, reused, so that a read costs no page faults of
// a fresh buffer (measured: more than the copy out), and never larger than READ_CHUNK_BYTES,
// whatever maxBytes callers ask for. One per module instance, i.e. per thread: a read fills it
// and copies out before it returns, so nothing else can run in between.
let scratch: Buffer | undefined;

/** A new buffer of `size` bytes, or undefined when the allocation fails (RangeError from V8). */
function tryAllocate(size: number): Buffer | undefined {
  try {
    return Buffer.allocUnsafe(size);
  } catch {
    return undefined;
  }
}

/**
 * The first `n` bytes of `buffer` in an exact-size array of their own. When that cannot be
 * allocated, the bytes are handed over where they are (a scratch buffer is then given up, and the
 * next read allocates a new one) rather than lost: they are out of the kernel already.
 */
export function copyOut(buffer: Uint8Array, n: number): Uint8Array {
  const copy = tryAllocate(n);
  if (copy === undefined) {
    if (buffer === scratch) scratch = undefined;
    return buffer.subarray(0, n);
  }
  copy.set(buffer.subarray(0, n));
  return copy;
}

/** The thread's read scratch ({@link READ_CHUNK_BYTES} long), or undefined when it cannot be had. */
export function readScratch(): Buffer | undefined {
  scratch ??= tryAllocate(READ_CHUNK_BYTES);
  return scratch;
}

/**
 * One non-blocking read call into `buffer[offset, offset + length)`: bytes read, 0 at end of file,
 * or -errno (-EAGAIN: nothing there now).
 */
export type ReadCall = (buffer: Uint8Array, offset: number, length: number) => number;

const always = (): boolean => true;

/**
 * Reads up to `maxBytes` with memory bounded by what the kernel delivers, not by `maxBytes` (a
 * caller's `maxBytes: 2**30` used to allocate 1 GiB per read or per stream): the first call reads
 * into the scratch buffer, at most {@link READ_CHUNK_BYTES}. Only when it comes back full and the
 * caller allows more does the read go on, each call into a buffer twice the bytes read so far
 * (those copied over), until a call returns less than asked, would wait, fails or ends the file,
 * `more()` says no, or `maxBytes` is reached; so up to `maxBytes` still arrive at once when that
 * much is there. A later call's failure or end of file ends this read with the bytes it has (the
 * next read reports it). An allocation that fails once bytes were read ends the read with them too
 * (they are the caller's; the rest stays in the kernel).
 *
 * Returns a new exact-size array of the bytes read, or what the first call said when it read
 * nothing: 0 (end of file) or -errno, -ENOMEM when not even the scratch buffer can be had.
 */
export function readSized(read: ReadCall, maxBytes: number, more: () => boolean = always): Uint8Array | number {
  const first = readScratch();
  if (first === undefined) return -ENOMEM;
  const firstLength = Math.min(maxBytes, first.length);
  const n = read(first, 0, firstLength);
  if (n <= 0) return n;
  let buffer = n === firstLength && n < maxBytes && more() ? tryAllocate(Math.min(maxBytes, 2 * n)) : undefined;
  if (buffer === undefined) return copyOut(first, n);
  buffer.set(first.subarray(0, n));
  let total = n;
  for (;;) {
    const asked = buffer.length - total;
    const got = read(buffer, total, asked);
    if (got <= 0) break;
    total += got;
    if (got < asked || total === maxBytes || !more()) break;
    const bigger = tryAllocate(Math.min(maxBytes, 2 * total));
    if (bigger === undefined) break;
    bigger.set(buffer.subarray(0, total));
    buffer = bigger;
  }
  // Without the slack of the last step, when memory allows.
  return total === buffer.length ? buffer : copyOut(buffer, total);
}

/** The addon functions of descriptor.cc that the engine uses. Numbers are `-errno` on failure. */
interface DescriptorAddon {
  readNowait(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  writeNowait(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  recv(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  send(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  reopenPrivate(fd: number, access: 0 | 1): number;
  pipeNowaitSupported(): boolean;
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void, shared: boolean): number;
}

const native = addon as unknown as DescriptorAddon;

/**
 * How an object's own calls avoid waiting, whatever another process does to the shared
 * description's O_NONBLOCK:
 * - `'socket'`: `recv`/`send`/`recvmsg`/`sendmsg` with `MSG_DONTWAIT` on the descriptor itself;
 * - `'nowait'`: `preadv2`/`pwritev2` with `RWF_NOWAIT` on the descriptor itself (anonymous pipes
 *   on kernels that honour it);
 * - `'private'`: plain `read`/`write` on a private open file description with O_NONBLOCK, opened
 *   again through `/proc/self/fd/N` (FIFOs, whose files have no RWF_NOWAIT; pipes on older kernels);
 * - `'none'`: the object does no readiness-driven I/O of its own (a listening socket, which
 *   accepts on a waiter thread).
 * Readiness of a shared description is polled through an epoll instance of its own (poller.h),
 * since uv_poll would set O_NONBLOCK on it.
 */
export type IoMode = 'socket' | 'nowait' | 'private' | 'none';

/** The mode for a pipe end: per-call RWF_NOWAIT where the kernel has it, else a private description. */
export function pipeIoMode(): IoMode {
  return native.pipeNowaitSupported() ? 'nowait' : 'private';
}

/** What an {@link Attempt} returns when the kernel said EAGAIN: keep the operation queued. */
export { WOULD_BLOCK };

/**
 * One non-blocking try of a queued operation: its result, the error to reject with, or
 * {@link WOULD_BLOCK} to wait for readiness and try again.
 */
export type Attempt<T> = () => T | Error | typeof WOULD_BLOCK;

interface PendingOperation {
  attempt: Attempt<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
  stopWatching(): void;
  /** For a read that spun before parking: when it started (see SpinWindow.parked), else -1. */
  startedAt: number;
}

/** Which directions a descriptor supports. */
export interface StreamDirections {
  readonly read: boolean;
  readonly write: boolean;
}

/**
 * The engine under every descriptor object (streams, sockets, servers): the descriptor, a queue of
 * pending operations per direction served in call order, the uv_poll that keeps the loop alive
 * only while something is queued, close, leak tracking and transfer.
 */
export class DescriptorObject implements TrackedObject {
  /** The descriptor, or -1 once closed. It is what travels to other processes. */
  protected handle: number;
  /** In `'private'` mode: the private description ipcx reads and writes through, once opened (-1 before). */
  private ioFd = -1;
  private pollId = 0;
  private interest = 0;
  private readonly reads: PendingOperation[] = [];
  private readonly writes: PendingOperation[] = [];
  // What the FinalizationRegistry closes if this object is dropped without close().
  private readonly held: { fds: number[]; polls: number[] };
  // How long a read spins on EAGAIN before parking in the poll (the shared adaptive policy).
  private readonly readSpin = spinWindow();
  // Whether the last read completed only after parking (see perform).
  private readParked = false;

  constructor(
    fd: number,
    /** Description for errors and leak reports, e.g. `'pipe reader'`. */
    protected readonly objectName: string,
    /** Transfer kind, e.g. `'pipe-reader'`. */
    protected readonly kind: string,
    /** How this object's calls avoid waiting (see {@link IoMode}). */
    protected io: IoMode,
  ) {
    this.handle = fd;
    this.held = { fds: [fd], polls: [] };
    track(this, this.held);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.handle < 0;
  }

  /**
   * The descriptor number, for handing it to code outside ipcx (see core's `DescriptorBacked`):
   * the shared, blocking description, never the private one. -1 once closed.
   */
  get fd(): number {
    return this.handle;
  }

  describe(): string {
    return `${this.objectName} (fd ${this.handle})`;
  }

  /**
   * The private description of `'private'` mode, opened on first use: a descriptor, or -errno.
   * A writer gets -EPIPE when no reader is left (the reopen says ENXIO then, and a write would
   * have failed with EPIPE).
   */
  protected privateFd(access: 0 | 1): number {
    if (this.ioFd >= 0) return this.ioFd;
    const fd = native.reopenPrivate(this.handle, access);
    if (fd === -ENXIO) return -EPIPE;
    if (fd < 0) return fd;
    this.ioFd = fd;
    this.held.fds.push(fd);
    return fd;
  }

  /** True while operations of that direction are queued (a new one must queue behind them). */
  protected busy(direction: 'read' | 'write'): boolean {
    return (direction === 'read' ? this.reads : this.writes).length > 0;
  }

  /**
   * Runs an operation: at once on the calling thread when nothing of its direction is queued,
   * else (or when the attempt says WOULD_BLOCK) queued until the descriptor polls ready. The
   * caller has validated its arguments and checked `closed` and `signal.aborted`. With `nowait`,
   * rejects with EAGAIN instead of queueing.
   */
  protected perform<T>(direction: 'read' | 'write', attempt: Attempt<T>, options: WaitOptions | undefined, nowait: boolean, timeoutMs: number, syscall: string): Promise<T> {
    const queue = direction === 'read' ? this.reads : this.writes;
    let startedAt = -1;
    if (queue.length === 0 && direction === 'read' && !nowait && timeoutMs === Infinity && this.readParked && this.readSpin.parksNext) {
      // The last read had to park and the policy parks this one at once (its spins were
      // preempted: the peer answers only once this thread gives up the CPU), so the first attempt
      // could only fail; the poll tells when bytes are there, and bytes already there are read a
      // turn of the loop later. One system call less per parked read. Not for a stream whose reads
      // find bytes waiting (bulk), and not with a timeout: a poll result after the timer would
      // turn bytes that were there into ETIMEDOUT.
      this.readSpin.open(performance.now());
    } else if (queue.length === 0) {
      let result = attempt();
      if (result === WOULD_BLOCK && direction === 'read' && !nowait) {
        startedAt = performance.now();
        result = this.readSpin.spin(attempt, timeoutMs);
      }
      if (result !== WOULD_BLOCK) {
        if (direction === 'read') this.readParked = false;
        return result instanceof Error ? Promise.reject(result) : completedNow(result);
      }
    }
    if (nowait) return Promise.reject(errorFromErrno(-EAGAIN, { syscall, object: this.objectName }));
    return new Promise<T>((resolve, reject) => {
      const pending: PendingOperation = { attempt, resolve: resolve as (value: unknown) => void, reject, stopWatching: () => {}, startedAt };
      pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
        queue.splice(queue.indexOf(pending), 1);
        this.updateInterest();
        reject(cancellationError(reason, options, { syscall, object: this.objectName }));
      });
      queue.push(pending);
      this.updateInterest();
    });
  }

  /** Gives up the descriptor; pending operations reject with EBADF. */
  close(): Promise<void> {
    if (this.handle < 0) return Promise.resolve();
    const fd = this.handle;
    this.handle = -1;
    for (const pending of this.reads.splice(0)) {
      pending.stopWatching();
      pending.reject(cancellationError('close' satisfies CancelReason, undefined, { syscall: 'read', object: this.objectName }));
    }
    for (const pending of this.writes.splice(0)) {
      pending.stopWatching();
      pending.reject(cancellationError('close', undefined, { syscall: 'write', object: this.objectName }));
    }
    // The poll handle must be gone before the descriptor number can be reused.
    if (this.pollId !== 0) addon.pollClose(this.pollId);
    this.pollId = 0;
    if (this.ioFd >= 0) addon.close(this.ioFd);
    this.ioFd = -1;
    addon.close(fd);
    untrack(this);
    this.afterClose();
    return Promise.resolve();
  }

  /** Called once the descriptor is closed (e.g. a server removes its socket file). */
  protected afterClose(): void {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return { kind: this.kind, data: this.transferData(), handles: [this.handle] };
  }

  /** Plain data that travels with the descriptor (e.g. a FIFO's path). */
  protected transferData(): unknown {
    return undefined;
  }

  private updateInterest(): void {
    if (this.closed) return;
    const wanted = (this.reads.length > 0 ? PollEvent.readable : 0) | (this.writes.length > 0 ? PollEvent.writable : 0);
    if (wanted === this.interest) return;
    this.interest = wanted;
    if (this.pollId === 0) {
      if (wanted === 0) return;
      // A private description is ours to poll directly; a shared one goes through an epoll
      // instance (poller.cc), since uv_poll_init would set O_NONBLOCK on it for everyone.
      const direct = this.io === 'private' && this.ioFd >= 0;
      const onReady = (status: number, events: number) => this.onReady(status, events);
      this.pollId = native.pollStart(direct ? this.ioFd : this.handle, wanted, onReady, !direct);
      this.held.polls[0] = this.pollId;
    } else {
      addon.pollUpdate(this.pollId, wanted);
    }
  }

  // libuv says the descriptor is ready (or reported an error such as POLLERR on a pipe whose
  // reader is gone: the retried syscall then tells the real errno, e.g. EPIPE). libuv stops a poll
  // after an error, so interest is re-armed below.
  private onReady(status: number, _events: number): void {
    if (status < 0) this.interest = 0;
    for (const queue of [this.reads, this.writes]) {
      while (queue.length > 0 && !this.closed) {
        const pending = queue[0]!;
        const result = pending.attempt();
        if (result === WOULD_BLOCK) break;
        queue.shift();
        pending.stopWatching();
        if (pending.startedAt >= 0) this.readSpin.parked(pending.startedAt);
        if (queue === this.reads) this.readParked = true;
        if (result instanceof Error) pending.reject(result);
        else pending.resolve(result);
      }
    }
    this.updateInterest();
  }
}

/** A byte stream over a descriptor: pipe ends, FIFO ends, duplex pipes, stream sockets. */
export class DescriptorStream extends DescriptorObject {
  // readSized's call, made once: a read that spins must not allocate per attempt.
  private readonly readCall: ReadCall = (buffer, offset, length) => this.sysRead(buffer, offset, length);

  constructor(fd: number, objectName: string, kind: string, private readonly directions: StreamDirections, io: IoMode) {
    super(fd, objectName, kind, io);
  }

  /** See `ByteReader.read` in `@ipcx/core`. */
  read(options?: ReadOptions): Promise<Uint8Array | null> {
    try {
      const maxBytes = options?.maxBytes === undefined ? DEFAULT_READ_BYTES : checkInteger('options.maxBytes', options.maxBytes, 1, MAX_READ_BYTES);
      const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
      const timeoutMs = checkWaitOptions(options);
      if (!this.directions.read) throw new TypeError(`${this.objectName} is not readable`);
      if (this.closed) throw closedError(this.objectName, 'read');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      return this.perform('read', () => this.tryRead(maxBytes), options, nowait, timeoutMs, 'read');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See `ByteReader.readInto` in `@ipcx/core`. */
  readInto(buffer: Uint8Array, options?: NowaitOptions): Promise<number> {
    try {
      if (!(buffer instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array');
      if (buffer.length === 0) throw new RangeError('buffer must not be empty');
      const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
      const timeoutMs = checkWaitOptions(options);
      if (!this.directions.read) throw new TypeError(`${this.objectName} is not readable`);
      if (this.closed) throw closedError(this.objectName, 'read');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      // The length the caller asked for: a queued read must not read into less (see bufferGoneError).
      const length = buffer.length;
      const attempt: Attempt<number> = () => {
        const gone = bufferGoneError('buffer', buffer, length, 'read', 'nothing was read');
        if (gone !== undefined) return gone;
        const n = this.sysRead(buffer, 0, length);
        if (n === -EAGAIN) return WOULD_BLOCK;
        return n < 0 ? errorFromErrno(n, { syscall: 'read', object: this.objectName }) : n;
      };
      return this.perform('read', attempt, options, nowait, timeoutMs, 'read');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See `ByteWriter.write` in `@ipcx/core`. */
  write(data: Uint8Array | string, options?: WriteOptions): Promise<number> {
    try {
      const bytes = checkBytes('data', data);
      const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
      const timeoutMs = checkWaitOptions(options);
      if (!this.directions.write) throw new TypeError(`${this.objectName} is not writable`);
      if (this.closed) throw closedError(this.objectName, 'write');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      return this.writeBytes(bytes, undefined, options, nowait, timeoutMs, 'write');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Writes all of `bytes` (validated by the caller); `fds`, if any, ride on the first bytes that
   * go out (sockets only). With `nowait`: what fits now, or EAGAIN when nothing does.
   */
  protected writeBytes(bytes: Uint8Array, fds: number[] | undefined, options: WriteOptions | undefined, nowait: boolean, timeoutMs: number, syscall: string): Promise<number> {
    let written = 0;
    let attach = fds;
    // The length at the call: a write queued behind others may run after the caller's buffer was
    // detached, and must not then resolve with the 0 bytes its view has left (see bufferGoneError).
    const length = bytes.length;
    const attempt: Attempt<number> = () => {
      while (written < length) {
        const gone = bufferGoneError('data', bytes, length, 'write', `${written} of ${length} bytes had been written`);
        if (gone !== undefined) return gone;
        const n = this.sysWrite(bytes, written, length - written, attach);
        if (n === -EAGAIN) return WOULD_BLOCK;
        if (n < 0) return errorFromErrno(n, { syscall, object: this.objectName });
        attach = undefined;
        written += n;
      }
      return written;
    };
    if (nowait) {
      if (this.busy('write')) return Promise.reject(errorFromErrno(-EAGAIN, { syscall, object: this.objectName }));
      const result = attempt();
      if (result instanceof Error) return Promise.reject(result);
      if (result !== WOULD_BLOCK) return completedNow(result);
      if (written > 0) return completedNow(written);
      return Promise.reject(errorFromErrno(-EAGAIN, { syscall, object: this.objectName }));
    }
    return this.perform('write', attempt, options, false, timeoutMs, syscall);
  }

  /** The non-blocking read call (per {@link IoMode}): bytes read, 0 at EOF, or -errno. */
  protected sysRead(buffer: Uint8Array, offset: number, length: number): number {
    if (this.io === 'socket') return native.recv(this.handle, buffer, offset, length);
    if (this.io === 'nowait') {
      const n = native.readNowait(this.handle, buffer, offset, length);
      if (n !== -EOPNOTSUPP) return n;
      // A FIFO revived as a pipe end (it arrived over SCM_RIGHTS): no RWF_NOWAIT on its file.
      this.io = 'private';
    }
    const fd = this.privateFd(0);
    return fd < 0 ? fd : addon.read(fd, buffer, offset, length);
  }

  /**
   * The non-blocking write call (per {@link IoMode}): bytes written or -errno. Stream sockets
   * override it (sendmsg with MSG_NOSIGNAL, and `fds` as SCM_RIGHTS); `fds` is always undefined
   * for pipes and FIFOs.
   */
  protected sysWrite(bytes: Uint8Array, offset: number, length: number, _fds: number[] | undefined): number {
    if (this.io === 'socket') return native.send(this.handle, bytes, offset, length);
    if (this.io === 'nowait') {
      const n = native.writeNowait(this.handle, bytes, offset, length);
      if (n !== -EOPNOTSUPP) return n;
      this.io = 'private';
    }
    const fd = this.privateFd(1);
    return fd < 0 ? fd : addon.write(fd, bytes, offset, length);
  }

  /** Stops writing (`shutdown(SHUT_WR)`), for sockets. The other side reads EOF. */
  protected shutdownWrite(): void {
    if (this.closed) throw closedError(this.objectName, 'shutdown');
    const result = addon.shutdown(this.handle, 1);
    if (result < 0) throw errorFromErrno(result, { syscall: 'shutdown', object: this.objectName });
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return iterateReader(this as never, undefined, this.directions.write);
  }

  /** See `ByteReader.iterator` in `@ipcx/core`. */
  iterator(options?: IteratorOptions): AsyncIterableIterator<Uint8Array> {
    return iterateReader(this as never, options, this.directions.write);
  }

  readableStream(): ReadableStream<Uint8Array> {
    return readerToWebStream(this as never);
  }

  writableStream(): WritableStream<Uint8Array> {
    return writerToWebStream(this as never);
  }

  /**
   * A new exact-size chunk, null at EOF, WOULD_BLOCK when nothing is there, or the error. Sized by
   * what the kernel delivers (readSized), not by maxBytes.
   */
  private tryRead(maxBytes: number): Uint8Array | null | typeof WOULD_BLOCK | Error {
    const result = readSized(this.readCall, maxBytes);
    if (typeof result !== 'number') return result;
    if (result === -EAGAIN) return WOULD_BLOCK;
    if (result < 0) return errorFromErrno(result, { syscall: 'read', object: this.objectName });
    return null;
  }
}
