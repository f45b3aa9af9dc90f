/**
 * POSIX named semaphores in the emulated kernel (assembly/posix-semaphore.ts): `sem_open` gives a
 * handle (an emulated descriptor, closed by `sem_close` or when its worker ends), `sem_unlink`
 * removes the name, and the semaphore goes with its last handle.
 *
 * `wait` tries `sem_trywait` on the calling thread first; while the value is zero it sleeps on
 * the semaphore's wait cell (bumped by every post, in any thread) with `Atomics.waitAsync` and
 * tries again when it changes, as glibc's futex waiters do. A unit is only ever taken by a
 * successful try on this thread, so a cancelled wait has taken nothing. A timeout rejects with
 * `ETIMEDOUT`, as `sem_timedwait` does.
 *
 * Names follow glibc: leading slashes are dropped (`'/jobs'` and `'jobs'` are one semaphore), the
 * rest must be non-empty without `/` (`EINVAL`) and at most 251 bytes (`ENAMETOOLONG`). Modes are
 * stored as given (there is no umask here) and checked against the emulated identity.
 *
 * Unnamed semaphores live inside a shared-memory segment: `init`/`attach` delegate to
 * `./posix-semaphore-unnamed.js`, which comes with the worker backend's shared memory.
 */
import {
  Errno,
  completedNow,
  abortErrorFor,
  closedError,
  transferSymbol,
  type PosixSemaphore,
  type PosixSemaphoreOpenOptions,
  type PosixSemaphoreWaitOptions,
  type PosixSemaphores,
  type SharedSegment,
  type TransferRecord,
} from '@ipcx/core';
import {
  checkPosixSemaphoreInitial,
  checkPosixSemaphoreOpen,
  checkPosixSemaphoreWait,
  checkString,
  backendSlice,
} from '@ipcx/core/backend';
import { kernelError, registerReviver, type Kernel, type KernelObject, type PendingWait } from './kernel.js';
import { KernelErrno } from './layout.js';
import { attachUnnamed, initUnnamed } from './posix-semaphore-unnamed.js';
import { cancellationError, wakeCell, waitForChange, watchCancellation } from './wait.js';

const KIND = 'posix-semaphore';
/** glibc's limit: `sem.` + name must fit NAME_MAX (255). */
const NAME_MAX_BYTES = 251;
const { EAGAIN, EBADF, EINTR } = KernelErrno;
const { EINVAL, ENAMETOOLONG, ETIMEDOUT } = Errno;
const encoder = new TextEncoder();

/** An open POSIX named semaphore of the emulated kernel. */
export class WorkerPosixSemaphore implements PosixSemaphore, KernelObject {
  private handle: number;
  private readonly cell: number;
  private readonly pending = new Set<PendingWait>();
  private readonly objectName: string;

  /** Wraps a handle of this thread on the semaphore opened as `name`. */
  constructor(
    private readonly kernel: Kernel,
    handle: number,
    /** See {@link PosixSemaphore.name}. */
    readonly name: string,
  ) {
    this.handle = handle;
    this.cell = kernel.calls.handle_wait_cell(handle);
    this.objectName = `POSIX semaphore '${name}'`;
    kernel.track(this, handle);
  }

  /** See {@link PosixSemaphore.closed}. */
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

