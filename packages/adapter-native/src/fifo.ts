/** FIFOs: `mkfifo`, an `open` that waits for the other side on a waiter thread, `unlink`. */
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
import { addon, errorFromErrno } from './addon.js';
import { DescriptorStream } from './descriptor-stream.js';
import { recordPath, recordRemoved } from './ledger.js';
import { registerReviver } from './revive.js';
import { blockingWait } from './wait.js';

const { ENXIO } = Errno;

/** The reading side of an opened FIFO. */
export class NativeFifoReader extends DescriptorStream implements FifoReader {
  constructor(fd: number, readonly path: string) {
    // A FIFO's file has no RWF_NOWAIT: ipcx reads through a private description of its own.
    super(fd, `FIFO reader '${path}'`, 'fifo-reader', { read: true, write: false }, 'private');
  }

  protected override transferData(): unknown {
    return this.path;
  }
}

/** The writing side of an opened FIFO. */
export class NativeFifoWriter extends DescriptorStream implements FifoWriter {
  constructor(fd: number, readonly path: string) {
    super(fd, `FIFO writer '${path}'`, 'fifo-writer', { read: false, write: true }, 'private');
  }

  protected override transferData(): unknown {
    return this.path;
  }
}

/** The native {@link Fifos} factory. */
export class NativeFifos implements Fifos {
  async create(path: string, options?: FifoCreateOptions): Promise<void> {
    const { mode } = checkFifoCreate(path, options);
    addon.mkfifo(path, mode);
    recordPath('fifo', path);
  }

  async openReader(path: string, options?: FifoOpenOptions): Promise<FifoReader> {
    return new NativeFifoReader(await this.open(path, false, options), path);
  }

  async openWriter(path: string, options?: FifoOpenOptions): Promise<FifoWriter> {
    return new NativeFifoWriter(await this.open(path, true, options), path);
  }

  async remove(path: string): Promise<void> {
    checkString('path', path);
    addon.unlink(path);
    recordRemoved('fifo', path);
  }

  /**
   * A writer first tries a non-blocking open, which succeeds at once when a reader is there (no
   * thread). Otherwise, and always for a reader (whose non-blocking open would not wait for a
   * writer), the blocking open runs on a waiter thread that abort and timeout interrupt.
   */
  private async open(path: string, write: boolean, options: FifoOpenOptions | undefined): Promise<number> {
    const { nowait } = checkFifoOpen(path, options);
    if (options?.signal?.aborted) throw abortErrorFor(options.signal);
    if (nowait || write) {
      const fd = addon.openFifoNow(path, write);
      if (fd >= 0) return fd;
      if (nowait || fd !== -ENXIO) throw errorFromErrno(fd, { syscall: 'open', path });
    }
    const object = `FIFO ${write ? 'writer' : 'reader'} '${path}'`;
    return blockingWait<number>((callback) => addon.openFifoWait(path, write, callback), options, { syscall: 'open', object, path });
  }
}

registerReviver('fifo-reader', (record) => new NativeFifoReader(record.handles![0]!, String(record.data)));
registerReviver('fifo-writer', (record) => new NativeFifoWriter(record.handles![0]!, String(record.data)));

/** FIFOs: this file's part of the native backend (backend.ts lists it). */
export const fifoSlice = backendSlice('fifos', ['fifo'], () => new NativeFifos());
