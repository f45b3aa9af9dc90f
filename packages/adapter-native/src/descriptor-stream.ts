/**
 * A byte stream over a non-blocking descriptor: the shared engine of pipe ends, FIFO ends, duplex
 * pipes and stream sockets.
 *
 * Fast path: `read`/`write` call the kernel at once on the calling thread. Only when it answers
 * EAGAIN does the operation queue and ask libuv for readiness (uv_poll); there is no thread per
 * read and nothing on libuv's pool. The poll watches only while operations are queued, so an idle
 * stream neither costs CPU nor keeps the process alive.
 */
import {
  DEFAULT_READ_BYTES,
  abortErrorFor,
  checkInteger,
  checkOptionalBoolean,
  checkWaitOptions,
  closedError,
  iterateReader,
  readerToWebStream,
  toBytes,
  transferSymbol,
  writerToWebStream,
  type NowaitOptions,
  type ReadOptions,
  type TransferRecord,
  type WriteOptions,
} from '@ipcx/core';
import { PollEvent, addon, errorFromErrno } from './addon.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { cancellationError, watchCancellation, type CancelReason } from './wait.js';

const EAGAIN = 11;
/** What tryRead returns when the kernel said EAGAIN (a symbol: a byte count may well be 11). */
const WOULD_BLOCK: unique symbol = Symbol('would block');
const MAX_READ_BYTES = 1 << 30;
/**
 * Longest spin before a read parks in libuv's poll, in milliseconds (20 µs). Waking a parked
 * process on another CPU costs ~20 µs here (PERF-FLOOR.md); a peer that answers within the spin
 * window is served without that cost. Bounded, and adaptive (see spinMs), so an idle reader costs
 * no CPU beyond one window.
 */
const MAX_SPIN_MS = 0.02;
/** Below this window spinning is switched off; it is tried again every PROBE_EVERY parked reads. */
const MIN_SPIN_MS = 0.0025;
const PROBE_EVERY = 16;

interface PendingRead {
  maxBytes: number;
  /** Where to read for readInto; undefined for read, which returns a new array. */
  into: Uint8Array | undefined;
  resolve(result: Uint8Array | null | number): void;
  reject(error: Error): void;
  stopWatching(): void;
}

interface PendingWrite {
  bytes: Uint8Array;
  written: number;
  resolve(count: number): void;
  reject(error: Error): void;
  stopWatching(): void;
}

/** Which directions a descriptor supports. */
export interface StreamDirections {
  readonly read: boolean;
  readonly write: boolean;
}

export class DescriptorStream implements TrackedObject {
  /** The descriptor, or -1 once closed. */
  protected fd: number;
  private pollId = 0;
  private interest = 0;
  private readonly reads: PendingRead[] = [];
  private readonly writes: PendingWrite[] = [];
  private scratch: Uint8Array | undefined;
  // The current spin window: full after a spin that caught data, halved after one that did not,
  // off below MIN_SPIN_MS (then probed again now and then, since the peer's pace may change).
  private spinMs = MAX_SPIN_MS;
  private parkedReads = 0;
  // What the FinalizationRegistry closes if this object is dropped without close().
  private readonly held: { fds: number[]; polls: number[] };

  constructor(
    fd: number,
    /** Description for errors and leak reports, e.g. `'pipe reader'`. */
    protected readonly objectName: string,
    /** Transfer kind, e.g. `'pipe-reader'`. */
    protected readonly kind: string,
    private readonly directions: StreamDirections,
  ) {
    this.fd = fd;
    this.held = { fds: [fd], polls: [] };
    track(this, this.held);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.fd < 0;
  }

  /** The descriptor number (for tests and diagnostics). */
  get descriptor(): number {
    return this.fd;
  }

  describe(): string {
    return `${this.objectName} (fd ${this.fd})`;
  }

