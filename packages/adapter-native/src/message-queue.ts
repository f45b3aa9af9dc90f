/**
 * System V message queues over the kernel's own (`msgget`, `msgsnd`, `msgrcv`, `msgctl`).
 *
 * Fast path: `send`/`receive` first call the kernel with `IPC_NOWAIT` on the calling thread. When
 * that answers `EAGAIN` (full queue) or `ENOMSG` (no matching message), they retry it for a short
 * adaptive window (`spinThenWait`: a peer in a tight exchange answers within it, and the ~60 µs
 * hop through a waiter thread is saved), and only then become a blocking call on a waiter thread,
 * which abort, timeout and close interrupt in the kernel; a message the thread took before the
 * cancel landed is still delivered.
 */
import {
  Errno,
  completedNow,
  IPC_PRIVATE,
  abortErrorFor,
  closedError,
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
import { addon, errorFromErrno, type WaitCallback } from './addon.js';
import { openNoting, recordRemoved, recordSysv } from './ledger.js';
import { track, untrack } from './registry.js';
import { registerReviver } from './revive.js';
import { WOULD_BLOCK, cancellationError, spinThenWait, spinWindow, watchCancellation, type PendingWait, type WaitOwner } from './wait.js';

/** The addon functions of native/message_queue.cc. Calls returning `number` give `-errno` on failure. */
interface MessageQueueAddon {
  /** Throws IpcError. */
  ftok(path: string, projectId: number): number;
  msgget(key: number, create: boolean, exclusive: boolean, mode: number): number;
  msgSendNow(id: number, type: number, bytes: Uint8Array, offset: number, length: number): number;
  msgSendWait(id: number, type: number, bytes: Uint8Array, offset: number, length: number, callback: WaitCallback): number;
  msgReceiveNow(id: number, type: number, bits: number, maxBytes: number): Message | number;
  msgReceiveWait(id: number, type: number, bits: number, maxBytes: number, callback: WaitCallback): number;
  msgStat(id: number): MessageQueueStat | number;
  msgSet(id: number, maxBytes: number, mode: number, uid: number, gid: number): number;
  msgRemove(id: number): number;
  msgmax(): number;
}

const native = addon as unknown as MessageQueueAddon;

const { EAGAIN, ENOMSG } = Errno;
/** Selection bits of msgReceiveNow/Wait (mapped to MSG_EXCEPT / MSG_NOERROR in C++). */
const RECEIVE_EXCEPT = 1;
const RECEIVE_NOERROR = 2;
const TRANSFER_KIND = 'sysv-message-queue';

// The default maxBytes of a receive: the system's largest message, read once.
let defaultMaxBytes: number | undefined;
function systemMsgmax(): number {
  defaultMaxBytes ??= native.msgmax();
  return defaultMaxBytes;
}

/** A send waiting behind an earlier send of the same handle. */
interface QueuedSend {
  readonly type: number;
  readonly bytes: Uint8Array;
  readonly options: MessageQueueSendOptions | undefined;
  /** `performance.now()` value at which its timeout ends (`Infinity` for none). */
  readonly deadline: number;
  resolve(): void;
  reject(error: unknown): void;
  stopWatching(): void;
}

/** A handle on a System V message queue (see {@link MessageQueue}). Holds no descriptor: only the id. */
export class NativeMessageQueue implements MessageQueue, WaitOwner {
  readonly pendingWaits = new Set<PendingWait>();
  private isClosed = false;
  private sendInFlight = false;
  private readonly queuedSends: QueuedSend[] = [];
  private readonly objectName: string;
  // Spin policy of receives, and of sends that find the queue full.
  private readonly receiveSpin = spinWindow();
  private readonly sendSpin = spinWindow();

  /** A handle on the queue `id` (from `msgget`, or revived in a child); `key` is for reports only. */
  constructor(
    readonly id: number,
    readonly key: number,
  ) {
    this.objectName = `System V message queue ${id}`;
    // Nothing for a finalizer to release: a queue id is not a resource of this process.
    track(this, { fds: [], polls: [] });
  }

  /** See {@link MessageQueue.closed}. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** For leak reports: the queue's id and key. */
  describe(): string {
    return `${this.objectName} (key ${this.key})`;
  }

  /** See {@link MessageQueue.send}. `msgsnd(IPC_NOWAIT)` here first; a waiter thread only if the queue is full. */
  send(type: number, data: Uint8Array | string, options?: MessageQueueSendOptions): Promise<void> {
    try {
      const { bytes, nowait, timeoutMs } = checkMessageQueueSend(type, data, options);
      this.checkOpen('msgsnd');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      // Sends of one handle reach the queue in call order: while one waits, later ones queue
      // behind it here instead of trying the kernel (where they could overtake it).
      if (!this.sendInFlight && this.queuedSends.length === 0) {
        const result = native.msgSendNow(this.id, type, bytes, 0, bytes.length);
        if (result === 0) return completedNow(undefined);
        if (result !== -EAGAIN || nowait) throw errorFromErrno(result, { syscall: 'msgsnd', object: this.objectName });
        // Full: the spin, then a waiter thread (the receive's policy); later sends queue behind it.
        return this.sendWaiting(type, bytes, options);
      }
      if (nowait) throw errorFromErrno(-EAGAIN, { syscall: 'msgsnd', object: this.objectName });
      return new Promise<void>((resolve, reject) => {
        const deadline = performance.now() + timeoutMs;
        // A copy: the caller may reuse its array before this send reaches the kernel.
        const queued: QueuedSend = { type, bytes: bytes.slice(), options, deadline, resolve, reject, stopWatching: () => {} };
        queued.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          this.queuedSends.splice(this.queuedSends.indexOf(queued), 1);
          reject(cancellationError(reason, options, { syscall: 'msgsnd', object: this.objectName }));
        });
        this.queuedSends.push(queued);
        this.pumpSends();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A send that found the queue full: {@link spinThenWait} (as receives), with later sends of this
   * handle queued behind it until it settles. The waiter thread copies `bytes` when it starts.
   */
  private sendWaiting(type: number, bytes: Uint8Array, options: WaitOptions | undefined): Promise<void> {
    this.sendInFlight = true;
    const details = { syscall: 'msgsnd', object: this.objectName };
    const waiting = spinThenWait<void>(
      this.sendSpin,
      () => {
        const result = native.msgSendNow(this.id, type, bytes, 0, bytes.length);
        return result === 0 ? undefined : result === -EAGAIN ? WOULD_BLOCK : errorFromErrno(result, details);
      },
      (callback) => native.msgSendWait(this.id, type, bytes, 0, bytes.length, callback),
      options,
      details,
      this,
    );
    const next = (): void => {
      this.sendInFlight = false;
      this.pumpSends();
    };
    waiting.then(next, next);
    return waiting;
  }

  /** Starts the first queued send once the one in flight has settled. */
  private pumpSends(): void {
    while (!this.sendInFlight && !this.isClosed && this.queuedSends.length > 0) {
      const queued = this.queuedSends.shift()!;
      // From here on the send's own wait watches the signal and what is left of the timeout.
      queued.stopWatching();
      const result = native.msgSendNow(this.id, queued.type, queued.bytes, 0, queued.bytes.length);
      if (result === 0) {
        queued.resolve();
        continue;
      }
      if (result !== -EAGAIN) {
        queued.reject(errorFromErrno(result, { syscall: 'msgsnd', object: this.objectName }));
        continue;
      }
      const remaining = Math.max(0, queued.deadline - performance.now());
      const options = { signal: queued.options?.signal, timeout: Number.isFinite(remaining) ? remaining : undefined };
      this.sendWaiting(queued.type, queued.bytes, options).then(queued.resolve, queued.reject);
    }
  }

  /** See {@link MessageQueue.receive}. `msgrcv(IPC_NOWAIT)` here first; a waiter thread only if nothing matches. */
  receive(options?: MessageQueueReceiveOptions): Promise<Message> {
    try {
      const checked = checkMessageQueueReceive(options);
      this.checkOpen('msgrcv');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const bits = (checked.except ? RECEIVE_EXCEPT : 0) | (checked.noError ? RECEIVE_NOERROR : 0);
      const maxBytes = checked.maxBytes ?? systemMsgmax();
      const result = native.msgReceiveNow(this.id, checked.type, bits, maxBytes);
      if (typeof result !== 'number') return completedNow(result);
      if (result !== -ENOMSG || checked.nowait) throw errorFromErrno(result, { syscall: 'msgrcv', object: this.objectName });
      return spinThenWait<Message>(
        this.receiveSpin,
        () => {
          const again = native.msgReceiveNow(this.id, checked.type, bits, maxBytes);
          if (typeof again !== 'number') return again;
          return again === -ENOMSG ? WOULD_BLOCK : errorFromErrno(again, { syscall: 'msgrcv', object: this.objectName });
        },
        (callback) => native.msgReceiveWait(this.id, checked.type, bits, maxBytes, callback),
        options,
        { syscall: 'msgrcv', object: this.objectName },
        this,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link MessageQueue.stat}. */
  async stat(): Promise<MessageQueueStat> {
    this.checkOpen('msgctl');
    const result = native.msgStat(this.id);
    if (typeof result === 'number') throw errorFromErrno(result, { syscall: 'msgctl', object: this.objectName });
    return result;
  }

  /** See {@link MessageQueue.set}. */
  async set(options: MessageQueueSetOptions): Promise<void> {
    const { maxBytes, mode, uid, gid } = checkMessageQueueSet(options);
    this.checkOpen('msgctl');
    const result = native.msgSet(this.id, maxBytes ?? -1, mode ?? -1, uid ?? -1, gid ?? -1);
    if (result < 0) throw errorFromErrno(result, { syscall: 'msgctl', object: this.objectName });
  }

  /** See {@link MessageQueue.remove}. */
  async remove(): Promise<void> {
    this.checkOpen('msgctl');
    const result = native.msgRemove(this.id);
    if (result < 0) throw errorFromErrno(result, { syscall: 'msgctl', object: this.objectName });
    recordRemoved('sysv-message-queue', this.id);
  }

  /** Gives up the handle: pending sends and receives end with `EBADF`; the queue stays. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    untrack(this);
    for (const queued of this.queuedSends.splice(0)) {
      queued.stopWatching();
      queued.reject(cancellationError('close', undefined, { syscall: 'msgsnd', object: this.objectName }));
    }
    // Each cancel settles its promise once its waiter thread has reported back.
    for (const pending of [...this.pendingWaits]) pending.cancel('close');
  }

  /** Closes the handle (`await using`); the queue stays. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels by its id: a child revives a handle on the same queue (no `msgget`, so no permission check). */
  [transferSymbol](): TransferRecord {
    this.checkOpen('transfer');
    return { kind: TRANSFER_KIND, data: { id: this.id, key: this.key } };
  }

  private checkOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }
}

/** The native {@link MessageQueues} factory. */
export class NativeMessageQueues implements MessageQueues {
  /** See {@link MessageQueues.ftok}. */
  async ftok(path: string, projectId: number): Promise<number> {
    const checked = checkMessageQueueFtok(path, projectId);
    return native.ftok(checked.path, checked.projectId);
  }

  /** See {@link MessageQueues.open}. */
  async open(key: number, options?: MessageQueueOpenOptions): Promise<MessageQueue> {
    const checked = checkMessageQueueOpen(key, options);
    const { result: id, created } = openNoting(checked.create, checked.exclusive, (create, exclusive) => native.msgget(checked.key, create, exclusive, checked.mode));
    if (id < 0) throw errorFromErrno(id, { syscall: 'msgget', key: checked.key });
    if (created || checked.key === IPC_PRIVATE) recordSysv('sysv-message-queue', id, checked.key);
    return new NativeMessageQueue(id, checked.key);
  }

  /**
   * See {@link MessageQueues.openById}. `msgctl(IPC_STAT)` proves that the id names a queue this
   * process may read (`EINVAL`, `EIDRM`, `EACCES` otherwise) and gives its key, as the
   * semaphore sets' `openById` does.
   */
  async openById(id: number): Promise<MessageQueue> {
    checkMessageQueueId(id);
    const stat = native.msgStat(id);
    if (typeof stat === 'number') throw errorFromErrno(stat, { syscall: 'msgctl', object: `System V message queue ${id}` });
    return new NativeMessageQueue(id, stat.perm.key);
  }

  /** See {@link MessageQueues.removeById} (`msgctl(IPC_RMID)` on the main thread). */
  async removeById(id: number): Promise<void> {
    checkMessageQueueId(id);
    const result = native.msgRemove(id);
    if (result < 0) throw errorFromErrno(result, { syscall: 'msgctl', object: `System V message queue ${id}` });
    recordRemoved('sysv-message-queue', id);
  }
}

registerReviver(TRANSFER_KIND, (record) => {
  const { id, key } = record.data as { id: number; key: number };
  return new NativeMessageQueue(id, key ?? IPC_PRIVATE);
});

/** System V message queues: this file's part of the native backend (backend.ts lists it). */
export const messageQueueSlice = backendSlice('messageQueues', ['message-queue'], () => new NativeMessageQueues());
