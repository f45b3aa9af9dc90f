/**
 * Event counters in the emulated kernel (assembly/eventfd.ts): the semantics of Linux `eventfd`,
 * counter and semaphore mode, over a handle that travels like a descriptor (duplicated to a
 * child by `processes.spawn`, passed over a Unix socket's `transfer`).
 *
 * A read or write tries the kernel call on the calling thread first. When it would block (a zero
 * counter, or no room for the value), it watches the object's wait cell for a short adaptive
 * spin (the shared {@link CellSpin} policy, reads only: a write waits only at overflow), then
 * counts itself in the object's parked count and sleeps in `Atomics.waitAsync` until the cell
 * changes, and tries again. A value is only ever taken (or added) by a successful try on this
 * thread, so a cancelled wait has taken or added nothing.
 */
import {
  abortErrorFor,
  closedError,
  completedNow,
  transferSymbol,
  type Descriptor,
  type Eventfd,
  type EventfdOptions,
  type Eventfds,
  type NowaitOptions,
  type TransferRecord,
} from '@ipcx/core';
import { checkEventfdCreate, checkEventfdRead, checkEventfdWrite, backendSlice } from '@ipcx/core/backend';
import { kernelError, registerReviver, type Kernel, type KernelObject, type PendingWait } from './kernel.js';
import { KernelErrno } from './layout.js';
import { BUSY, CellSpin, WOULD_BLOCK, cancellationError, wakeCell, waitForChange, watchCancellation } from './wait.js';

/** The kernel entry points of assembly/eventfd.ts (numbers are -errno on failure). */
interface EventfdExports {
  efd_create(initial: number, semaphore: number): number;
  efd_read(handle: number): number;
  /** An i64 in wasm: a BigInt here, negative for values of 2^63 and more (see `asUintN`). */
  efd_last_read(): bigint;
  efd_write(handle: number, value: bigint): number;
  efd_semaphore(handle: number): number;
  efd_parked_cell(handle: number): number;
  efd_wait_cell(handle: number): number;
}

const KIND = 'eventfd';
const { EAGAIN, EBADF, EINTR } = KernelErrno;

/** The worker backend's {@link Eventfd}: one handle on an emulated event counter. */
export class WorkerEventfd implements Eventfd, KernelObject {
  private handle: number;
  private readonly calls: EventfdExports;
  /** Byte addresses of the object's wait cell and parked count. */
  private readonly cell: number;
  private readonly parked: number;
  private readonly pending = new Set<PendingWait>();
  private readonly readSpin = new CellSpin();
  private readonly objectName: string;

  /** Wraps a handle of this thread on an eventfd made in `semaphore` mode or not. */
  constructor(
    private readonly kernel: Kernel,
    handle: number,
    /** See {@link Eventfd.semaphore}. */
    readonly semaphore: boolean,
  ) {
    this.handle = handle;
    this.calls = kernel.calls as unknown as EventfdExports;
    this.cell = this.calls.efd_wait_cell(handle);
    this.parked = this.calls.efd_parked_cell(handle);
    this.objectName = semaphore ? 'eventfd (semaphore)' : 'eventfd';
    kernel.track(this, handle);
  }

  /** Always `undefined`: the worker backend's objects are no OS descriptors. */
  get fd(): undefined {
    return undefined;
  }

  /** See {@link Eventfd.closed}. */
  get closed(): boolean {
    return this.handle === 0;
  }

  /** What `JSON.stringify` gives: a short description (not the kernel or its memory, which would never finish as JSON). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.describe(), closed: this.closed };
  }

  /** For leak reports. */
  describe(): string {
    return `${this.objectName} (handle ${this.handle})`;
  }

