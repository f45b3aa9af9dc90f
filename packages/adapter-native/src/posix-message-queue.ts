/**
 * POSIX message queues over real `mqd_t` descriptors (Linux: a queue handle is a descriptor).
 *
 * Fast path: `send`/`receive` call `mq_send`/`mq_receive` at once on the calling thread, the
 * descriptor being O_NONBLOCK. A receive that finds the queue empty retries for a short adaptive
 * window first (`SpinWindow`, as descriptor reads do). Only then does the operation queue and ask
 * libuv for readiness (uv_poll: readable = a message is there, writable = there is room), then try
 * again. No thread per wait; cancelling (signal, timeout, close) removes the pending operation from
 * its JS queue, and since a pending operation has made no successful call yet, no message is lost
 * or sent by it.
 */
import { readFileSync } from 'node:fs';
import {
  Errno,
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
  backendSlice,
} from '@ipcx/core/backend';
import { PollEvent, addon, errorFromErrno } from './addon.js';
import { openNoting, recordPosix, recordRemoved } from './ledger.js';
import { track, untrack, type TrackedObject } from './registry.js';
import { registerReviver } from './revive.js';
import { bufferGoneError, spinWindow, WOULD_BLOCK, cancellationError, watchCancellation, type CancelReason } from './wait.js';

/** The addon functions of posix_message_queue.cc. Numbers are `-errno` on failure. */
interface PosixMessageQueueAddon {
  mqOpen(name: string, access: number, create: boolean, exclusive: boolean, mode: number, maxMessages: number, messageSize: number): number;
  mqSend(fd: number, bytes: Uint8Array, offset: number, length: number, priority: number): number;
  mqReceive(fd: number, buffer: Uint8Array, offset: number, length: number, priorityOut: Uint32Array): number;
  /** Throws IpcError (mq_getattr). */
  mqAttributes(fd: number): PosixMessageQueueAttributes;
  mqUnlink(name: string): number;
  /** mq_notify delivered to a netlink socket: the socket, or -errno (EBUSY). */
  mqNotifyRegister(fd: number): number;
  /** 1 notified, 2 registration removed, 0 nothing yet, or -errno. */
  mqNotifyRead(sock: number): number;
  /** mq_notify(fd, NULL). */
  mqNotifyCancel(fd: number): number;
}

const native = addon as unknown as PosixMessageQueueAddon;

const { EAGAIN, ENOENT, ENOMEM } = Errno;

/**
 * A new buffer of `size` bytes, or undefined when it cannot be allocated (V8's RangeError "Array
 * buffer allocation failed"). `pooled`: small ones may come from Node's pool (for a message's
 * copy; not for a scratch buffer, which lives long and would pin the pool).
 */
function tryAllocate(size: number, pooled: boolean): Buffer | undefined {
  try {
    return pooled ? Buffer.allocUnsafe(size) : Buffer.allocUnsafeSlow(size);
  } catch {
    return undefined;
  }
}

const ACCESS_CODES: Record<PosixMessageQueueAccess, number> = { read: 0, write: 1, readwrite: 2 };
// Where mq_receive leaves the priority; one per environment is enough (JS is single-threaded).
const priorityOut = new Uint32Array(1);

/**
 * Names this process opened with `create` and has not unlinked: `/dev/mqueue` is not always
 * mounted, so the leak check asks the kernel about these names one by one instead.
 */
const createdNames = new Set<string>();

/**
 * For `diagnostics.kernelObjects()`: the names this process created (opened with `create`) that
 * still exist in the kernel, probed with `mq_open` (another process may have unlinked them).
 */
export function posixQueuesLeft(): string[] {
  const left: string[] = [];
  for (const name of createdNames) {
    const fd = native.mqOpen(name, ACCESS_CODES.read, false, false, 0, -1, -1);
    if (fd === -ENOENT) {
      createdNames.delete(name);
      continue;
    }
    if (fd >= 0) addon.close(fd);
    // Any other answer (EACCES, ...) still means the name is there.
    left.push(`posix message queue ${name}`);
  }
  return left;
}

