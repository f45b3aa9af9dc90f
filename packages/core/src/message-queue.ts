/**
 * System V message queues (`msgget`, `msgsnd`, `msgrcv`, `msgctl`; see msgop(2), msgctl(2)).
 *
 * A queue lives in the kernel, named by a numeric key (or made private with {@link IPC_PRIVATE}),
 * and holds typed messages: each message has a type (an integer >= 1) and a payload of bytes.
 * Receivers choose which message they take by its type. A queue outlives every process that uses
 * it until someone removes it; closing an ipcx handle never removes the queue.
 */
import type { IpcObject } from './object.js';
import type { NowaitOptions } from './options.js';
import { factoryToken } from './primitives.js';

/**
 * The key that always makes a new queue, reachable only by its id (`IPC_PRIVATE`, 0). Such a
 * queue reaches other processes by passing the {@link MessageQueue} object in
 * `processes.spawn(entry, { args })` (it travels by its id).
 */
export const IPC_PRIVATE = 0;

/**
 * Linux's default `msgmax`: the largest message (payload bytes) the kernel accepts unless an
 * administrator raised `/proc/sys/kernel/msgmax`.
 */
export const MSGMAX_DEFAULT = 8192;

/** Linux's default `msgmnb`: a new queue's `maxBytes` (`msg_qbytes`) unless raised. */
export const MSGMNB_DEFAULT = 16384;

/** The largest message type ipcx sends or selects: types must be exact in a JS number. */
export const MAX_MESSAGE_TYPE = Number.MAX_SAFE_INTEGER;

/** Options of {@link MessageQueues.open}. */
export interface MessageQueueOpenOptions {
  /**
   * Create the queue if no queue has this key (`IPC_CREAT`). Without it, opening a key that has no
   * queue rejects with `ENOENT`. {@link IPC_PRIVATE} always creates a new queue.
   */
  readonly create?: boolean;
  /**
   * With `create`: fail with `EEXIST` if a queue with this key exists already (`IPC_EXCL`).
   * Giving it without `create` is a `RangeError` (the kernel would ignore it).
   */
  readonly exclusive?: boolean;
  /**
   * Permission bits of a queue this call creates (default `0o600`): read permission lets a process
   * receive and stat, write permission lets it send. No umask applies. Ignored when the queue
   * exists already. Opening an existing queue without the permission rejects with `EACCES`.
   */
  readonly mode?: number;
}

/** Options of {@link MessageQueue.send}. */
export type MessageQueueSendOptions = NowaitOptions;

/** Options of {@link MessageQueue.receive}. */
export interface MessageQueueReceiveOptions extends NowaitOptions {
  /**
   * Which message to take (`msgtyp`), default `0`:
   * - `0`: the first message in the queue;
   * - `> 0`: the first message of exactly this type (with {@link except}: the first of any other type);
   * - `< 0`: the first message of the lowest type that is `<= -type`.
   */
  readonly type?: number;
  /** With `type > 0`: take the first message whose type is NOT `type` (`MSG_EXCEPT`). A `RangeError` with `type <= 0`. */
  readonly except?: boolean;
  /**
   * Take a message longer than `maxBytes` anyway, cut to `maxBytes` (`MSG_NOERROR`); the rest of
   * it is lost. Without it such a message is refused with `E2BIG` and stays in the queue.
   */
  readonly noError?: boolean;
  /**
   * The most payload bytes to accept (`msgsz`), default: the system's largest message size
   * (`msgmax`, {@link MSGMAX_DEFAULT} unless raised), so that a default receive never meets `E2BIG`.
   * An upper bound only: memory is taken for the message that arrives, not for `maxBytes`. A
   * message whose copy cannot be allocated is refused with `ENOMEM` and stays in the queue.
   */
  readonly maxBytes?: number;
}

/** A received message. */
export interface Message {
  /** Its type (>= 1). Types above {@link MAX_MESSAGE_TYPE} sent by other programs lose precision. */
  readonly type: number;
  /** Its payload (a `Buffer` on Node backends). */
  readonly data: Uint8Array;
}

