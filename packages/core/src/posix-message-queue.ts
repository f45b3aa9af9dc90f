/**
 * POSIX message queues (mq_overview(7)): named queues of whole messages, each with a priority.
 *
 * A queue is named `/something` (one leading slash, no other slash) and lives in the kernel until
 * {@link PosixMessageQueues.unlink} removes its name, even when no process has it open. Messages keep
 * their boundaries: one `send` is one `receive`. A receive takes the oldest message of the highest
 * priority present: highest priority first, first in first out within one priority.
 */
import type { IpcObject } from './object.js';
import type { NowaitOptions, WaitOptions } from './options.js';
import type { Transferable } from './transfer.js';
import { factoryToken } from './primitives.js';

/**
 * Priorities run from 0 (lowest) to `MQ_PRIO_MAX - 1`. Linux's `MQ_PRIO_MAX` is 32768; a priority
 * outside that range is a `RangeError` here (the kernel would say `EINVAL`).
 */
export const MQ_PRIO_MAX = 32768;

/** Which directions a handle may use, as `mq_open`'s `O_RDONLY` / `O_WRONLY` / `O_RDWR`. */
export type PosixMessageQueueAccess = 'read' | 'write' | 'readwrite';

/** Options of {@link PosixMessageQueues.open}. */
export interface PosixMessageQueueOpenOptions {
  /**
   * Which directions this handle may use (default `'readwrite'`). The queue's mode must allow them
   * for the calling user, else the open rejects with `EACCES`. Receiving on a `'write'` handle or
   * sending on a `'read'` handle rejects with `EBADF`, as the kernel says.
   */
  readonly access?: PosixMessageQueueAccess;
  /** Create the queue if the name does not exist (`O_CREAT`). Without it, a missing name is `ENOENT`. */
  readonly create?: boolean;
  /** With `create`: fail with `EEXIST` if the name exists already (`O_EXCL`). */
  readonly exclusive?: boolean;
  /** Permission bits of a created queue (default `0o600`), before the process's umask. */
  readonly mode?: number;
  /**
   * Most messages the created queue holds (`mq_maxmsg`). Omitted: the system default
   * (`/proc/sys/fs/mqueue/msg_default`, 10 on most systems). Ignored when the queue exists already.
   * 0, or more than the system allows (`/proc/sys/fs/mqueue/msg_max` for unprivileged callers,
   * 65536 with `CAP_SYS_RESOURCE`), rejects with `EINVAL`; a size over the caller's
   * `RLIMIT_MSGQUEUE` with `EMFILE`; no queue left (`queues_max`) with `ENOSPC`.
   */
  readonly maxMessages?: number;
  /**
   * Largest message of the created queue in bytes (`mq_msgsize`). Omitted: the system default
   * (`msgsize_default`, 8192 on most systems). Ignored when the queue exists already. 0, or more than
   * `msgsize_max` allows, rejects with `EINVAL`.
   */
  readonly messageSize?: number;
}

/** Options of {@link PosixMessageQueue.send}. */
export interface PosixMessageQueueSendOptions extends NowaitOptions {
  /** The message's priority, an integer from 0 (default, lowest) to `MQ_PRIO_MAX - 1` (32767). */
  readonly priority?: number;
}

/** Options of {@link PosixMessageQueue.receive}. */
export interface PosixMessageQueueReceiveOptions extends NowaitOptions {
  /**
   * The size of the receive buffer, as `mq_receive`'s `msg_len` (default: the queue's
   * `messageSize`, which always fits). The kernel refuses a buffer smaller than the queue's
   * `messageSize` with `EMSGSIZE` whatever the next message's length, at once (it never waits),
   * and leaves every message queued. An integer >= 0.
   */
  readonly maxBytes?: number;
}

/**
 * Options of {@link PosixMessageQueue.notify} and {@link PosixMessageQueue.notifications}: `signal`
 * (and for `notify`, `timeout`) end the registration (`mq_notify(mqdes, NULL)`).
 */
export type PosixMessageQueueNotifyOptions = WaitOptions;

/** A received message. */
export interface PosixMessage {
  /** The message's bytes, exactly as sent. */
  readonly data: Uint8Array;
  /** The priority it was sent with. */
  readonly priority: number;
}

/** A queue's attributes (`mq_getattr`). */
export interface PosixMessageQueueAttributes {
  /** Most messages the queue holds (`mq_maxmsg`). */
  readonly maxMessages: number;
  /** Largest message in bytes (`mq_msgsize`). */
  readonly messageSize: number;
  /** Messages in the queue now (`mq_curmsgs`), counting every process's sends and receives. */
  readonly currentMessages: number;
}

/**
 * An open handle on a POSIX message queue (`mqd_t`).
 *
 * Sends and receives wait without blocking the event loop; each also has a `nowait` form. Pending
 * receives of one handle are served in call order, and so are pending sends. Cancelling a pending
 * operation (`signal`, `timeout`, `close()`) never loses a message: a receive that is cancelled has
 * taken nothing from the queue, and a send that is cancelled has put nothing in it.
 *
 * A handle can be passed to a child in `processes.spawn(entry, { args })`. It travels by name: the
 * child opens the queue again by its name, with the same `access` (Linux closes message queue
 * descriptors on `exec`). The name must therefore still exist when the child starts; if it was
 * unlinked meanwhile, the child cannot open it and fails with `ENOENT`.
 */
