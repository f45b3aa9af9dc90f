/**
 * Event: Python's `multiprocessing.Event`, one System V semaphore that is 1 while the event is
 * clear and 0 once set, so that `wait` is the kernel's wait-for-zero: `set` wakes every waiter in
 * every process at once.
 */
import type { IpcBackend, SemaphoreSet } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import { closedDuring, closedObject, createSemaphores, release, semopOptions, tryOperate, type AcquireOptions } from './kernel-objects.js';
import { registerReviver, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';

const CLEAR = 0;

/**
 * A flag between processes that can be waited for.
 *
 * **Blocking**: `wait` waits (without blocking the event loop) until the flag is set; `set`,
 * `clear` and `isSet` never wait. **Atomic**: each is one kernel operation. **Crash**: the flag
 * is state, not ownership: a process that dies leaves it as it was.
 */
export class Event implements Shareable, AsyncDisposable {
  private isClosed = false;

  /** @internal Use {@link Event.create}. */
  constructor(
    /** @internal */ readonly semaphores: SemaphoreSet,
    private readonly owner: boolean,
  ) {}

  /** Makes a clear event owned by this process (its close removes it). */
  static async create(backend: IpcBackend): Promise<Event> {
    return new Event(await createSemaphores(backend, [1]), true);
  }

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** True if the flag is set. */
  isSet(): boolean {
    this.checkOpen('isSet');
    return this.semaphores.value(CLEAR) === 0;
  }

  /** Sets the flag and wakes every waiter (`SETVAL`). */
  set(): void {
    this.checkOpen('set');
    this.semaphores.setValue(CLEAR, 0);
  }

  /** Clears the flag: later waits wait again. */
  clear(): void {
    this.checkOpen('clear');
    this.semaphores.setValue(CLEAR, 1);
  }

  /**
   * Resolves `true` once the flag is set (at once if it is), `false` when `timeout` passes or
   * with `nowait` while clear, as Python's `wait` returns the flag. `AbortError` on `signal`;
   * `CLOSED` after close (also when this handle is closed while it waits).
   */
  async wait(options?: AcquireOptions): Promise<boolean> {
    this.checkOpen('wait');
    try {
      return await tryOperate(() => this.semaphores.waitForZero(CLEAR, semopOptions(options)));
    } catch (error) {
      throw closedDuring(error, this.isClosed, 'event', 'wait');
    }
  }

  /**
   * Gives up this handle (the creator's close removes the event; waiters elsewhere get `EIDRM`).
   * A `wait` of this handle still waiting rejects with `CLOSED`.
   */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await release(this.owner, [this.semaphores]);
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Lets core's `processes.spawn` carry it in `args`, for any child (see share.ts). @internal */
  [moduleTransferSymbol](): ModuleTransfer {
    return transferByModule(this);
  }

  /** @internal */
  [shareSymbol](): ShareRecord {
    this.checkOpen('share');
    return { kind: 'event', data: { semaphores: this.semaphores.id } };
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw closedObject('event', operation);
  }
}

registerReviver('event', async (data, backend) => new Event(await backend.semaphores.openById((data as { semaphores: number }).semaphores), false));
