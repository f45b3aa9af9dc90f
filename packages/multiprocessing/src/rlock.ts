/**
 * RLock: Python's `multiprocessing.RLock`, a {@link Lock} that its holder may take again. The
 * holder is this handle in this process (JavaScript has one thread per process or worker; async
 * tasks of one holder share it, as Python's threads of one owner cannot); the depth is counted
 * here, the lock itself is a robust {@link Lock} across processes.
 */
import type { IpcBackend } from '@ipcx/core';
import { moduleTransferSymbol, type ModuleTransfer } from '@ipcx/core';
import { ErrorCode, MultiprocessingError } from './errors.js';
import { closedObject, type AcquireOptions } from './kernel-objects.js';
import { Lock } from './lock.js';
import { registerReviver, shareSymbol, transferByModule, type Shareable, type ShareRecord } from './share.js';

/**
 * A re-entrant lock between processes. Blocking, atomicity and crash behaviour are the
 * {@link Lock}'s: a holder that dies frees it whatever its depth, and the next acquirer sees
 * {@link RLock.previousOwnerDied}.
 */
export class RLock implements Shareable, AsyncDisposable {
  private depth = 0;

  /** @internal Use {@link RLock.create}. */
  constructor(/** @internal */ readonly lock: Lock) {}

  /** Makes a free re-entrant lock owned by this process (its close removes it). */
  static async create(backend: IpcBackend): Promise<RLock> {
    return new RLock(await Lock.create(backend));
  }

  /** True once this handle is closed. */
  get closed(): boolean {
    return this.lock.closed;
  }

  /** See {@link Lock.previousOwnerDied}. */
  get previousOwnerDied(): boolean {
    return this.lock.previousOwnerDied;
  }

  /** How many times this handle holds the lock now (0: not held here). */
  get recursionDepth(): number {
    return this.depth;
  }

  /**
   * Takes the lock, or takes it once more if this handle holds it (never waits then). Resolves
   * `false` on `timeout`/`nowait` and rejects as {@link Lock.acquire} (`CLOSED` after close, at
   * any depth).
   */
  async acquire(options?: AcquireOptions): Promise<boolean> {
    if (this.closed) throw closedObject('lock', 'acquire');
    if (this.depth > 0) {
      this.depth++;
      return true;
    }
    if (!(await this.lock.acquire(options))) return false;
    this.depth = 1;
    return true;
  }

  /**
   * Gives up one level; the last level releases the lock. Rejects with `NOT_OWNER` if this handle
   * does not hold it, `CLOSED` after close.
   */
  async release(): Promise<void> {
    if (this.closed) throw closedObject('lock', 'release');
    if (this.depth === 0) throw new MultiprocessingError(ErrorCode.notOwner, 'release() of an RLock this process does not hold');
    this.depth--;
    if (this.depth === 0) await this.lock.release();
  }

  /** @internal For Condition: releases every level and returns how many there were. */
  async releaseAll(): Promise<number> {
    const depth = this.depth;
    if (depth === 0) throw new MultiprocessingError(ErrorCode.notOwner, 'this process does not hold the RLock');
    this.depth = 0;
    await this.lock.release();
    return depth;
  }

  /** @internal For Condition: takes the lock back at `depth` levels. */
  async restore(depth: number): Promise<void> {
    await this.lock.acquire();
    this.depth = depth;
  }

  /** Gives up this handle (the creator's close removes the lock). */
  async close(): Promise<void> {
    await this.lock.close();
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
    return { kind: 'rlock', data: { semaphores: this.lock.semaphores.id } };
  }
}

registerReviver('rlock', async (data, backend) => new RLock(new Lock(await backend.semaphores.openById((data as { semaphores: number }).semaphores), false)));