/** A system default from /proc/sys/fs/mqueue (for a queue created with only one attribute given). */
function systemDefault(file: 'msg_default' | 'msgsize_default', fallback: number): number {
  try {
    const value = Number.parseInt(readFileSync(`/proc/sys/fs/mqueue/${file}`, 'utf8'), 10);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

interface PendingReceive {
  resolve(message: PosixMessage): void;
  reject(error: Error): void;
  stopWatching(): void;
  /** When a receive that spun before parking started (see SpinWindow.parked), else -1. */
  startedAt: number;
}

interface PendingSend {
  bytes: Uint8Array;
  /** `bytes.length` at the call (the caller may detach its buffer while the send waits). */
  length: number;
  priority: number;
  resolve(): void;
  reject(error: Error): void;
  stopWatching(): void;
}

/** An open POSIX message queue handle. */
export class NativePosixMessageQueue implements PosixMessageQueue, TrackedObject {
  private fd: number;
  private readonly objectName: string;
  /** The queue's `mq_msgsize`: a receive needs a buffer at least this large (else EMSGSIZE). */
  private readonly messageSize: number;
  private pollId = 0;
  private interest = 0;
  private readonly receives: PendingReceive[] = [];
  private readonly sends: PendingSend[] = [];
  private scratch: Uint8Array | undefined;
  // How long a receive spins on an empty queue before parking in the poll.
  private readonly receiveSpin = spinWindow();
  // Whether the last receive completed only after parking (see receive).
  private receiveParked = false;
  // What the FinalizationRegistry closes if this object is dropped without close().
  private readonly held: { fds: number[]; polls: number[] };
  /** Notification registrations waiting (at most one per process succeeds), ended by close(). */
  private readonly pendingNotifies = new Set<{ close(): void }>();

  constructor(fd: number, readonly name: string, readonly access: PosixMessageQueueAccess) {
    this.fd = fd;
    this.objectName = `POSIX message queue '${name}'`;
    this.messageSize = native.mqAttributes(fd).messageSize;
    this.held = { fds: [fd], polls: [] };
    track(this, this.held);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.fd < 0;
  }

  /** For leak reports: the name and descriptor. */
  describe(): string {
    return `${this.objectName} (fd ${this.fd})`;
  }

  /** See {@link PosixMessageQueue.send}: `mq_send` at once, uv_poll for room on EAGAIN. */
  send(data: Uint8Array | string, options?: PosixMessageQueueSendOptions): Promise<void> {
    try {
      const bytes = checkBytes('data', data);
      const { priority, nowait, timeoutMs } = checkPosixMessageQueueSend(options);
      if (this.closed) throw closedError(this.objectName, 'mq_send');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      // Sends of this handle keep their call order: a new one waits behind pending ones.
      if (this.sends.length === 0) {
        const result = native.mqSend(this.fd, bytes, 0, bytes.length, priority);
        if (result === 0) return completedNow(undefined);
        if (result !== -EAGAIN || nowait) throw errorFromErrno(result, { syscall: 'mq_send', object: this.objectName, path: this.name });
      } else if (nowait) {
        throw errorFromErrno(-EAGAIN, { syscall: 'mq_send', object: this.objectName, path: this.name });
      }
      return new Promise<void>((resolve, reject) => {
        const pending: PendingSend = { bytes, length: bytes.length, priority, resolve, reject, stopWatching: () => {} };
        pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          this.sends.splice(this.sends.indexOf(pending), 1);
          this.updateInterest();
          reject(cancellationError(reason, options, { syscall: 'mq_timedsend', object: this.objectName, path: this.name }));
        });
        this.sends.push(pending);
        this.updateInterest();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixMessageQueue.receive}: `mq_receive` at once, uv_poll for a message on EAGAIN. */
  receive(options?: PosixMessageQueueReceiveOptions): Promise<PosixMessage> {
    try {
      const { nowait, timeoutMs } = checkPosixMessageQueueReceive(options);
      if (this.closed) throw closedError(this.objectName, 'mq_receive');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      if (options?.maxBytes !== undefined && options.maxBytes < this.messageSize) return this.receiveIntoTooSmall(options.maxBytes);
      let startedAt = -1;
      if (this.receives.length === 0 && !nowait && timeoutMs === Infinity && this.receiveParked && this.receiveSpin.parksNext) {
        // The last receive parked and the policy parks this one at once: the poll tells when a
        // message is there (as a descriptor read does, descriptor-stream.ts), one mq_receive less
        // per parked receive.
        this.receiveSpin.open(performance.now());
      } else if (this.receives.length === 0) {
        let n = this.receiveNow();
        if (n === -EAGAIN && !nowait) {
          startedAt = performance.now();
          const got = this.receiveSpin.spin(() => {
            n = this.receiveNow();
            return n === -EAGAIN ? WOULD_BLOCK : n;
          }, timeoutMs);
          if (got !== WOULD_BLOCK) n = got;
        }
        if (n !== -EAGAIN || nowait) {
          this.receiveParked = false;
          const result = this.received(n);
          if (result instanceof Error) throw result;
          return completedNow(result);
        }
      } else if (nowait) {
        throw errorFromErrno(-EAGAIN, { syscall: 'mq_receive', object: this.objectName, path: this.name });
      }
      return new Promise<PosixMessage>((resolve, reject) => {
        const pending: PendingReceive = { resolve, reject, stopWatching: () => {}, startedAt };
        pending.stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          this.receives.splice(this.receives.indexOf(pending), 1);
          this.updateInterest();
          reject(cancellationError(reason, options, { syscall: 'mq_timedreceive', object: this.objectName, path: this.name }));
        });
        this.receives.push(pending);
        this.updateInterest();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixMessageQueue.attributes} (`mq_getattr`). */
  attributes(): PosixMessageQueueAttributes {
    if (this.closed) throw closedError(this.objectName, 'mq_getattr');
    const { maxMessages, messageSize, currentMessages } = native.mqAttributes(this.fd);
    return { maxMessages, messageSize, currentMessages };
  }

  /** Gives up the handle (`mq_close`); pending operations reject with EBADF. The name stays. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const fd = this.fd;
    this.fd = -1;
    for (const pending of this.receives.splice(0)) {
      pending.stopWatching();
      pending.reject(cancellationError('close' satisfies CancelReason, undefined, { syscall: 'mq_receive', object: this.objectName }));
    }
    for (const pending of this.sends.splice(0)) {
      pending.stopWatching();
      pending.reject(cancellationError('close', undefined, { syscall: 'mq_send', object: this.objectName }));
    }
    for (const pending of [...this.pendingNotifies]) pending.close();
    // The poll handle must be gone before the descriptor number can be reused.
    if (this.pollId !== 0) addon.pollClose(this.pollId);
    this.pollId = 0;
    // mq_close(3) is close(2) on Linux.
    addon.close(fd);
    untrack(this);
    return Promise.resolve();
  }

  /**
   * See {@link PosixMessageQueue.notify}: `mq_notify` with the kernel's netlink delivery
   * (posix_message_queue.cc says why), the socket watched by uv_poll on the main thread.
   */
  notify(options?: PosixMessageQueueNotifyOptions): Promise<void> {
    try {
      const timeoutMs = checkWaitOptions(options);
      if (this.closed) throw closedError(this.objectName, 'mq_notify');
      if (options?.signal?.aborted) throw abortErrorFor(options.signal);
      const details = { syscall: 'mq_notify', object: this.objectName, path: this.name };
      const sock = native.mqNotifyRegister(this.fd);
      if (sock < 0) throw errorFromErrno(sock, details);
      return new Promise<void>((resolve, reject) => {
        let pollId = 0;
        const pending = {
          close: () => {
            finish();
            reject(closedError(this.objectName, 'mq_notify'));
          },
        };
        const finish = () => {
          stopWatching();
          if (pollId !== 0) addon.pollClose(pollId);
          addon.close(sock);
          this.pendingNotifies.delete(pending);
        };
        const settle = (state: number) => {
          finish();
          if (state === 1) resolve();
          else if (state === 2) reject(new IpcError('ECANCELED', details));
          else reject(errorFromErrno(state, details));
        };
        const stopWatching = watchCancellation(options, timeoutMs, (reason) => {
          // A notification that arrived before the cancel is delivered (the message is there).
          if (native.mqNotifyRead(sock) === 1) return settle(1);
          native.mqNotifyCancel(this.fd);
          finish();
          reject(cancellationError(reason, options, details));
        });
        this.pendingNotifies.add(pending);
        pollId = addon.pollStart(sock, PollEvent.readable, () => {
          const state = native.mqNotifyRead(sock);
          if (state !== 0) settle(state);
        });
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** See {@link PosixMessageQueue.notifications}. */
  notifications(options?: PosixMessageQueueNotifyOptions): AsyncIterableIterator<void> {
    return posixQueueNotifications((armed) => this.notify(armed), options);
  }

  /**
   * A receive whose buffer (`maxBytes`) is smaller than the queue's message size: `mq_receive` with
   * that length, for the kernel's own answer (EMSGSIZE, or EBADF on a write-only handle), which
   * takes no message and never waits.
   */
  private receiveIntoTooSmall(maxBytes: number): Promise<PosixMessage> {
    const buffer = tryAllocate(maxBytes, false);
    if (buffer === undefined) return Promise.reject(errorFromErrno(-ENOMEM, { syscall: 'mq_receive', object: this.objectName, path: this.name }));
    const n = native.mqReceive(this.fd, buffer, 0, maxBytes, priorityOut);
    if (n < 0) return Promise.reject(errorFromErrno(n, { syscall: 'mq_receive', object: this.objectName, path: this.name }));
    // Only if a kernel ever accepted it: the message is this caller's now.
    return completedNow({ data: buffer.subarray(0, n), priority: priorityOut[0]! });
  }

  /** `await using` closes the handle (the name stays). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Travels by name: the receiving process opens the queue again (see {@link PosixMessageQueue}). */
  [transferSymbol](): TransferRecord {
    if (this.closed) throw closedError(this.objectName, 'transfer');
    return { kind: 'posix-message-queue', data: { name: this.name, access: this.access } };
  }

  /** A message, or the IpcError (EAGAIN when the queue is empty). */
  private tryReceive(): PosixMessage | IpcError {
    return this.received(this.receiveNow());
  }

  /**
   * One non-blocking `mq_receive` into the scratch buffer: the message's length or -errno. Allocates
   * nothing but the scratch when there is none. A scratch that cannot be had is -ENOMEM with the
   * message left queued, or -EAGAIN when the queue is empty (nothing to take; a waiting receive
   * waits on, and tries again when a message comes).
   */
  private receiveNow(): number {
    let buffer = this.scratch;
    if (buffer === undefined) {
      buffer = tryAllocate(this.messageSize, false);
      if (buffer === undefined) return native.mqAttributes(this.fd).currentMessages > 0 ? -ENOMEM : -EAGAIN;
      this.scratch = buffer;
    }
    return native.mqReceive(this.fd, buffer, 0, buffer.length, priorityOut);
  }

  /** The message that receiveNow left in the scratch buffer (`n` bytes), or the IpcError for `n` < 0. */
  private received(n: number): PosixMessage | IpcError {
    if (n < 0) return errorFromErrno(n, { syscall: 'mq_receive', object: this.objectName, path: this.name });
    const buffer = this.scratch!;
    const priority = priorityOut[0]!;
    // A large message takes the scratch buffer itself (no copy); a small one is copied out so that
    // it does not pin a buffer of the queue's whole message size. The message is out of the queue
    // by now: when its copy cannot be had it takes the scratch too, rather than being lost (the
    // next receive allocates a new scratch, or answers ENOMEM with its message left queued).
    const copy = n >= buffer.length >>> 1 && n > 0 ? undefined : tryAllocate(n, true);
    if (copy === undefined) {
      this.scratch = undefined;
      return { data: buffer.subarray(0, n), priority };
    }
    copy.set(buffer.subarray(0, n));
    return { data: copy, priority };
  }

  private updateInterest(): void {
    if (this.closed) return;
    const wanted = (this.receives.length > 0 ? PollEvent.readable : 0) | (this.sends.length > 0 ? PollEvent.writable : 0);
    if (wanted === this.interest) return;
    this.interest = wanted;
    if (this.pollId === 0) {
      if (wanted === 0) return;
      this.pollId = addon.pollStart(this.fd, wanted, (status) => this.onReady(status));
      this.held.polls[0] = this.pollId;
    } else {
      addon.pollUpdate(this.pollId, wanted);
    }
  }

  // libuv says the queue has a message or room (or reported an error, after which it stops the
  // poll: interest is re-armed below and the retried call tells the real errno). Each pass can
  // make room for a send or bring a message for a receive, so loop until nothing moves.
  private onReady(status: number): void {
    if (status < 0) this.interest = 0;
    let moved = true;
    while (moved && !this.closed) {
      moved = false;
      while (this.receives.length > 0 && !this.closed) {
        const result = this.tryReceive();
        if (result instanceof Error && result.errno === EAGAIN) break;
        const pending = this.receives.shift()!;
        pending.stopWatching();
        if (pending.startedAt >= 0) this.receiveSpin.parked(pending.startedAt);
        this.receiveParked = true;
        moved = true;
        if (result instanceof Error) pending.reject(result);
        else pending.resolve(result);
      }
      while (this.sends.length > 0 && !this.closed) {
        const pending = this.sends[0]!;
        // A detached buffer would queue an empty message in place of the caller's (see bufferGoneError).
        const gone = bufferGoneError('data', pending.bytes, pending.length, 'send', 'nothing was sent');
        const result = gone ?? native.mqSend(this.fd, pending.bytes, 0, pending.length, pending.priority);
        if (result === -EAGAIN) break;
        this.sends.shift();
        pending.stopWatching();
        moved = true;
        if (result instanceof TypeError) pending.reject(result);
        else if (result === 0) pending.resolve();
        else pending.reject(errorFromErrno(result, { syscall: 'mq_send', object: this.objectName, path: this.name }));
      }
    }
    this.updateInterest();
  }
}

/** Opens (never waits); throws the IpcError of mq_open. */
function openQueue(name: string, options: ReturnType<typeof checkPosixMessageQueueOpen>): NativePosixMessageQueue {
  let { maxMessages, messageSize } = options;
  // mq_attr carries both sizes or none: fill in the one not given with the system's default.
  if (options.create && (maxMessages !== undefined || messageSize !== undefined)) {
    maxMessages ??= systemDefault('msg_default', 10);
    messageSize ??= systemDefault('msgsize_default', 8192);
  }
  const { result: fd, created } = openNoting(options.create, options.exclusive, (create, exclusive) =>
    native.mqOpen(name, ACCESS_CODES[options.access], create, exclusive, options.mode, maxMessages ?? -1, messageSize ?? -1),
  );
  if (fd < 0) throw errorFromErrno(fd, { syscall: 'mq_open', path: name });
  if (created) recordPosix('posix-message-queue', name, fd);
  if (options.create) createdNames.add(name);
  try {
    return new NativePosixMessageQueue(fd, name, options.access);
  } catch (error) {
    addon.close(fd);
    throw error;
  }
}

/** The native {@link PosixMessageQueues} factory. */
export class NativePosixMessageQueues implements PosixMessageQueues {
  /** See {@link PosixMessageQueues.open} (`mq_open`, O_NONBLOCK, close-on-exec). */
  async open(name: string, options?: PosixMessageQueueOpenOptions): Promise<PosixMessageQueue> {
    checkPosixMessageQueueName(name);
    return openQueue(name, checkPosixMessageQueueOpen(options));
  }

  /** See {@link PosixMessageQueues.unlink} (`mq_unlink`). */
  async unlink(name: string): Promise<void> {
    checkPosixMessageQueueName(name);
    const result = native.mqUnlink(name);
    if (result < 0) throw errorFromErrno(result, { syscall: 'mq_unlink', path: name });
    createdNames.delete(name);
    recordRemoved('posix-message-queue', name);
  }
}

registerReviver('posix-message-queue', (record) => {
  const { name, access } = record.data as { name: string; access: PosixMessageQueueAccess };
  return openQueue(name, checkPosixMessageQueueOpen({ access }));
});

/** POSIX message queues: this file's part of the native backend (backend.ts lists it). */
export const posixMessageQueueSlice = backendSlice('posixMessageQueues', ['posix-message-queue'], () => new NativePosixMessageQueues());