  /** See {@link ByteReader.read}. */
  read(options?: ReadOptions): Promise<Uint8Array | null> {
    try {
      const maxBytes = options?.maxBytes === undefined ? DEFAULT_READ_BYTES : checkInteger('options.maxBytes', options.maxBytes, 1, MAX_READ_BYTES);
      return this.startRead(maxBytes, undefined, options) as Promise<Uint8Array | null>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link ByteReader.readInto}. */
  readInto(buffer: Uint8Array, options?: NowaitOptions): Promise<number> {
    try {
      if (!(buffer instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array');
      if (buffer.length === 0) throw new RangeError('buffer must not be empty');
      return this.startRead(buffer.length, buffer, options) as Promise<number>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private startRead(maxBytes: number, into: Uint8Array | undefined, options: NowaitOptions | undefined): Promise<Uint8Array | null | number> {
    const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
    const timeoutMs = checkWaitOptions(options);
    if (!this.directions.read) throw new TypeError(`${this.objectName} is not readable`);
    if (this.closed) throw closedError(this.objectName, 'read');
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    if (this.reads.length === 0) {
      let result = this.tryRead(maxBytes, into);
      if (result === WOULD_BLOCK && !nowait) result = this.spinRead(maxBytes, into);
      if (result !== WOULD_BLOCK) return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
    }
    if (nowait) throw errorFromErrno(-EAGAIN, { syscall: 'read', object: this.objectName });
    return new Promise((resolve, reject) => {
      const pending: PendingRead = { maxBytes, into, resolve, reject, stopWatching: () => {} };
      pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
        this.reads.splice(this.reads.indexOf(pending), 1);
        this.updateInterest();
        reject(cancellationError(reason, options, { syscall: 'read', object: this.objectName }));
      });
      this.reads.push(pending);
      this.updateInterest();
    });
  }

  /** See {@link ByteWriter.write}. */
  write(data: Uint8Array | string, options?: WriteOptions): Promise<number> {
    try {
      const bytes = toBytes('data', data);
      const nowait = checkOptionalBoolean('options.nowait', options?.nowait);
      const timeoutMs = checkWaitOptions(options);
      if (!this.directions.write) throw new TypeError(`${this.objectName} is not writable`);
      if (this.closed) throw closedError(this.objectName, 'write');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      let written = 0;
      if (this.writes.length === 0) {
        const result = this.tryWrite(bytes, 0);
        if (result instanceof Error) throw result;
        written = result;
        if (written === bytes.length) return Promise.resolve(written);
      }
      if (nowait) {
        if (written > 0) return Promise.resolve(written);
        throw errorFromErrno(-EAGAIN, { syscall: 'write', object: this.objectName });
      }
      return new Promise((resolve, reject) => {
        const pending: PendingWrite = { bytes, written, resolve, reject, stopWatching: () => {} };
        pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          this.writes.splice(this.writes.indexOf(pending), 1);
          this.updateInterest();
          reject(cancellationError(reason, options, { syscall: 'write', object: this.objectName }));
        });
        this.writes.push(pending);
        this.updateInterest();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Stops writing (`shutdown(SHUT_WR)`), for sockets. The other side reads EOF. */
  protected shutdownWrite(): void {
    if (this.closed) throw closedError(this.objectName, 'shutdown');
    const result = addon.shutdown(this.fd, 1);
    if (result < 0) throw errorFromErrno(result, { syscall: 'shutdown', object: this.objectName });
  }

  /** Gives up the descriptor; pending operations reject with EBADF. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const fd = this.fd;
    this.fd = -1;
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
    addon.close(fd);
    untrack(this);
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return iterateReader(this as never);
  }

  readableStream(): ReadableStream<Uint8Array> {
    return readerToWebStream(this as never);
  }

  writableStream(): WritableStream<Uint8Array> {
    return writerToWebStream(this as never);
  }

  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return { kind: this.kind, data: this.transferData(), handles: [this.fd] };
  }

  /** Plain data that travels with the descriptor (e.g. a FIFO's path). */
  protected transferData(): unknown {
    return undefined;
  }

  /** Retries a read for at most the current spin window before the caller parks it in the poll. */
  private spinRead(maxBytes: number, into: Uint8Array | undefined): ReturnType<DescriptorStream['tryRead']> {
    if (this.spinMs === 0) {
      if (++this.parkedReads % PROBE_EVERY !== 0) return WOULD_BLOCK;
      this.spinMs = MIN_SPIN_MS;
    }
    const deadline = performance.now() + this.spinMs;
    do {
      const result = this.tryRead(maxBytes, into);
      if (result !== WOULD_BLOCK) {
        this.spinMs = MAX_SPIN_MS;
        return result;
      }
    } while (performance.now() < deadline);
    this.spinMs = this.spinMs / 2 < MIN_SPIN_MS ? 0 : this.spinMs / 2;
    return WOULD_BLOCK;
  }

  /**
   * Into `into`: the count (0 at EOF). Otherwise a new exact-size chunk, or null at EOF.
   * WOULD_BLOCK when nothing is there; the error on failure.
   */
  private tryRead(maxBytes: number, into: Uint8Array | undefined): Uint8Array | null | number | typeof WOULD_BLOCK | Error {
    if (into !== undefined) {
      const n = addon.read(this.fd, into, 0, into.length);
      if (n === -EAGAIN) return WOULD_BLOCK;
      return n < 0 ? errorFromErrno(n, { syscall: 'read', object: this.objectName }) : n;
    }
    // One scratch buffer per stream, reused: a fresh large buffer per read costs page faults
    // (measured: more than the copy below). The caller gets an exact-size copy.
    let buffer = this.scratch;
    if (buffer === undefined || buffer.length < maxBytes) buffer = this.scratch = Buffer.allocUnsafeSlow(Math.max(maxBytes, 4096));
    const n = addon.read(this.fd, buffer, 0, maxBytes);
    if (n === -EAGAIN) return WOULD_BLOCK;
    if (n < 0) return errorFromErrno(n, { syscall: 'read', object: this.objectName });
    if (n === 0) return null;
    const chunk = Buffer.allocUnsafe(n);
    chunk.set(buffer.subarray(0, n));
    return chunk;
  }

  /** Bytes written (possibly 0 on EAGAIN) or the error. */
  private tryWrite(bytes: Uint8Array, offset: number): number | Error {
    let written = 0;
    while (offset + written < bytes.length) {
      const n = addon.write(this.fd, bytes, offset + written, bytes.length - offset - written);
      if (n === -EAGAIN) break;
      if (n < 0) return errorFromErrno(n, { syscall: 'write', object: this.objectName });
      written += n;
    }
    return written;
  }

  private updateInterest(): void {
    if (this.closed) return;
    const wanted = (this.reads.length > 0 ? PollEvent.readable : 0) | (this.writes.length > 0 ? PollEvent.writable : 0);
    if (wanted === this.interest) return;
    this.interest = wanted;
    if (this.pollId === 0) {
      if (wanted === 0) return;
      this.pollId = addon.pollStart(this.fd, wanted, (status, events) => this.onReady(status, events));
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
    while (this.reads.length > 0 && !this.closed) {
      const pending = this.reads[0]!;
      const result = this.tryRead(pending.maxBytes, pending.into);
      if (result === WOULD_BLOCK) break;
      this.reads.shift();
      pending.stopWatching();
      if (result instanceof Error) pending.reject(result);
      else pending.resolve(result);
    }
    while (this.writes.length > 0 && !this.closed) {
      const pending = this.writes[0]!;
      const result = this.tryWrite(pending.bytes, pending.written);
      if (result instanceof Error) {
        this.writes.shift();
        pending.stopWatching();
        pending.reject(result);
        continue;
      }
      pending.written += result;
      if (pending.written < pending.bytes.length) break;
      this.writes.shift();
      pending.stopWatching();
      pending.resolve(pending.written);
    }
    this.updateInterest();
  }
}
