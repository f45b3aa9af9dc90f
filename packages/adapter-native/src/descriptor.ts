/**
 * The generic descriptor: any descriptor that is no pipe, FIFO or socket ipcx knows (a regular
 * file, a directory, a memfd, an eventfd, a character device, ...), as it arrives over SCM_RIGHTS
 * or in spawn args. Reads and writes try `preadv2`/`pwritev2` with RWF_NOWAIT on the calling
 * thread (a page in the cache, a ready eventfd) and otherwise run on a waiter thread
 * (descriptor.cc, DescriptorIo), never on libuv's pool and never blocking the event loop.
 */
import { constants } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import {
  Errno,
  abortErrorFor,
  closedError,
  completedNow,
  iterateReader,
  readerToWebStream,
  transferSymbol,
  writerToWebStream,
  type Descriptor,
  type DescriptorReadOptions,
  type DescriptorStat,
  type DescriptorType,
  type DescriptorWriteOptions,
  type TransferRecord,
} from '@ipcx/core';
import { checkDescriptorRead, checkDescriptorWrite, checkBytes } from '@ipcx/core/backend';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { readSized } from './descriptor-stream.js';
import { GENERIC_DESCRIPTOR_KIND, registerReviver } from './revive.js';
import { blockingWait, bufferGoneError, type PendingWait, type WaitOwner } from './wait.js';

/** The addon functions of descriptor.cc for generic descriptors. Numbers are `-errno` on failure. */
interface GenericDescriptorAddon {
  describe(fd: number): { type: DescriptorType; access: 'read' | 'write' | 'readwrite' };
  stat(fd: number): DescriptorStat;
  dup(fd: number): number;
  close(fd: number): number;
  ioNow(fd: number, write: boolean, bytes: Uint8Array, offset: number, length: number, position: number): number;
  /** A read passes `bytes` null and `length` its maxBytes (the thread sizes its buffer by what arrives). */
  ioWait(fd: number, write: boolean, bytes: Uint8Array | null, offset: number, length: number, position: number, callback: WaitCallback): number;
}

const native = addon as unknown as GenericDescriptorAddon;

const { EAGAIN, EOPNOTSUPP } = Errno;

/** The native generic {@link Descriptor}. */
export class NativeDescriptor implements Descriptor, TrackedObject, WaitOwner {
  readonly type: DescriptorType;
  readonly access: 'read' | 'write' | 'readwrite';
  /** Reads and writes in flight on waiter threads (close cancels them). */
  readonly pendingWaits = new Set<PendingWait>();
  private handle: number;

  /** Takes ownership of `fd` (closed by `close()`, or when this object is garbage-collected). */
  constructor(fd: number) {
    const info = native.describe(fd);
    this.handle = fd;
    this.type = info.type;
    this.access = info.access;
    track(this, { fds: [fd], polls: [] });
  }

  get fd(): number {
    return this.handle;
  }

  get closed(): boolean {
    return this.handle < 0;
  }

  describe(): string {
    return `descriptor (${this.type}, fd ${this.handle})`;
  }

  stat(): DescriptorStat {
    if (this.closed) throw closedError(this.describe(), 'fstat');
    return native.stat(this.handle);
  }

  dup(): NativeDescriptor {
    if (this.closed) throw closedError(this.describe(), 'fcntl');
    return new NativeDescriptor(native.dup(this.handle));
  }