  /** See {@link PosixSemaphore.wait}. */
  wait(options?: PosixSemaphoreWaitOptions): Promise<void> {
    try {
      const { nowait: wantNowait, signal, timeoutMs } = checkPosixSemaphoreWait(options);
      this.ensureOpen('sem_wait');
      if (signal?.aborted) throw abortErrorFor(signal);
      const first = this.tryTake();
      if (first === 0) return completedNow(undefined);
      if (first !== -EAGAIN && first !== -EINTR) throw kernelError(first, { syscall: 'sem_trywait', path: this.name, object: this.objectName });
      if (wantNowait && first === -EAGAIN) throw kernelError(first, { syscall: 'sem_trywait', path: this.name, object: this.objectName });
      // A zero timeout: sem_timedwait with a deadline already past fails with ETIMEDOUT.
      if (timeoutMs === 0 && first === -EAGAIN) throw kernelError(-ETIMEDOUT, { syscall: 'sem_timedwait', path: this.name, object: this.objectName });
      return this.sleepUntilTaken(wantNowait, timeoutMs, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixSemaphore.tryWait}. */
  tryWait(): boolean {
    this.ensureOpen('sem_trywait');
    const result = this.kernel.call(() => this.tryTake());
    if (result === 0) return true;
    if (result === -EAGAIN) return false;
    throw kernelError(result, { syscall: 'sem_trywait', path: this.name, object: this.objectName });
  }

  /** See {@link PosixSemaphore.post}: wakes the threads waiting on it (one of them takes the unit). */
  post(): void {
    this.ensureOpen('sem_post');
    const result = this.kernel.call(() => this.kernel.calls.psem_post(this.handle));
    if (result < 0) throw kernelError(result, { syscall: 'sem_post', path: this.name, object: this.objectName });
  }

  /** See {@link PosixSemaphore.value}. */
  value(): number {
    this.ensureOpen('sem_getvalue');
    const result = this.kernel.calls.psem_value(this.handle);
    if (result < 0) throw kernelError(result, { syscall: 'sem_getvalue', path: this.name, object: this.objectName });
    return result;
  }

  /** `sem_close`: pending waits reject with `EBADF`, then the handle closes. The semaphore lives on until unlinked and closed everywhere. */
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

  /**
   * Travels with its handle, duplicated to the child by `processes.spawn` (as a forked process
   * inherits the mapping), so the child reaches it even if the name is unlinked meanwhile.
   */
  [transferSymbol](): TransferRecord {
    this.ensureOpen('transfer');
    return { kind: KIND, data: { kernel: this.kernel.id, name: this.name }, handles: [this.handle] };
  }

  private tryTake(): number {
    return this.handle === 0 ? -EBADF : this.kernel.calls.psem_try_wait(this.handle);
  }

  private sleepUntilTaken(nowait: boolean, timeoutMs: number, options: PosixSemaphoreWaitOptions | undefined): Promise<void> {
    const { kernel, cell } = this;
    const details = { syscall: Number.isFinite(timeoutMs) ? 'sem_timedwait' : 'sem_wait', object: this.objectName, path: this.name };
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const pending: PendingWait = {
        cancel: (reason) => {
          if (done) return;
          done = true;
          stopWatching();
          this.pending.delete(pending);
          // End this wait's own sleep; other waiters on the cell just try again.
          wakeCell(kernel, cell);
          reject(cancellationError(reason, options, details));
        },
      };
      const stopWatching = watchCancellation(options, timeoutMs, (reason) => pending.cancel(reason));
      this.pending.add(pending);
      const step = (): void => {
        if (done) return;
        // Read the cell before trying: a post after this load wakes the sleep below at once.
        const seen = Atomics.load(kernel.cells, cell >>> 2);
        const result = this.tryTake();
        if (result === -EAGAIN && nowait) {
          done = true;
          stopWatching();
          this.pending.delete(pending);
          reject(kernelError(result, { ...details, syscall: 'sem_trywait' }));
          return;
        }
        if (result === -EAGAIN || result === -EINTR) {
          // A busy kernel announces nothing: look again within 1 ms.
          void waitForChange(kernel, cell, seen, result === -EINTR ? 1 : Infinity).then(step);
          return;
        }
        done = true;
        stopWatching();
        this.pending.delete(pending);
        if (result === 0) resolve();
        else reject(kernelError(result, details));
      };
      step();
    });
  }

  private ensureOpen(syscall: string): void {
    if (this.closed) throw closedError(this.objectName, syscall);
  }
}

/**
 * The name as glibc hands it to /dev/shm (leading slashes dropped), UTF-8, or the `IpcError` that
 * `syscall` gives for it.
 */
function kernelName(name: string, syscall: string): Uint8Array {
  const bytes = encoder.encode(name.replace(/^\/+/, ''));
  const fail = (errno: number) => kernelError(-errno, { syscall, path: name });
  if (bytes.length === 0 || bytes.includes(0x2f)) throw fail(EINVAL);
  if (bytes.length > NAME_MAX_BYTES) throw fail(ENAMETOOLONG);
  return bytes;
}

/** The worker backend's {@link PosixSemaphores} factory. */
export class WorkerPosixSemaphores implements PosixSemaphores {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /** See {@link PosixSemaphores.open}. `ENOSPC` when the kernel's object table is full, `ENOMEM` when its memory is. */
  async open(name: string, options?: PosixSemaphoreOpenOptions): Promise<PosixSemaphore> {
    const { create: wantCreate, exclusive: wantExclusive, mode: permissions, initial: value } = checkPosixSemaphoreOpen(name, options);
    const bytes = kernelName(name, 'sem_open');
    const { kernel } = this;
    const handle = await kernel.callAsync(() => {
      kernel.bytes.set(bytes, kernel.scratch);
      return kernel.calls.psem_open(kernel.scratch, bytes.length, wantCreate ? 1 : 0, wantExclusive ? 1 : 0, permissions, value);
    });
    if (handle < 0) throw kernelError(handle, { syscall: 'sem_open', path: name });
    return new WorkerPosixSemaphore(kernel, handle, name);
  }

  /** See {@link PosixSemaphores.unlink}. */
  async unlink(name: string): Promise<void> {
    checkString('name', name);
    const bytes = kernelName(name, 'sem_unlink');
    const { kernel } = this;
    const result = await kernel.callAsync(() => {
      kernel.bytes.set(bytes, kernel.scratch);
      return kernel.calls.psem_unlink(kernel.scratch, bytes.length);
    });
    if (result < 0) throw kernelError(result, { syscall: 'sem_unlink', path: name });
  }

  /** See {@link PosixSemaphores.init}: an unnamed semaphore inside a segment of this backend. */
  async init(segment: SharedSegment, byteOffset: number, initial?: number): Promise<PosixSemaphore> {
    const value = checkPosixSemaphoreInitial(initial);
    return initUnnamed(segment, byteOffset, value);
  }

  /** See {@link PosixSemaphores.attach}. */
  async attach(segment: SharedSegment, byteOffset: number): Promise<PosixSemaphore> {
    return attachUnnamed(segment, byteOffset);
  }
}

registerReviver(KIND, (kernel, record) => new WorkerPosixSemaphore(kernel, record.handles![0]!, String((record.data as { name: string }).name)));

/** POSIX semaphores: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const posixSemaphoreSlice = backendSlice('posixSemaphores', ['posix-semaphore'], (kernel: Kernel) => new WorkerPosixSemaphores(kernel));
