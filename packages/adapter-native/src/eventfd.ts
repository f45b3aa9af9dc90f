/**
 * Linux event counters over the real `eventfd2` (native/eventfd.cc). The descriptor stays
 * blocking, as C and Python programs expect; ipcx's own calls do not wait by themselves:
 * - a read is `preadv2(RWF_NOWAIT)` on the calling thread, then (after the shared adaptive spin)
 *   waits for readability in the poller, as a pipe read does: no thread per read;
 * - a write is made on the calling thread under a short guard timer (see eventfd.cc) and only a
 *   write that has to wait for room (the counter would overflow) goes to a waiter thread, which
 *   `signal`, `timeout` and `close()` interrupt (nothing is added then).
 */
import {
  abortErrorFor,
  closedError,
  completedNow,
  type Descriptor,
  type Eventfd,
  type EventfdOptions,
  type Eventfds,
  type NowaitOptions,
} from '@ipcx/core';
import { checkEventfdCreate, checkEventfdRead, checkEventfdWrite, backendSlice } from '@ipcx/core/backend';
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { NativeDescriptor } from './descriptor.js';
import { DescriptorObject, WOULD_BLOCK, type Attempt } from './descriptor-stream.js';
import { registerReviver } from './revive.js';
import { blockingWait, type PendingWait, type WaitOwner } from './wait.js';

/** The addon functions of eventfd.cc. Numbers are `-errno` on failure. */
interface EventfdAddon {
  eventfdCreate(initial: number, semaphore: boolean): number;
  eventfdSemaphore(fd: number): number;
  eventfdReadNow(fd: number): bigint | number;
  eventfdWriteNow(fd: number, value: bigint): number;
  eventfdWriteWait(fd: number, value: bigint, callback: WaitCallback): number;
  /** descriptor.cc: fcntl(F_DUPFD_CLOEXEC); throws IpcError. */
  dup(fd: number): number;
}

const native = addon as unknown as EventfdAddon;

const EAGAIN = 11;
/** The transfer kind (spawn args, and what a received eventfd descriptor is revived as). */
const KIND = 'eventfd';

/** The native {@link Eventfd}: one descriptor of a kernel event counter. */
export class NativeEventfd extends DescriptorObject implements Eventfd, WaitOwner {
  /** Writes waiting for room on waiter threads (close cancels them). */
  readonly pendingWaits = new Set<PendingWait>();

  /** Takes ownership of `fd`, an eventfd made in `semaphore` mode or not. */
  constructor(
    fd: number,
    /** See {@link Eventfd.semaphore}. */
    readonly semaphore: boolean,
  ) {
    super(fd, semaphore ? 'eventfd (semaphore)' : 'eventfd', KIND, 'nowait');
  }

  /** See {@link Eventfd.read}. */
  read(options?: NowaitOptions): Promise<bigint> {
    try {
      const { nowait, timeoutMs } = checkEventfdRead(options);
      if (this.closed) throw closedError(this.objectName, 'read');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const attempt: Attempt<bigint> = () => {
        const result = native.eventfdReadNow(this.handle);
        if (typeof result === 'bigint') return result;
        return result === -EAGAIN ? WOULD_BLOCK : errorFromErrno(result, { syscall: 'read', object: this.objectName });
      };
      return this.perform('read', attempt, options, nowait, timeoutMs, 'read');
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
      const now = native.eventfdWriteNow(this.handle, checked.value);
      if (now === 0) return completedNow(undefined);
      if (now !== -EAGAIN || checked.nowait) throw errorFromErrno(now, { syscall: 'write', object: this.objectName });
      const fd = this.handle;
      return blockingWait<void>((callback) => native.eventfdWriteWait(fd, checked.value, callback), options, { syscall: 'write', object: this.objectName }, this);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Gives up this descriptor: pending reads and writes reject with `EBADF`. */
  override close(): Promise<void> {
    for (const pending of [...this.pendingWaits]) pending.cancel('close');
    return super.close();
  }

  protected override transferData(): unknown {
    return { semaphore: this.semaphore };
  }
}

/** The native {@link Eventfds} factory. */
export class NativeEventfds implements Eventfds {
  /** See {@link Eventfds.create}. */
  async create(options?: EventfdOptions): Promise<Eventfd> {
    const { initial, semaphore } = checkEventfdCreate(options);
    return new NativeEventfd(native.eventfdCreate(initial, semaphore), semaphore);
  }

  /**
   * See {@link Eventfds.adopt}: a generic descriptor of an eventfd (what one becomes when it
   * arrives over SCM_RIGHTS, which carries no ipcx kind) is duplicated into a `NativeEventfd`, in
   * the mode /proc/self/fdinfo reports, and closed.
   */
  async adopt(object: Eventfd | Descriptor): Promise<Eventfd> {
    if (object instanceof NativeEventfd) return object;
    if (!(object instanceof NativeDescriptor)) throw new TypeError('object must be an Eventfd or a Descriptor of an eventfd of this backend');
    if (object.closed) throw closedError(object.describe(), 'fcntl');
    if (object.type !== 'eventfd') throw new TypeError(`object is a descriptor of type '${object.type}', not an eventfd`);
    const fd = native.dup(object.fd);
    await object.close();
    return new NativeEventfd(fd, native.eventfdSemaphore(fd) === 1);
  }
}

// In a child (spawn args) the record says the mode.
registerReviver(KIND, (record) => {
  const fd = record.handles![0]!;
  const data = record.data as { semaphore?: boolean } | undefined;
  return new NativeEventfd(fd, data?.semaphore ?? native.eventfdSemaphore(fd) === 1);
});

/** Event counters: this file's part of the native backend (backend.ts lists it). */
export const eventfdSlice = backendSlice('eventfds', ['eventfd'], () => new NativeEventfds());
