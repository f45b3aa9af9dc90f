/**
 * Semaphore and BoundedSemaphore: Python's counting semaphores between processes, over a System V
 * semaphore set:
 *
 * ```
 *  index 0 VALUE  units available
 *  index 1 TAKEN  units taken and not yet released (BoundedSemaphore: release fails at 0)
 * ```
 * With `robust` (the default) every unit is taken and given back with `SEM_UNDO`: units held by a
 * process that dies return to the semaphore when it ends. Robust semaphores must be released by
 * the process that acquired (a release elsewhere is undone again when that process ends); for a
 * semaphore used to signal between processes, make it with `robust: false`.
 */
import type { IpcBackend, SemaphoreSet } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer, SEMVMX } from '@ipcx/core';
import { ErrorCode, MultiprocessingError } from './errors.js';
import { closedDuring, closedObject, createSemaphores, release, semopOptions, tryOperate, whenNotBusy, type AcquireOptions } from './kernel-objects.js';
import { registerReviver, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';

const VALUE = 0;
const TAKEN = 1;

/** Options of {@link Semaphore.create}. */
export interface SemaphoreOptions {
  /** Units of a process that dies go back (`SEM_UNDO`); default true. See the file comment. */
  readonly robust?: boolean;
}

interface SemaphoreRecord {
  readonly semaphores: number;
  readonly robust: boolean;
  readonly bounded: boolean;
}

/**
 * A counting semaphore between processes.
 *
 * **Blocking**: `acquire` waits (without blocking the event loop) for a unit; `timeout`/`nowait`
 * resolve `false` when it gave up, `signal` rejects with `AbortError`. `release` never waits.
 *
 * **Atomic**: each acquire and release is one `semop`.
 *
 * **Crash**: with `robust`, units held by a dead process come back when it ends.
 */
export class Semaphore implements Shareable, AsyncDisposable {
  private isClosed = false;

  /** @internal Use {@link Semaphore.create}. */
  constructor(
    /** @internal */ readonly semaphores: SemaphoreSet,
    private readonly owner: boolean,
    private readonly robust: boolean,
    private readonly bounded: boolean,
  ) {}

  /** Makes a semaphore with `value` units (default 1, at most 32767) owned by this process (its close removes it). */
  static async create(backend: IpcBackend, value = 1, options: SemaphoreOptions = {}): Promise<Semaphore> {
    checkValue(value);
    return new Semaphore(await createSemaphores(backend, [value, 0]), true, options.robust ?? true, false);
  }

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Takes one unit, waiting for one. `false` on `timeout`/`nowait`; `AbortError` on `signal`;
   * `CLOSED` after close (also when this handle is closed while it waits).
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    this.checkOpen('acquire');
    const undo = this.robust;
    // Only a bounded semaphore counts what is taken (an unbounded one may be released anywhere).
    const operations = [{ index: VALUE, delta: -1, undo }];
    if (this.bounded) operations.push({ index: TAKEN, delta: 1, undo });
    try {
      return await tryOperate(() => this.semaphores.operate(operations, semopOptions(options)));
    } catch (error) {
      throw closedDuring(error, this.isClosed, 'semaphore', 'acquire');
    }
  }

  /**
   * Gives `count` units back (never waits) and wakes waiters. A {@link BoundedSemaphore} rejects
   * with `OVER_RELEASE` (nothing changed) when more would be released than are taken.
   */
  async release(count = 1): Promise<void> {
    this.checkOpen('release');
    if (!Number.isInteger(count) || count < 1 || count > SEMVMX) throw new RangeError(`count must be an integer from 1 to ${SEMVMX}`);
    const undo = this.robust;
    if (!this.bounded) {
      await whenNotBusy(() => this.semaphores.post(VALUE, count, { undo }));
      return;
    }
    const released = await tryOperate(() =>
      this.semaphores.operate(
        [
          { index: TAKEN, delta: -count, undo },
          { index: VALUE, delta: count, undo },
        ],
        { nowait: true },
      ),
    );
    if (!released) throw new MultiprocessingError(ErrorCode.overRelease, 'BoundedSemaphore released too many times');
  }

  /** Units available now (a snapshot; Python's `get_value`). */
  getValue(): number {
    this.checkOpen('getValue');
    return this.semaphores.value(VALUE);
  }

  /**
   * Gives up this handle; the creator's close removes the semaphore (waiters elsewhere get
   * `EIDRM`). An `acquire` of this handle still waiting rejects with `CLOSED`.
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
    const data: SemaphoreRecord = { semaphores: this.semaphores.id, robust: this.robust, bounded: this.bounded };
    return { kind: 'semaphore', data };
  }

  private checkOpen(operation: string): void {
    if (this.isClosed) throw closedObject('semaphore', operation);
  }
}

/** A {@link Semaphore} that refuses to be released more often than acquired (`OVER_RELEASE`). */
export class BoundedSemaphore extends Semaphore {
  /** Makes a bounded semaphore with `value` units owned by this process. */
  static override async create(backend: IpcBackend, value = 1, options: SemaphoreOptions = {}): Promise<BoundedSemaphore> {
    checkValue(value);
    return new BoundedSemaphore(await createSemaphores(backend, [value, 0]), true, options.robust ?? true, true);
  }
}

function checkValue(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > SEMVMX) throw new RangeError(`value must be an integer from 0 to ${SEMVMX}`);
}

registerReviver('semaphore', async (data, backend) => {
  const record = data as SemaphoreRecord;
  const set = await backend.semaphores.openById(record.semaphores);
  return record.bounded ? new BoundedSemaphore(set, false, record.robust, true) : new Semaphore(set, false, record.robust, false);
});