/** Ownership and permissions of a queue (`msg_perm`, struct ipc_perm). */
export interface MessageQueuePermissions {
  /** The key the queue was made with ({@link IPC_PRIVATE} for a private queue), as a signed 32-bit `key_t`. */
  readonly key: number;
  /** Owner's user id. */
  readonly uid: number;
  /** Owner's group id. */
  readonly gid: number;
  /** Creator's user id. */
  readonly cuid: number;
  /** Creator's group id. */
  readonly cgid: number;
  /** Permission bits, e.g. `0o600`. */
  readonly mode: number;
}

/** A queue's state (`msgctl(IPC_STAT)`, struct msqid_ds). Times are seconds since the epoch, 0 meaning never. */
export interface MessageQueueStat {
  /** Ownership and permissions. */
  readonly perm: MessageQueuePermissions;
  /** Most payload bytes the queue holds at once (`msg_qbytes`); a send that would exceed it waits. */
  readonly maxBytes: number;
  /** Messages in the queue now (`msg_qnum`). */
  readonly messages: number;
  /** Payload bytes in the queue now (`msg_cbytes`). */
  readonly bytes: number;
  /** Process id of the last sender (`msg_lspid`), 0 if none. */
  readonly lastSendPid: number;
  /**
   * Who received last (`msg_lrpid`), 0 if nobody has, exactly as the kernel records it, which is
   * not always a process id. A receive that found its message records the receiving process's id.
   * A receive that was already waiting when the message arrived gets it handed over by the sender
   * (Linux's pipelined send), and the kernel then records the waiting task's thread id. The native
   * backend waits in a dedicated waiter thread, so after such a receive this holds the thread id of
   * one of the receiving process's waiter threads, not its pid (a C program that waits in a
   * thread other than its main one sees the same). While that thread lives, the `Tgid:` line of
   * `/proc/<id>/status` gives its process id. The worker backend records the receiving worker's
   * emulated pid (its thread id, `ChildProcess.pid`) in both cases.
   */
  readonly lastReceivePid: number;
  /** Time of the last send (`msg_stime`). */
  readonly lastSendTime: number;
  /** Time of the last receive (`msg_rtime`). */
  readonly lastReceiveTime: number;
  /** Time of the last change by creation or {@link MessageQueue.set} (`msg_ctime`). */
  readonly changeTime: number;
}

/** Options of {@link MessageQueue.set}: the fields to change, the others are kept. */
export interface MessageQueueSetOptions {
  /**
   * Most payload bytes the queue holds (`msg_qbytes`). Raising it above the system's `msgmnb`
   * needs privilege (`EPERM` otherwise).
   */
  readonly maxBytes?: number;
  /** Permission bits (`0o000`-`0o777`). */
  readonly mode?: number;
  /** New owner user id. */
  readonly uid?: number;
  /** New owner group id. */
  readonly gid?: number;
}

/**
 * A handle on a System V message queue. It travels to children in `processes.spawn` args by its
 * id. Closing gives up the handle only: the queue and its messages stay in the kernel until
 * {@link remove} (from any process, or `ipcrm -q`).
 *
 * Sends and receives that cannot complete at once wait without blocking the event loop; `signal`,
 * `timeout` and `close()` end the wait in the kernel. A message that the kernel handed over while
 * the wait was being cancelled is delivered, never lost. Concurrent receives of one process are
 * not ordered among themselves (as with several processes, the kernel decides).
 */
