/**
 * FIFOs in the emulated kernel's namespace (assembly/fifo.ts): `create` is `mkfifo`, opening waits
 * for the other side on the FIFO's wait cell, `remove` is `unlink`. Paths are names in the
 * emulated kernel, compared byte for byte (no file system is touched, no folder is resolved).
 */
import {
  Errno,
  abortErrorFor,
  type FifoCreateOptions,
  type FifoOpenOptions,
  type FifoReader,
  type FifoWriter,
  type Fifos,
} from '@ipcx/core';
import { checkFifoCreate, checkFifoOpen, checkString, backendSlice } from '@ipcx/core/backend';
import { kernelError, registerReviver, type Kernel } from './kernel.js';
import { KernelStream } from './stream.js';
import { waitOnCell } from './wait.js';

/** The reading side of an opened FIFO: `read()` gives `null` once every writer has closed. */
export class WorkerFifoReader extends KernelStream implements FifoReader {
  /** Wraps a handle of this thread on the FIFO at `path`. */
  constructor(kernel: Kernel, handle: number, /** The FIFO's path. */ readonly path: string) {
    super(kernel, handle, `FIFO reader '${path}'`, 'fifo-reader', { read: true, write: false });
  }

  protected override transferData(): Record<string, unknown> {
    return { path: this.path };
  }
}

/** The writing side of an opened FIFO: writing with no reader left rejects with `EPIPE`. */
export class WorkerFifoWriter extends KernelStream implements FifoWriter {
  /** Wraps a handle of this thread on the FIFO at `path`. */
  constructor(kernel: Kernel, handle: number, /** The FIFO's path. */ readonly path: string) {
    super(kernel, handle, `FIFO writer '${path}'`, 'fifo-writer', { read: false, write: true });
  }

  protected override transferData(): Record<string, unknown> {
    return { path: this.path };
  }
}

/** The worker backend's {@link Fifos} factory. */
export class WorkerFifos implements Fifos {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /**
   * Creates the FIFO (`mkfifo`). Rejects with `EEXIST` if the path exists, `ENOSPC` when the
   * kernel's object table is full, `ENOMEM` when its memory is, `ENAMETOOLONG` past 4095 bytes.
   */
  async create(path: string, options?: FifoCreateOptions): Promise<void> {
    const { mode: bits } = checkFifoCreate(path, options);
    const result = await this.withPath(path, (at, length) => this.kernel.calls.fifo_create(at, length, bits));
    if (result < 0) throw kernelError(result, { syscall: 'mkfifo', path });
  }

  /** Opens for reading, waiting for a writer unless `nowait`. `ENOENT` if missing; `ETIMEDOUT`/`AbortError` end the wait. */
  async openReader(path: string, options?: FifoOpenOptions): Promise<FifoReader> {
    return new WorkerFifoReader(this.kernel, await this.open(path, false, options), path);
  }

  /** Opens for writing, waiting for a reader; with `nowait`, `ENXIO` when no reader is there. `ENOENT` if missing. */
  async openWriter(path: string, options?: FifoOpenOptions): Promise<FifoWriter> {
    return new WorkerFifoWriter(this.kernel, await this.open(path, true, options), path);
  }

  /** Removes the name (`unlink`); open ends keep working. Rejects with `ENOENT` if missing. */
  async remove(path: string): Promise<void> {
    checkString('path', path);
    const result = await this.withPath(path, (at, length) => this.kernel.calls.fifo_unlink(at, length));
    if (result < 0) throw kernelError(result, { syscall: 'unlink', path });
  }

  /** Puts `path` in this thread's scratch buffer and calls `entry` with it, retrying -EINTR. */
  private withPath(path: string, entry: (at: number, length: number) => number): Promise<number> {
    return this.kernel.callAsync(() => {
      const length = this.kernel.putString(path);
      return length < 0 ? -Errno.ENAMETOOLONG : entry(this.kernel.scratch, length);
    });
  }

  /**
   * As the kernel's fifo_open: the new end is counted at once (the other side sees it), then a
   * blocking open sleeps on the FIFO's wait cell until the other side is open or has come and
   * gone. Cancelling closes the half-open end.
   */
  private async open(path: string, write: boolean, options: FifoOpenOptions | undefined): Promise<number> {
    const { nowait, timeoutMs } = checkFifoOpen(path, options);
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    const { kernel } = this;
    let snapshot = 0;
    const handle = await this.withPath(path, (at, length) => {
      const result = kernel.calls.fifo_open(at, length, write ? 1 : 0, nowait ? 1 : 0);
      snapshot = kernel.calls.second_result();
      return result;
    });
    if (handle < 0) throw kernelError(handle, { syscall: 'open', path });
    const ready = () => (kernel.calls.fifo_open_ready(handle, snapshot) === 1 ? handle : undefined);
    if (nowait || ready() !== undefined) return handle;
    const object = `FIFO ${write ? 'writer' : 'reader'} '${path}'`;
    let opened = false;
    const openedNow = () => {
      const result = ready();
      opened = result !== undefined;
      return result;
    };
    // A wait that ends otherwise (cancelled) gives the half-open handle back.
    return waitOnCell(kernel, kernel.calls.handle_wait_cell(handle), openedNow, options, timeoutMs, { syscall: 'open', object, path }, new Set(), () => {
      if (!opened) void kernel.callAsync(() => kernel.calls.handle_close(handle));
    });
  }
}

registerReviver('fifo-reader', (kernel, record) => new WorkerFifoReader(kernel, record.handles![0]!, String((record.data as { path: string }).path)));
registerReviver('fifo-writer', (kernel, record) => new WorkerFifoWriter(kernel, record.handles![0]!, String((record.data as { path: string }).path)));

/** FIFOs: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const fifoSlice = backendSlice('fifos', ['fifo'], (kernel: Kernel) => new WorkerFifos(kernel));
