/**
 * What every open handle of this backend shares: its close state, the cancellers of its pending
 * waits, and its entry in the backend's list of open objects (for leak checks and for closing
 * what a child's main function left open).
 */
import { closedError } from '@ipcx/core';
import type { RedisConnection } from './connection.js';
import type { Cancellable } from './wait.js';

/**
 * What each primitive file's slice is made from (see backend.ts): the backend's connection, its
 * open handles, and the revivers by transfer-record kind, where each slice registers its own.
 */
export interface RedisBackendContext {
  readonly connection: RedisConnection;
  readonly registry: HandleRegistry;
  readonly revivers: Map<string, (data: unknown) => unknown>;
}

/** Open handles of one backend. */
export class HandleRegistry {
  private readonly open = new Set<Handle>();

  add(handle: Handle): void {
    this.open.add(handle);
  }

  delete(handle: Handle): void {
    this.open.delete(handle);
  }

  /** Descriptions of the handles open now. */
  describe(): string[] {
    return [...this.open].map((handle) => handle.describe());
  }

  /** Closes every open handle. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.open].map((handle) => handle.close()));
  }
}

/** Base of the backend's handles. */
export abstract class Handle implements Cancellable {
  private isClosed = false;
  private readonly cancellers = new Set<(error: Error) => void>();

  constructor(
    protected readonly registry: HandleRegistry,
    /** What kind of handle, for error messages: `'message queue'`. */
    protected readonly objectName: string,
  ) {
    registry.add(this);
  }

  /** True once `close()` has been called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** A short description for leak reports. */
  abstract describe(): string;

  /** Throws EBADF after close. */
  protected ensureOpen(syscall: string): void {
    if (this.isClosed) throw closedError(this.objectName, syscall);
  }

  /** @internal */
  onCancel(cancel: (error: Error) => void): () => void {
    this.cancellers.add(cancel);
    return () => this.cancellers.delete(cancel);
  }

  /** Ends pending waits with EBADF and gives up the handle; the object stays on the server. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.registry.delete(this);
    for (const cancel of [...this.cancellers]) cancel(closedError(this.objectName, 'close'));
    this.cancellers.clear();
    await this.closed_();
  }

  /** Extra work of a subclass's close (after pending waits were cancelled). */
  protected async closed_(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
