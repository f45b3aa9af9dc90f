/**
 * System V message queues over the emulated kernel (assembly/message-queue.ts).
 *
 * A queue has no descriptor: a {@link WorkerMessageQueue} holds its id (msqid) and the address of
 * its wait cell. Fast path: `send`/`receive` call the kernel at once on the calling thread (as
 * `IPC_NOWAIT`); only on `EAGAIN` (full) or `ENOMSG` (nothing matches) does the operation sleep on
 * the queue's wait cell (`Atomics.waitAsync`, after a short spin) and call again at each change.
 * Cancelling (signal, timeout, close) stops calling: a cancelled operation has taken or queued
 * nothing, since every attempt is one synchronous call that either completes or changes nothing.
 *
 * `ftok`: the emulated kernel has no file system, so a key is a hash of the path string (FNV-1a,
 * low 24 bits) with the project id in the top 8 bits, as ftok puts it there. Like ftok, it fails
 * when the path cannot be examined (`ENOENT`, ...) where the host has a file system (Node); the
 * same file reached by two spellings of its path gets two keys.
 */
import {
  completedNow,
  IPC_PRIVATE,
  abortErrorFor,
  closedError,
  IpcError,
  transferSymbol,
  type Message,
  type MessageQueue,
  type MessageQueueOpenOptions,
  type MessageQueueReceiveOptions,
  type MessageQueueSendOptions,
  type MessageQueueSetOptions,
  type MessageQueueStat,
  type MessageQueues,
  type TransferRecord,
  type WaitOptions,
} from '@ipcx/core';
import {
  checkMessageQueueFtok,
  checkMessageQueueId,
  checkMessageQueueOpen,
  checkMessageQueueSet,
  checkMessageQueueReceive,
  checkMessageQueueSend,
  backendSlice,
} from '@ipcx/core/backend';
import { kernelError, registerDescriber, registerReviver, type Kernel, type KernelObject } from './kernel.js';
import { KernelErrno, Kind, Layout, MsgLayout } from './layout.js';
import { BUSY, CellSpin, WOULD_BLOCK, waitOnCell, wakeCell, type Closers } from './wait.js';

const { EAGAIN, EINTR, EINVAL, ENOMSG, EIDRM } = KernelErrno;
const TRANSFER_KIND = 'sysv-message-queue';

/** Seconds since the epoch, for the times the kernel records (wasm has no clock). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A handle on a System V message queue of the emulated kernel (see {@link MessageQueue}). */
export class WorkerMessageQueue implements MessageQueue, KernelObject {
  private isClosed = false;
  private readonly objectName: string;
  private readonly cell: number;
  /** The byte address of the queue's parked count (see {@link waitOnCell}). */
  private readonly parked: number | undefined;
  private readonly closers: Closers = new Set();
  /** Sends waiting, in call order: only the first one calls the kernel. */
  private readonly sendOrder: object[] = [];
  /** Receives of this handle parked on the cell. */
  private receivesWaiting = 0;
  /** How long a receive that finds nothing watches the cell before it parks. */
  private readonly receiveSpin = new CellSpin();
  private readonly view: DataView;

