/**
 * What every ipcx object has: a one-time `close()` and `await using` support.
 *
 * Closing is not removing. Closing gives up this process's handle (a descriptor, an attachment);
 * kernel objects with a name or key (queues, semaphore sets, segments, FIFOs, POSIX names) stay in
 * the kernel until removed explicitly, exactly as the kernel keeps them.
 */
export interface IpcObject extends AsyncDisposable {
  /** True once `close()` has been called. */
  readonly closed: boolean;
  /**
   * Gives up this handle. Pending operations on it reject with `EBADF`; later calls reject with
   * `EBADF` too. Calling it again does nothing.
   */
  close(): Promise<void>;
}