export interface PosixMessageQueue extends IpcObject, Transferable {
  /** The queue's name, e.g. `'/jobs'`. */
  readonly name: string;
  /** The directions this handle was opened for. */
  readonly access: PosixMessageQueueAccess;
  /**
   * Sends one message (`mq_send`/`mq_timedsend`), a string being UTF-8 encoded. Waits while the
   * queue is full. With `nowait`, rejects at once with `EAGAIN` when it is full; when `timeout`
   * passes first, rejects with `ETIMEDOUT` and nothing is sent. A message longer than the queue's
   * `messageSize` rejects with `EMSGSIZE`. Resolves once the message is in the queue (or handed to a
   * waiting receiver).
   */
  send(data: Uint8Array | string, options?: PosixMessageQueueSendOptions): Promise<void>;
  /**
   * Takes the oldest message of the highest priority present (`mq_receive`/`mq_timedreceive`).
   * Waits while the queue is empty. With `nowait`, rejects at once with `EAGAIN` when it is empty;
   * when `timeout` passes first, rejects with `ETIMEDOUT`.
   */
  receive(options?: PosixMessageQueueReceiveOptions): Promise<PosixMessage>;
  /** The queue's attributes now (`mq_getattr`); never waits. Throws `EBADF` after `close()`. */
  attributes(): PosixMessageQueueAttributes;
  /**
   * Registers this process for a notification (`mq_notify`) and resolves once, when a message
   * arrives in the queue while it is empty. The registration is made before this returns, so a
   * message sent after the call is never missed.
   *
   * The kernel's rules: one process per queue is registered at a time; a second registration,
   * from any process (this one included, through any handle), rejects at once with `EBUSY`. The
   * notification fires only on the change from empty to not empty: registering on a queue that
   * holds messages waits until it has been emptied and a message arrives. A receiver blocked
   * inside `mq_receive` (a C program, say) takes the arriving message instead and no notification
   * is sent; ipcx's own pending receives wait for readiness, not inside `mq_receive`, so they do
   * not suppress it. The notification says only that a message arrived: the message stays queued
   * and another receiver may take it first.
   *
   * One-shot: the kernel drops the registration as it notifies. To keep being notified, re-arm
   * (call `notify` again) first and then drain the queue with `nowait` receives until `EAGAIN`;
   * draining first would lose the messages that arrive between the drain and the new registration,
   * since they find the queue not empty and notify nobody. {@link notifications} does exactly this.
   *
   * Cancelling (`signal`, `timeout`: `AbortError`, `ETIMEDOUT`) unregisters (`mq_notify(NULL)`).
   * `close()` rejects it with `EBADF`. Linux removes a process's registration when that process
   * closes any descriptor of the queue: if this process closes another handle of the same queue
   * meanwhile, the registration is gone and this rejects with `ECANCELED`. Never a signal: the
   * native backend has the kernel write the notification to a private socket that the event loop
   * watches (`SIGEV_THREAD`'s netlink delivery, without glibc's thread), so no signal is raised
   * and no code runs off the main thread.
   */
  notify(options?: PosixMessageQueueNotifyOptions): Promise<void>;
  /**
   * The notifications of this queue as an async iterator: each `next()` resolves when a message
   * arrived in the empty queue. It registers at once, and re-arms before yielding, so the loop
   * body can drain the queue (`nowait` receives until `EAGAIN`) without missing a message.
   * Ending the loop (`break`, `return`, a throw) or `signal` unregisters. Fails with the errors of
   * {@link notify} (`EBUSY` if another process is registered).
   */
  notifications(options?: PosixMessageQueueNotifyOptions): AsyncIterableIterator<void>;
}

/**
 * Named POSIX message queues. Any process that knows a name (and has the permission) opens the same
 * queue, including programs that do not use ipcx (C's `mq_open`, Python's `posix_ipc`).
 */
export interface PosixMessageQueues {
  /**
   * Opens the queue called `name` (`mq_open`), creating it with `create`. `name` is `/` followed by
   * at least one character and no other `/` (else `TypeError`); a name longer than 255 characters
   * after the slash rejects with `ENAMETOOLONG`. Rejects with `ENOENT` (missing, without `create`),
   * `EEXIST` (`create` + `exclusive` on an existing name), `EACCES` (the queue's mode forbids
   * `access` for the caller), `EINVAL` (bad attributes), `EMFILE`/`ENFILE`/`ENOSPC`/`ENOMEM` (limits).
   * Never waits.
   */
  open(name: string, options?: PosixMessageQueueOpenOptions): Promise<PosixMessageQueue>;
  /**
   * Removes the name (`mq_unlink`). Handles already open keep working; the queue itself goes away
   * once the last one closes. Rejects with `ENOENT` if there is no such name, `EPERM` if the caller
   * may not remove it (Linux's queue directory is sticky: only the queue's owner, or root, removes
   * it).
   */
  unlink(name: string): Promise<void>;
}

/** DI token for {@link PosixMessageQueues}. */
export const PosixMessageQueues: symbol = factoryToken('posixMessageQueues');