  read(options?: DescriptorReadOptions): Promise<Uint8Array | null> {
    try {
      const { maxBytes, position } = checkDescriptorRead(options);
      if (this.closed) throw closedError(this.describe(), 'read');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const syscall = position >= 0 ? 'pread' : 'read';
      // Memory sized by what the kernel delivers, not by maxBytes (see readSized); `offset` is
      // also how far past `position` a later call of the same read reads.
      const fd = this.handle;
      const result = readSized((buffer, offset, length) => native.ioNow(fd, false, buffer, offset, length, position >= 0 ? position + offset : -1), maxBytes);
      if (typeof result !== 'number') return completedNow(result);
      if (result === 0) return completedNow(null);
      if (result !== -EAGAIN && result !== -EOPNOTSUPP) throw errorFromErrno(result, { syscall, object: this.describe() });
      return blockingWait<Buffer>((callback) => native.ioWait(fd, false, null, 0, maxBytes, position, callback), options, { syscall, object: this.describe() }, this).then((bytes) =>
        bytes.length === 0 ? null : bytes,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  write(data: Uint8Array | string, options?: DescriptorWriteOptions): Promise<number> {
    try {
      const bytes = checkBytes('data', data);
      const { position } = checkDescriptorWrite(options);
      if (this.closed) throw closedError(this.describe(), 'write');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      return this.writeFrom(bytes, 0, position, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes bytes[offset..] (a write may be partial), at the file offset or from `position` on. */
  private async writeFrom(bytes: Uint8Array, offset: number, position: number, options: DescriptorWriteOptions | undefined): Promise<number> {
    const syscall = position >= 0 ? 'pwrite' : 'write';
    // The length at the call: the caller may detach its buffer while a part waits on a thread
    // (which writes its own copy), and the rest must not then be taken for 0 bytes.
    const length = bytes.length;
    while (offset < length || length === 0) {
      if (this.closed) throw closedError(this.describe(), syscall);
      const gone = bufferGoneError('data', bytes, length, 'write', `${offset} of ${length} bytes had been written`);
      if (gone !== undefined) throw gone;
      const at = position >= 0 ? position + offset : -1;
      let n = native.ioNow(this.handle, true, bytes, offset, length - offset, at);
      if (n === -EAGAIN || n === -EOPNOTSUPP) {
        const fd = this.handle;
        n = await blockingWait<number>((callback) => native.ioWait(fd, true, bytes, offset, length - offset, at, callback), options, { syscall, object: this.describe() }, this);
      } else if (n < 0) {
        throw errorFromErrno(n, { syscall, object: this.describe() });
      }
      if (length === 0) break;
      offset += n;
    }
    return length;
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

  /** A Node `Readable` of the bytes from the file offset to end of file (destroying it closes this descriptor). */
  toReadable(): Readable {
    const readable = Readable.from(this as AsyncIterable<Uint8Array>, { objectMode: false });
    readable.once('close', () => void this.close());
    return readable;
  }

  /** A Node `Writable` writing at the file offset (ending or destroying it closes this descriptor). */
  toWritable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        this.close().then(() => callback(), callback);
      },
      destroy: (error, callback) => {
        this.close().then(() => callback(error), callback);
      },
    });
  }

  /**
   * A Node `fs.promises.FileHandle` for the same file, opened again through `/proc/self/fd/N`
   * with this descriptor's access mode: a new open file description with its own file offset
   * (the kernel refuses it for sockets, eventfds and other anonymous descriptors: `ENXIO`).
   * Close it separately. Node runs its calls on libuv's thread pool.
   */
  toFileHandle(): Promise<FileHandle> {
    if (this.closed) return Promise.reject(closedError(this.describe(), 'open'));
    const flags = this.access === 'read' ? constants.O_RDONLY : this.access === 'write' ? constants.O_WRONLY : constants.O_RDWR;
    return openFile(`/proc/self/fd/${this.handle}`, flags);
  }

  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.describe(), 'transfer');
    return { kind: GENERIC_DESCRIPTOR_KIND, handles: [this.handle] };
  }

  /** Gives up the descriptor; reads and writes waiting on threads reject with EBADF. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const fd = this.handle;
    this.handle = -1;
    for (const pending of [...this.pendingWaits]) pending.cancel('close');
    native.close(fd);
    untrack(this);
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

registerReviver(GENERIC_DESCRIPTOR_KIND, (record) => new NativeDescriptor(record.handles![0]!));
