/**
 * POSIX message queues over the emulated kernel (assembly/posix-message-queue.ts).
 *
 * A handle is an emulated descriptor (a handle-table entry, END_MQ_READ / END_MQ_WRITE), closed
 * by `close()`, by the finalizer of a forgotten object, or by reaping a worker that ends. Fast
 * path: `send`/`receive` call the kernel at once (as with O_NONBLOCK); on `EAGAIN` the operation
 * sleeps on the queue's wait cell and calls again at each change. Pending receives of one handle
 * are served in call order, and so are pending sends: only the first in line calls the kernel.
 * A cancelled operation has taken or sent nothing.
 *
 * No umask applies to a created queue's mode (the emulated identity has none).
 */
import {
  completedNow,
  abortErrorFor,
  closedError,
  IpcError,
  transferSymbol,
  type PosixMessage,
  type PosixMessageQueue,
  type PosixMessageQueueAccess,
  type PosixMessageQueueAttributes,
  type PosixMessageQueueNotifyOptions,
  type PosixMessageQueueOpenOptions,
  type PosixMessageQueueReceiveOptions,
  type PosixMessageQueueSendOptions,
  type PosixMessageQueues,
  type TransferRecord,
} from '@ipcx/core';
import {
  checkPosixMessageQueueName,
  checkPosixMessageQueueOpen,
  checkPosixMessageQueueReceive,
  checkPosixMessageQueueSend,
  checkWaitOptions,
  posixQueueNotifications,
  checkBytes,
  type CheckedPosixMessageQueueOpen,
  backendSlice,
} from '@ipcx/core/backend';
import { kernelError, registerDescriber, registerReviver, type Kernel, type KernelObject } from './kernel.js';
import { KernelErrno, Kind, Layout, PmqLayout } from './layout.js';
import { BUSY, waitOnCell, wakeCell, type Closers } from './wait.js';

const { EAGAIN, EINTR, ENAMETOOLONG } = KernelErrno;
const TRANSFER_KIND = 'posix-message-queue';
const ACCESS_CODES: Record<PosixMessageQueueAccess, number> = {
  read: PmqLayout.PMQ_ACCESS_READ,
  write: PmqLayout.PMQ_ACCESS_WRITE,
  readwrite: PmqLayout.PMQ_ACCESS_READWRITE,
};

/** An open POSIX message queue handle of the emulated kernel (see {@link PosixMessageQueue}). */
export class WorkerPosixMessageQueue implements PosixMessageQueue, KernelObject {
  private handle: number;
  private readonly objectName: string;
  private readonly cell: number;
  private readonly closers: Closers = new Set();
  private readonly receiveOrder: object[] = [];
  private readonly sendOrder: object[] = [];
  private readonly view: DataView;

  /** Wraps a handle of this thread on the queue `name`, opened for `access`. */
  constructor(
    private readonly kernel: Kernel,
    handle: number,
    /** The queue's name, e.g. `'/jobs'`. */
    readonly name: string,
    /** The directions this handle was opened for. */
    readonly access: PosixMessageQueueAccess,
  ) {
    this.handle = handle;
    this.objectName = `POSIX message queue '${name}'`;
    this.cell = kernel.calls.handle_wait_cell(handle);
    this.view = new DataView(kernel.memory.buffer);
    kernel.track(this, handle);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.handle === 0;
  }

  /** What `JSON.stringify` gives: a short description (not the kernel or its memory, which would never finish as JSON). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.describe(), closed: this.closed };
  }

  /** For leak reports: the name and handle. */
  describe(): string {
    return `${this.objectName} (handle ${this.handle})`;
  }