  /** See {@link Eventfd.read}. */
  read(options?: NowaitOptions): Promise<bigint> {
    try {
      const { nowait, timeoutMs } = checkEventfdRead(options);
      if (this.closed) throw closedError(this.objectName, 'read');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      return this.operate(() => this.tryRead(), nowait, timeoutMs, options, 'read', true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link Eventfd.write}. */
  write(value?: number | bigint, options?: NowaitOptions): Promise<void> {
    try {
      const checked = checkEventfdWrite(value, options);
      if (this.closed) throw closedError(this.objectName, 'write');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      // The kernel takes an i64: values of 2^63 and more travel as their two's complement.
      const bits = BigInt.asIntN(64, checked.value);
      return this.operate(() => this.status(this.handle === 0 ? -EBADF : this.calls.efd_write(this.handle, bits), undefined, 'write'), checked.nowait, checked.timeoutMs, options, 'write', false);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Pending reads and writes reject with `EBADF`, then the handle closes (the counter goes with its last handle anywhere). */
  async close(): Promise<void> {
    if (this.closed) return;
    const handle = this.handle;
    this.handle = 0;
    await this.kernel.closeHandle(this, handle, this.pending);
  }

  /** `await using`: {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels with its handle (duplicated to the child, or passed over a socket). */
  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return { kind: KIND, data: { kernel: this.kernel.id, semaphore: this.semaphore }, handles: [this.handle] };
  }

  private tryRead(): bigint | Error | typeof WOULD_BLOCK | typeof BUSY {
    const result = this.handle === 0 ? -EBADF : this.calls.efd_read(this.handle);
    return result === 0 ? BigInt.asUintN(64, this.calls.efd_last_read()) : this.status(result, 0n, 'read');
  }

  /** A kernel status as an attempt's outcome: `success` on 0, WOULD_BLOCK on EAGAIN, BUSY on EINTR (the object was locked: try again soon), else the error. */
  private status<T>(result: number, success: T, syscall: string): T | Error | typeof WOULD_BLOCK | typeof BUSY {
    if (result === 0) return success;
    if (result === -EAGAIN) return WOULD_BLOCK;
    if (result === -EINTR) return BUSY;
    return kernelError(result, { syscall, object: this.objectName });
  }

  /**
   * Runs `attempt` now; if it would block, spins (reads) and then sleeps on the wait cell between
   * tries until it completes, `nowait` says EAGAIN, or a cancel (abort, timeout, close) ends it.
   * An attempt gives its result, an Error, WOULD_BLOCK, or BUSY (the object was locked).
   */
  private operate<T>(attempt: () => T | Error | typeof WOULD_BLOCK | typeof BUSY, nowait: boolean, timeoutMs: number, options: NowaitOptions | undefined, syscall: string, spin: boolean): Promise<T> {
    const { kernel, cell } = this;
    const index = cell >>> 2;
    // Read the cell before trying: a change after this load is seen by the spin or the sleep.
    let seen = Atomics.load(kernel.cells, index);
    let first = attempt();
    if (first === WOULD_BLOCK && nowait) return Promise.reject(kernelError(-EAGAIN, { syscall, object: this.objectName }));
    const startedAt = performance.now();
    if (first === WOULD_BLOCK && spin) first = this.readSpin.spin(kernel.cells, index, seen, attempt, timeoutMs, this.parked);
    if (first instanceof Error) return Promise.reject(first);
    if (first !== WOULD_BLOCK && first !== BUSY) return completedNow(first);
    const details = { syscall, object: this.objectName };
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (): void => {
        done = true;
        stopWatching();
        this.pending.delete(pending);
      };
      const pending: PendingWait = {
        cancel: (reason) => {
          if (done) return;
          finish();
          // Ends this wait's own sleep; other waiters on the cell just look again.
          wakeCell(kernel, cell);
          reject(cancellationError(reason, options, details));
        },
      };
      const stopWatching = watchCancellation(options, timeoutMs, (reason) => pending.cancel(reason));
      this.pending.add(pending);
      const sleep = (busy: boolean): void => {
        void waitForChange(kernel, cell, seen, busy ? 1 : Infinity, this.parked).then(step);
      };
      const step = (): void => {
        if (done) return;
        seen = Atomics.load(kernel.cells, index);
        const result = attempt();
        if (result === WOULD_BLOCK || result === BUSY) {
          if (this.handle === 0) return; // closed meanwhile: close() rejected it
          if (nowait && result === WOULD_BLOCK) {
            finish();
            reject(kernelError(-EAGAIN, details));
            return;
          }
          sleep(result === BUSY);
          return;
        }
        finish();
        if (spin) this.readSpin.parked(startedAt);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      // First sleep: the try above said WOULD_BLOCK (or BUSY) against the cell value in `seen`.
      sleep(first === BUSY);
    });
  }
}

/** The worker backend's {@link Eventfds} factory. */
export class WorkerEventfds implements Eventfds {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /** See {@link Eventfds.create}. `ENFILE` when the kernel's object or handle table is full. */
  async create(options?: EventfdOptions): Promise<Eventfd> {
    const { initial, semaphore } = checkEventfdCreate(options);
    const { kernel } = this;
    const calls = kernel.calls as unknown as EventfdExports;
    const handle = await kernel.callAsync(() => calls.efd_create(initial, semaphore ? 1 : 0));
    if (handle < 0) throw kernelError(handle, { syscall: 'eventfd2' });
    return new WorkerEventfd(kernel, handle, semaphore);
  }

  /**
   * See {@link Eventfds.adopt}. This backend has no generic descriptors: an eventfd handle that
   * arrives over a socket is revived as a `WorkerEventfd` already, which is returned as it is.
   */
  async adopt(object: Eventfd | Descriptor): Promise<Eventfd> {
    if (object instanceof WorkerEventfd) return object;
    throw new TypeError('object must be an Eventfd of this backend (the worker backend has no generic descriptors)');
  }
}

// The record says the mode when it came through spawn; a handle received over a socket is asked.
registerReviver(KIND, (kernel, record) => {
  const handle = record.handles![0]!;
  const data = record.data as { semaphore?: boolean } | undefined;
  return new WorkerEventfd(kernel, handle, data?.semaphore ?? (kernel.calls as unknown as EventfdExports).efd_semaphore(handle) === 1);
});

/** Event counters: this file's part of the worker backend (backend.ts lists it). */
export const eventfdSlice = backendSlice('eventfds', ['eventfd'], (kernel: Kernel) => new WorkerEventfds(kernel));
