/**
 * Options every operation that can wait accepts.
 *
 * Waiting never blocks the event loop: such operations return a Promise. `signal` and `timeout`
 * end the wait in the kernel (or the emulation) itself; no thread or waiter is left behind.
 *
 * On the native backend a wait that has to sleep in a kernel call without a descriptor (System V
 * queues and semaphores, POSIX semaphores, futexes, a FIFO's open) sleeps on a thread of its own.
 * When no thread can be started (the thread limit of the process or user is reached: `ulimit -u`,
 * `kernel.threads-max`, a cgroup's `pids.max`) the operation rejects with `EAGAIN` whose
 * `syscall` is `'pthread_create'`, and nothing was done. Tell it apart from the `EAGAIN` of a
 * `nowait` miss or of a `semtimedop` timeout by that `syscall`.
 */
export interface WaitOptions {
  /** Aborting rejects the operation with an `AbortError` (code `ABORT_ERR`) and ends the wait. */
  readonly signal?: AbortSignal;
  /**
   * Milliseconds to wait at most. When it passes, the operation rejects with the code the kernel
   * uses for that call's timeout (`ETIMEDOUT` for most, `EAGAIN` for `semtimedop`).
   * Omitted or `Infinity`: wait as long as it takes.
   */
  readonly timeout?: number;
}

/** Options of an operation that can also be asked not to wait at all. */
export interface NowaitOptions extends WaitOptions {
  /**
   * Fail at once with the kernel's code (usually `EAGAIN`, `ENOMSG` for System V receives) instead
   * of waiting; its `syscall` is the call's own (`semop`, `msgsnd`, ...), never `'pthread_create'`
   * (see {@link WaitOptions}: a wait that could not get a thread). `signal` and `timeout` are
   * then irrelevant.
   */
  readonly nowait?: boolean;
}

/** Status of a process or worker that has ended. */
export interface ExitStatus {
  /** Exit code, or `null` if ended by a signal. */
  readonly code: number | null;
  /** Name of the signal that ended it (`'SIGKILL'`), or `null`. */
  readonly signal: string | null;
}

/** Identity of the process on the other end of a socket, as `SO_PEERCRED` reports it. */
export interface Credentials {
  /** Process id (for the worker backend: a per-worker id that is unique within the process). */
  readonly pid: number;
  /** User id. */
  readonly uid: number;
  /** Group id. */
  readonly gid: number;
}