  /** A handle on the queue `id` (from `msgget`, or revived in a worker); `key` is for reports only. */
  constructor(
    private readonly kernel: Kernel,
    /** The queue's id (msqid). */
    readonly id: number,
    /** The key it was opened by ({@link IPC_PRIVATE} for a private or revived queue). */
    readonly key: number,
  ) {
    this.objectName = `System V message queue ${id}`;
    this.cell = kernel.calls.msg_wait_cell(id);
    // msg_send and msg_receive notify only while a waiter is counted in here.
    this.parked = this.cell === 0 ? undefined : this.cell - Layout.OBJ_SEQ + Layout.OBJ_PARKED;
    this.view = new DataView(kernel.memory.buffer);
    // No finalizer: a queue id is not a resource of this thread.
    kernel.open.add(this);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** What `JSON.stringify` gives: a short description (not the kernel or its memory, which would never finish as JSON). */
  toJSON(): { object: string; closed: boolean } {
    return { object: this.describe(), closed: this.closed };
  }

  /** For leak reports: the queue's id and key. */
  describe(): string {
    return `${this.objectName} (key ${this.key})`;
  }

  /**
   * See {@link MessageQueue.send}: `msgsnd` at once; on a full queue, waits on the queue's wait
   * cell. Sends of this handle reach the queue in call order.
   */
  send(type: number, data: Uint8Array | string, options?: MessageQueueSendOptions): Promise<void> {
    try {
      const { bytes, nowait, timeoutMs } = checkMessageQueueSend(type, data, options);
      this.checkOpen('msgsnd');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (this.sendOrder.length === 0) {
        // A busy kernel lock is retried a few times here; still busy, a blocking send waits for it.
        const result = this.kernel.call(() => this.trySend(type, bytes));
        if (result === 0) return completedNow(undefined);
        if ((result !== -EAGAIN && result !== -EINTR) || nowait) throw this.error(result === -EINTR ? -EAGAIN : result, 'msgsnd');
      } else if (nowait) {
        throw this.error(-EAGAIN, 'msgsnd');
      }
      // A copy: the caller may reuse its array before this send reaches the kernel.
      const copy = bytes.slice();
      const token = {};
      this.sendOrder.push(token);
      return waitOnCell<true>(
        this.kernel,
        this.cell,
        () => {
          if (this.sendOrder[0] !== token) return undefined;
          const result = this.trySend(type, copy);
          if (result === 0) return true;
          if (result === -EAGAIN) return undefined;
          if (result === -EINTR) return BUSY;
          // It waited while the queue existed: the queue was removed under it.
          throw this.error(result === -EINVAL ? -EIDRM : result, 'msgsnd');
        },
        options,
        timeoutMs,
        { syscall: 'msgsnd', object: this.objectName },
        this.closers,
        () => {
          const first = this.sendOrder[0] === token;
          this.sendOrder.splice(this.sendOrder.indexOf(token), 1);
          // The next send in line must try now: wake it (it sleeps on the same cell).
          if (first && this.sendOrder.length > 0) wakeCell(this.kernel, this.cell);
        },
        this.parked,
      ).then(() => undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link MessageQueue.receive}: `msgrcv` at once; when nothing matches, waits on the queue's wait cell. */
  receive(options?: MessageQueueReceiveOptions): Promise<Message> {
    try {
      const checked = checkMessageQueueReceive(options);
      this.checkOpen('msgrcv');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const flags = (checked.except ? MsgLayout.MSG_RECEIVE_EXCEPT : 0) | (checked.noError ? MsgLayout.MSG_RECEIVE_NOERROR : 0);
      // Every message fits in the scratch buffer (msgmax), so a larger maxBytes changes nothing.
      const maxBytes = Math.min(checked.maxBytes ?? MsgLayout.MSGMAX, Layout.SCRATCH_BYTES - MsgLayout.MSG_RECEIVED_PAYLOAD);
      // Load the cell before trying: a change after this load is seen by the spin below.
      const seen = Atomics.load(this.kernel.cells, this.cell >>> 2);
      let first = this.tryReceive(checked.type, flags, maxBytes);
      for (let tries = 0; first === -EINTR && tries < 4; tries++) first = this.tryReceive(checked.type, flags, maxBytes);
      if (typeof first !== 'number') return completedNow(first);
      if ((first !== -ENOMSG && first !== -EINTR) || checked.nowait) throw this.error(first === -EINTR ? -ENOMSG : first, 'msgrcv');
      // A short bounded spin on the queue's cell (a sender in a tight exchange answers within
      // microseconds), unless receives of this handle already wait: those came first.
      let startedAt = Number.NaN;
      if (this.receivesWaiting === 0) {
        startedAt = performance.now();
        const spun = this.receiveSpin.spin(this.kernel.cells, this.cell >>> 2, seen, () => {
          const result = this.tryReceive(checked.type, flags, maxBytes);
          // An error other than "nothing yet": the wait below meets it again and reports it.
          return result === -ENOMSG || result === -EINTR ? WOULD_BLOCK : result;
        }, checked.timeoutMs, this.parked);
        if (spun !== WOULD_BLOCK && typeof spun !== 'number') return completedNow(spun);
        if (spun !== WOULD_BLOCK) startedAt = Number.NaN;
      }
      this.receivesWaiting++;
      const received = waitOnCell<Message>(
        this.kernel,
        this.cell,
        () => {
          const result = this.tryReceive(checked.type, flags, maxBytes);
          if (typeof result !== 'number') return result;
          if (result === -ENOMSG) return undefined;
          if (result === -EINTR) return BUSY;
          throw this.error(result === -EINVAL ? -EIDRM : result, 'msgrcv');
        },
        options,
        checked.timeoutMs,
        { syscall: 'msgrcv', object: this.objectName },
        this.closers,
        () => this.receivesWaiting--,
        this.parked,
      );
      return received.then((message) => {
        this.receiveSpin.parked(startedAt);
        return message;
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link MessageQueue.stat} (`msgctl(IPC_STAT)`). */
  async stat(): Promise<MessageQueueStat> {
    this.checkOpen('msgctl');
    const { kernel } = this;
    let stat: MessageQueueStat | undefined;
    // The record is read in the same synchronous step that wrote it: once this thread awaits,
    // another of its operations may reuse the scratch buffer.
    const result = await kernel.callAsync(() => {
      const status = kernel.calls.msg_stat(this.id, kernel.scratch);
      if (status === 0) stat = this.readStat();
      return status;
    });
    if (result < 0 || stat === undefined) throw this.error(result, 'msgctl');
    return stat;
  }

  /** The stat record msg_stat left in the scratch buffer. */
  private readStat(): MessageQueueStat {
    const at = this.kernel.scratch;
    const field = (offset: number) => this.view.getUint32(at + offset, true);
    return {
      perm: {
        key: this.view.getInt32(at + MsgLayout.MSG_STAT_KEY, true),
        uid: field(MsgLayout.MSG_STAT_UID),
        gid: field(MsgLayout.MSG_STAT_GID),
        cuid: field(MsgLayout.MSG_STAT_CUID),
        cgid: field(MsgLayout.MSG_STAT_CGID),
        mode: field(MsgLayout.MSG_STAT_MODE),
      },
      maxBytes: field(MsgLayout.MSG_STAT_QBYTES),
      messages: field(MsgLayout.MSG_STAT_QNUM),
      bytes: field(MsgLayout.MSG_STAT_CBYTES),
      lastSendPid: field(MsgLayout.MSG_STAT_LSPID),
      lastReceivePid: field(MsgLayout.MSG_STAT_LRPID),
      lastSendTime: field(MsgLayout.MSG_STAT_STIME),
      lastReceiveTime: field(MsgLayout.MSG_STAT_RTIME),
      changeTime: field(MsgLayout.MSG_STAT_CTIME),
    };
  }

  /** See {@link MessageQueue.set} (`msgctl(IPC_SET)`); a sender waiting for room is woken to try again. */
  async set(options: MessageQueueSetOptions): Promise<void> {
    const { maxBytes, mode, uid, gid } = checkMessageQueueSet(options);
    this.checkOpen('msgctl');
    const keep = MsgLayout.MSG_KEEP;
    const { calls } = this.kernel;
    const result = await this.kernel.callAsync(() => calls.msg_set(this.id, maxBytes ?? keep, mode ?? keep, uid ?? keep, gid ?? keep, nowSeconds()));
    if (result < 0) throw this.error(result, 'msgctl');
  }

  /** See {@link MessageQueue.remove} (`msgctl(IPC_RMID)`): waiters in every thread get `EIDRM`. */
  async remove(): Promise<void> {
    this.checkOpen('msgctl');
    const result = await this.kernel.callAsync(() => this.kernel.calls.msg_remove(this.id));
    if (result < 0) throw this.error(result, 'msgctl');
  }

  /** Gives up the handle: pending sends and receives end with `EBADF`; the queue stays. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.kernel.untrack(this);
    for (const closed of [...this.closers]) closed();
  }

  /** Closes the handle (`await using`); the queue stays. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels by its id: a worker revives a handle on the same queue (no `msgget`, so no permission check). */
  [transferSymbol](): TransferRecord {
    this.checkOpen('transfer');
    return { kind: TRANSFER_KIND, data: { kernel: this.kernel.id, id: this.id, key: this.key } };
  }

  /** One `msgsnd(IPC_NOWAIT)`: 0 or -errno. */
  private trySend(type: number, bytes: Uint8Array): number {
    const { calls, scratch } = this.kernel;
    // Longer than msgmax: the kernel refuses it by its length alone (EINVAL), nothing to copy.
    if (bytes.length <= Layout.SCRATCH_BYTES) this.kernel.bytes.set(bytes, scratch);
    return calls.msg_send(this.id, scratch, bytes.length, type, nowSeconds());
  }

  /** One `msgrcv(IPC_NOWAIT)`: the message, or -errno. */
  private tryReceive(type: number, flags: number, maxBytes: number): Message | number {
    const { calls, scratch, bytes } = this.kernel;
    const n = calls.msg_receive(this.id, scratch, maxBytes, type, flags, nowSeconds());
    if (n < 0) return n;
    return { type: this.view.getFloat64(scratch + MsgLayout.MSG_RECEIVED_TYPE, true), data: bytes.slice(scratch + MsgLayout.MSG_RECEIVED_PAYLOAD, scratch + MsgLayout.MSG_RECEIVED_PAYLOAD + n) };
  }

  private error(result: number, syscall: string): IpcError {
    return kernelError(result, { syscall, object: this.objectName });
  }

  private checkOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }
}

/** The worker backend's {@link MessageQueues} factory. */
export class WorkerMessageQueues implements MessageQueues {
  /** A factory over `kernel`. */
  constructor(private readonly kernel: Kernel) {}

  /**
   * See {@link MessageQueues.ftok}: a hash of the path string and `projectId` (the emulated kernel
   * has no inodes; see this file's header). Rejects with `ENOENT` (or the host's `stat` error) if
   * the host has a file system and the path cannot be examined.
   */
  async ftok(path: string, projectId: number): Promise<number> {
    const checked = checkMessageQueueFtok(path, projectId);
    examine(checked.path);
    let hash = 0x811c9dc5;
    for (const byte of new TextEncoder().encode(checked.path)) hash = Math.imul(hash ^ byte, 0x01000193);
    return ((checked.projectId & 0xff) << 24) | (hash & 0xffffff);
  }

  /** See {@link MessageQueues.open} (`msgget`). `ENOSPC` when the kernel's object table (or msgmni) is full, `ENOMEM` when its memory is. */
  async open(key: number, options?: MessageQueueOpenOptions): Promise<MessageQueue> {
    const checked = checkMessageQueueOpen(key, options);
    const { calls } = this.kernel;
    const id = await this.kernel.callAsync(() => calls.msg_get(checked.key, checked.create ? 1 : 0, checked.exclusive ? 1 : 0, checked.mode, nowSeconds()));
    if (id < 0) throw kernelError(id, { syscall: 'msgget', key: checked.key });
    return new WorkerMessageQueue(this.kernel, id, checked.key);
  }

  /**
   * See {@link MessageQueues.openById}: the kernel's `msgctl(IPC_STAT)` proves that the id names a
   * queue this thread may read (`EINVAL` for none, `EACCES` without read permission) and gives its
   * key, as the semaphore sets' `openById` does.
   */
  async openById(id: number): Promise<MessageQueue> {
    checkMessageQueueId(id);
    const { kernel } = this;
    let key = 0;
    // The key is read in the same synchronous step that wrote it: once this thread awaits,
    // another of its operations may reuse the scratch buffer.
    const result = await kernel.callAsync(() => {
      const status = kernel.calls.msg_stat(id, kernel.scratch);
      if (status === 0) key = new DataView(kernel.memory.buffer).getInt32(kernel.scratch + MsgLayout.MSG_STAT_KEY, true);
      return status;
    });
    if (result < 0) throw kernelError(result, { syscall: 'msgctl', object: `System V message queue ${id}` });
    return new WorkerMessageQueue(kernel, id, key);
  }

  /** See {@link MessageQueues.removeById}: the kernel's `msgctl(IPC_RMID)`, as a handle's `remove()` makes it. */
  async removeById(id: number): Promise<void> {
    checkMessageQueueId(id);
    const { kernel } = this;
    const result = await kernel.callAsync(() => kernel.calls.msg_remove(id));
    if (result < 0) throw kernelError(result, { syscall: 'msgctl', object: `System V message queue ${id}` });
  }
}

/** The host's `fs.statSync` where there is one (Node), without importing a Node module. */
type StatSync = (path: string) => unknown;
let statSync: StatSync | null | undefined;

/** Throws the `IpcError` of `stat(path)` when the host has a file system and the path cannot be examined. */
function examine(path: string): void {
  if (statSync === undefined) {
    const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => { statSync?: StatSync } | undefined } }).process;
    statSync = host?.getBuiltinModule?.('node:fs')?.statSync ?? null;
  }
  if (statSync === null) return;
  try {
    statSync(path);
  } catch (error) {
    const { code, errno } = error as { code?: string; errno?: number };
    if (typeof code === 'string' && typeof errno === 'number') throw new IpcError(code as IpcError['code'], { syscall: 'ftok', path, errno: -errno });
    throw error;
  }
}

registerReviver(TRANSFER_KIND, (kernel, record) => {
  const { id, key } = record.data as { id: number; key?: number };
  return new WorkerMessageQueue(kernel, id, key ?? IPC_PRIVATE);
});

registerDescriber(Kind.KIND_MSG, (kernel, id) => {
  const msqid = kernel.call(() => kernel.calls.msg_describe(id, kernel.scratch));
  if (msqid < 0) return undefined;
  const key = new DataView(kernel.memory.buffer).getInt32(kernel.scratch, true);
  return `System V message queue ${msqid} (key 0x${(key >>> 0).toString(16).padStart(8, '0')})`;
});

/** System V message queues: this file's part of the worker backend (backend.ts lists it; made over the backend's kernel). */
export const messageQueueSlice = backendSlice('messageQueues', ['message-queue'], (kernel: Kernel) => new WorkerMessageQueues(kernel));