  /** See {@link PosixMessageQueue.send}: `mq_send` at once; on a full queue, waits on its wait cell, behind earlier sends of this handle. */
  send(data: Uint8Array | string, options?: PosixMessageQueueSendOptions): Promise<void> {
    try {
      const bytes = checkBytes('data', data);
      const { priority, nowait, timeoutMs } = checkPosixMessageQueueSend(options);
      if (this.closed) throw closedError(this.objectName, 'mq_send');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (this.sendOrder.length === 0) {
        // A busy kernel lock is retried a few times here; still busy, a blocking send waits for it.
        const result = this.kernel.call(() => this.trySend(bytes, priority));
        if (result === 0) return completedNow(undefined);
        if ((result !== -EAGAIN && result !== -EINTR) || nowait) throw this.error(result === -EINTR ? -EAGAIN : result, 'mq_send');
      } else if (nowait) {
        throw this.error(-EAGAIN, 'mq_send');
      }
      const copy = bytes.slice();
      return this.inOrder(this.sendOrder, 'mq_timedsend', options, timeoutMs, () => {
        const result = this.trySend(copy, priority);
        if (result === 0) return true as const;
        if (result === -EAGAIN) return undefined;
        if (result === -EINTR) return BUSY;
        throw this.error(result, 'mq_send');
      }).then(() => undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixMessageQueue.receive}: `mq_receive` at once; on an empty queue, waits on its wait cell, behind earlier receives of this handle. */
  receive(options?: PosixMessageQueueReceiveOptions): Promise<PosixMessage> {
    try {
      const { nowait, timeoutMs } = checkPosixMessageQueueReceive(options);
      if (this.closed) throw closedError(this.objectName, 'mq_receive');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (options?.maxBytes !== undefined) this.checkReceiveBuffer(options.maxBytes);
      if (this.receiveOrder.length === 0) {
        let result = this.tryReceive();
        for (let tries = 0; result === -EINTR && tries < 4; tries++) result = this.tryReceive();
        if (typeof result !== 'number') return completedNow(result);
        if ((result !== -EAGAIN && result !== -EINTR) || nowait) throw this.error(result === -EINTR ? -EAGAIN : result, 'mq_receive');
      } else if (nowait) {
        throw this.error(-EAGAIN, 'mq_receive');
      }
      return this.inOrder(this.receiveOrder, 'mq_timedreceive', options, timeoutMs, () => {
        const result = this.tryReceive();
        if (typeof result !== 'number') return result;
        if (result === -EAGAIN) return undefined;
        if (result === -EINTR) return BUSY;
        throw this.error(result, 'mq_receive');
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixMessageQueue.attributes} (`mq_getattr`). */
  attributes(): PosixMessageQueueAttributes {
    if (this.closed) throw closedError(this.objectName, 'mq_getattr');
    const field = (which: number) => {
      const value = this.kernel.calls.pmq_attr(this.handle, which);
      if (value < 0) throw this.error(value, 'mq_getattr');
      return value;
    };
    return {
      maxMessages: field(PmqLayout.PMQ_ATTR_MAXMSG),
      messageSize: field(PmqLayout.PMQ_ATTR_MSGSIZE),
      currentMessages: field(PmqLayout.PMQ_ATTR_CURMSGS),
    };
  }

  /**
   * See {@link PosixMessageQueue.notify}: registers in the kernel (`pmq_notify`, EBUSY as Linux
   * answers), then sleeps on the queue's wait cell until its registration fired or was removed.
   * Cancelling unregisters (only this registration: a later one of this thread stays).
   */
  notify(options?: PosixMessageQueueNotifyOptions): Promise<void> {
    try {
      const timeoutMs = checkWaitOptions(options);
      if (this.closed) throw closedError(this.objectName, 'mq_notify');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const serial = this.kernel.call(() => this.kernel.calls.pmq_notify(this.handle));
      if (serial < 0) throw this.error(serial === -EINTR ? -EAGAIN : serial, 'mq_notify');
      let fired = false;
      return waitOnCell<true>(
        this.kernel,
        this.cell,
        () => {
          const state = this.kernel.calls.pmq_notify_state(this.handle, serial);
          if (state === -EINTR) return BUSY;
          if (state === PmqLayout.PMQ_NOTIFY_PENDING) return undefined;
          if (state === PmqLayout.PMQ_NOTIFY_FIRED) return (fired = true);
          if (state === PmqLayout.PMQ_NOTIFY_REMOVED) throw new IpcError('ECANCELED', { syscall: 'mq_notify', object: this.objectName, path: this.name });
          throw this.error(state, 'mq_notify');
        },
        options,
        timeoutMs,
        { syscall: 'mq_notify', object: this.objectName, path: this.name },
        this.closers,
        () => {
          // Cancelled (or closed): mq_notify(NULL). A closed handle's registration went with it.
          if (!fired && !this.closed) this.kernel.call(() => this.kernel.calls.pmq_notify_cancel(this.handle, serial));
        },
      ).then(() => undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixMessageQueue.notifications}. */
  notifications(options?: PosixMessageQueueNotifyOptions): AsyncIterableIterator<void> {
    return posixQueueNotifications((armed) => this.notify(armed), options);
  }

  /**
   * A receive buffer of `maxBytes` (see {@link PosixMessageQueueReceiveOptions.maxBytes}): throws
   * what Linux's mq_receive answers for one smaller than the queue's message size, `EBADF` on a
   * handle not opened for reading first, else `EMSGSIZE`, taking nothing.
   */
  private checkReceiveBuffer(maxBytes: number): void {
    const size = this.kernel.calls.pmq_attr(this.handle, PmqLayout.PMQ_ATTR_MSGSIZE);
    if (size < 0) throw this.error(size, 'mq_receive');
    if (maxBytes >= size) return;
    throw this.error(this.access === 'write' ? -KernelErrno.EBADF : -KernelErrno.EMSGSIZE, 'mq_receive');
  }

  /** Gives up the handle (`mq_close`); pending operations reject with `EBADF`. The name stays. */
  async close(): Promise<void> {
    if (this.closed) return;
    const handle = this.handle;
    this.handle = 0;
    for (const closed of [...this.closers]) closed();
    this.kernel.untrack(this);
    await this.kernel.callAsync(() => this.kernel.calls.handle_close(handle));
  }

  /** `await using` closes the handle (the name stays). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels by name, as on Linux (descriptors close on exec): the worker opens the queue again with the same access. */
  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return { kind: TRANSFER_KIND, data: { kernel: this.kernel.id, name: this.name, access: this.access } };
  }

  /** Runs `attempt` on the wait cell once this operation is first in `order` (this handle's receives, or its sends). */
  private inOrder<T>(
    order: object[],
    syscall: string,
    options: PosixMessageQueueReceiveOptions | undefined,
    timeoutMs: number,
    attempt: () => T | undefined | typeof BUSY,
  ): Promise<T> {
    const token = {};
    order.push(token);
    return waitOnCell<T>(
      this.kernel,
      this.cell,
      () => (order[0] === token ? attempt() : undefined),
      options,
      timeoutMs,
      { syscall, object: this.objectName, path: this.name },
      this.closers,
      () => {
        const first = order[0] === token;
        order.splice(order.indexOf(token), 1);
        // The next one in line must try now: wake it (it sleeps on the same cell).
        if (first && order.length > 0) wakeCell(this.kernel, this.cell);
      },
    );
  }

  /** One non-blocking `mq_send`: 0 or -errno. */
  private trySend(bytes: Uint8Array, priority: number): number {
    const { calls, scratch } = this.kernel;
    if (bytes.length <= Layout.SCRATCH_BYTES) {
      this.kernel.bytes.set(bytes, scratch);
      return calls.pmq_send(this.handle, scratch, bytes.length, priority);
    }
    // Larger than the scratch buffer (only root's queues allow it): the kernel hands out the
    // message's own block, this thread fills it, and the kernel queues it.
    const at = calls.pmq_send_block(this.handle, bytes.length, priority);
    if (at < 0) return at;
    this.kernel.bytes.set(bytes, at);
    return calls.pmq_send_held(this.handle);
  }

  /** One non-blocking `mq_receive`: the message, or -errno. */
  private tryReceive(): PosixMessage | number {
    const { calls, scratch, bytes } = this.kernel;
    const n = calls.pmq_receive(this.handle, scratch);
    if (n < 0) return n;
    const at = this.view.getUint32(scratch + PmqLayout.PMQ_RECEIVED_AT, true);
    const priority = this.view.getUint32(scratch + PmqLayout.PMQ_RECEIVED_PRIORITY, true);
    const data = bytes.slice(at, at + n);
    // Give the block back now; if the kernel is busy, this thread's next receive (or its reaping) frees it.
    this.kernel.call(() => calls.pmq_release());
    return { data, priority };
  }

  private error(result: number, syscall: string): IpcError {
    return kernelError(result, { syscall, object: this.objectName, path: this.name });
  }
}

/** One `mq_open` of `name` with checked options (never waits): the handle or -errno (-EINTR: kernel busy). */
function openCall(kernel: Kernel, name: string, options: CheckedPosixMessageQueueOpen): number {
  const length = kernel.putString(name);
  if (length < 0) return -ENAMETOOLONG;
  return kernel.calls.pmq_open(
    kernel.scratch,
    length,
    ACCESS_CODES[options.access],
    options.create ? 1 : 0,
    options.exclusive ? 1 : 0,
    options.mode,
    options.maxMessages ?? -1,
    options.messageSize ?? -1,
  );
}

/** The queue object for the result of {@link openCall}, or throws its IpcError. */
function opened(kernel: Kernel, handle: number, name: string, access: PosixMessageQueueAccess): WorkerPosixMessageQueue {
  if (handle < 0) throw kernelError(handle, { syscall: 'mq_open', path: name });
  return new WorkerPosixMessageQueue(kernel, handle, name, access);
}

/** The worker backend's {@link PosixMessageQueues} factory. */
export class WorkerPosixMessageQueues implements PosixMessageQueues {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /**
   * See {@link PosixMessageQueues.open}. Limits as Linux's defaults: 10 messages of 8192 bytes by
   * default and at most (`EINVAL` beyond; root: 65536 and 16 MiB), 256 queues for non-root users
   * (`ENOSPC`), 819200 bytes of queues per user (`EMFILE`); `ENOSPC`/`ENOMEM` when the kernel's
   * object table or memory is full.
   */
  async open(name: string, options?: PosixMessageQueueOpenOptions): Promise<PosixMessageQueue> {
    checkPosixMessageQueueName(name);
    const checked = checkPosixMessageQueueOpen(options);
    // mq_attr carries both sizes or none: the one not given takes the system default.
    const sized =
      checked.maxMessages === undefined && checked.messageSize === undefined
        ? checked
        : { ...checked, maxMessages: checked.maxMessages ?? PmqLayout.PMQ_MSG_DEFAULT, messageSize: checked.messageSize ?? PmqLayout.PMQ_MSGSIZE_DEFAULT };
    const handle = await this.kernel.callAsync(() => openCall(this.kernel, name, sized));
    return opened(this.kernel, handle, name, checked.access);
  }

  /** See {@link PosixMessageQueues.unlink} (`mq_unlink`): `ENOENT` if missing; `EPERM` for another user's queue (the mqueue root is sticky). */
  async unlink(name: string): Promise<void> {
    checkPosixMessageQueueName(name);
    const { kernel } = this;
    const result = await kernel.callAsync(() => {
      const length = kernel.putString(name);
      return length < 0 ? -ENAMETOOLONG : kernel.calls.pmq_unlink(kernel.scratch, length);
    });
    if (result < 0) throw kernelError(result, { syscall: 'mq_unlink', path: name });
  }
}

registerReviver(TRANSFER_KIND, (kernel, record) => {
  const { name, access } = record.data as { name: string; access: PosixMessageQueueAccess };
  // Reviving is synchronous: a kernel still busy after a few tries is reported as EINTR.
  return opened(kernel, kernel.call(() => openCall(kernel, name, checkPosixMessageQueueOpen({ access }))), name, access);
});

registerDescriber(Kind.KIND_PMQ, (kernel, id) => {
  const length = kernel.call(() => kernel.calls.object_name(id, kernel.scratch, Layout.NAME_MAX_BYTES));
  // An unlinked queue still open somewhere has no name: its handles are reported by openObjects.
  return length > 0 ? `posix message queue ${kernel.getString(kernel.scratch, length)}` : undefined;
});

/** POSIX message queues: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const posixMessageQueueSlice = backendSlice('posixMessageQueues', ['posix-message-queue'], (kernel: Kernel) => new WorkerPosixMessageQueues(kernel));