export interface MessageQueue extends IpcObject {
  /** The queue's id (`msqid`), as `ipcs -q` lists it. */
  readonly id: number;
  /**
   * The key it was opened by ({@link IPC_PRIVATE} for a private queue or one revived from an id;
   * the queue's own key, from `IPC_STAT`, when opened with {@link MessageQueues.openById}).
   */
  readonly key: number;
  /**
   * Appends a message of `type` (an integer >= 1) with `data` (a string is UTF-8 encoded) as
   * `msgsnd` does. Waits while the queue is full (its bytes would exceed `maxBytes`, or too many
   * messages); with `nowait` rejects at once with `EAGAIN` instead. Rejects with `EINVAL` if
   * `data` is longer than the system's `msgmax`, `EACCES` without write permission, `EIDRM` if
   * the queue is removed while waiting (`EINVAL` once it is gone), `ETIMEDOUT` on timeout,
   * `AbortError` on abort, `EBADF` after close. A send that is cancelled has not been queued.
   * Sends of one handle reach the queue in call order: while one waits, later ones wait behind it
   * (and a `nowait` send then fails with `EAGAIN`).
   */
  send(type: number, data: Uint8Array | string, options?: MessageQueueSendOptions): Promise<void>;
  /**
   * Takes a message chosen by `options.type` (see {@link MessageQueueReceiveOptions}) as `msgrcv`
   * does, waiting until there is one. With `nowait` rejects at once with `ENOMSG` when none
   * matches. Rejects with `E2BIG` (leaving the message in the queue) when it is longer than
   * `maxBytes` and `noError` is not set, `EACCES` without read permission, `EIDRM` if the queue is
   * removed while waiting (`EINVAL` once it is gone), `ETIMEDOUT` on timeout (`msgrcv` has no
   * timeout of its own: the wait is cancelled), `AbortError` on abort, `EBADF` after close.
   */
  receive(options?: MessageQueueReceiveOptions): Promise<Message>;
  /** The queue's state (`msgctl(IPC_STAT)`). Needs read permission (`EACCES`); `EINVAL`/`EIDRM` once removed. */
  stat(): Promise<MessageQueueStat>;
  /**
   * Changes limits, permissions or owner (`msgctl(IPC_SET)`). Allowed to the owner, the creator
   * and privileged processes (`EPERM` otherwise).
   */
  set(options: MessageQueueSetOptions): Promise<void>;
  /**
   * Removes the queue from the kernel at once (`msgctl(IPC_RMID)`): its messages are discarded,
   * every process waiting on it gets `EIDRM`, and later calls get `EINVAL`. Allowed to the owner,
   * the creator and privileged processes (`EPERM` otherwise). The handle stays open until closed.
   */
  remove(): Promise<void>;
}

/**
 * Opens and creates System V message queues. Queues are reached by key from any process
 * (including C and Python programs, `ipcs`, `ipcmk`), or passed to children as objects.
 */
export interface MessageQueues {
  /**
   * A key derived from an existing file and a project id (`ftok`): processes that agree on the
   * file and the id get the same key. `projectId` is 1-255. Rejects with `ENOENT` (or the
   * `stat` error) when the path cannot be examined. The key is a signed 32-bit `key_t`.
   */
  ftok(path: string, projectId: number): Promise<number>;
  /**
   * Opens the queue of `key` (`msgget`), creating it as `options` say; {@link IPC_PRIVATE} makes a
   * new private queue. Keys are 32-bit: unsigned values (as `ipcs` prints them) are taken as the
   * same bits. Rejects with `ENOENT` (no such queue and no `create`), `EEXIST` (`create` +
   * `exclusive` on an existing key), `EACCES` (the mode does not allow this user), `ENOSPC` (too
   * many queues in the system).
   */
  open(key: number, options?: MessageQueueOpenOptions): Promise<MessageQueue>;
  /**
   * A queue by its id (`msqid`, what `ipcs -q` and `ipcmk -Q` print), e.g. a private queue or one
   * made by another program, without a key and without a prior handle: the way to reach a private
   * queue whose creator died, so that it can be removed. The id is checked with `msgctl(IPC_STAT)`:
   * rejects with `EINVAL` when no queue has this id (never made, or removed), `EIDRM` when it is
   * being removed, `EACCES` without read permission. Send and receive permission are checked by
   * each call, as the kernel does. Throws `TypeError`/`RangeError` unless `id` is an integer from
   * 0 to 2^31 - 1.
   */
  openById(id: number): Promise<MessageQueue>;
  /**
   * Removes the queue `id` (`msgctl(IPC_RMID)`) without a handle, as `ipcrm -q` does: its
   * messages are discarded and every process waiting on it gets `EIDRM`. Needs no read
   * permission (unlike {@link openById}): allowed to the owner, the creator and privileged
   * processes (`EPERM` otherwise). Rejects with `EINVAL` when no queue has this id. Throws
   * `TypeError`/`RangeError` unless `id` is an integer from 0 to 2^31 - 1.
   */
  removeById(id: number): Promise<void>;
}

/** DI token for {@link MessageQueues}. */
export const MessageQueues: symbol = factoryToken('messageQueues');
