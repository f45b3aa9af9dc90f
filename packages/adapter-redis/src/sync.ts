/**
 * Synchronous calls for the parts of the contract that are synchronous (`SemaphoreSet.value()`,
 * `post()`, `stat()`, `PosixSemaphore.tryWait()`, `PosixMessageQueue.attributes()`, ...): a
 * worker thread with its own Redis connection runs the script while this thread waits for it
 * with `Atomics.wait`, then takes the reply with `receiveMessageOnPort`. The event loop stands
 * still for one round trip to the server (about 0.1 ms on one host); a call that takes longer
 * than `syncTimeoutMs` throws `ETIMEDOUT`. The worker starts when an object that needs it is
 * opened (or on first use), one per backend, and does not keep the process alive; calls made while
 * it still starts get extra time.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { IpcError } from '@ipcx/core';
import type { ConnectionSpec } from './connection.js';
import type { ScriptArgument, ScriptName } from './scripts.js';

/** Extra time the first calls get while the worker thread starts and connects. */
const STARTUP_GRACE_MS = 15_000;

/** A request to the worker. */
export interface SyncRequest {
  readonly seq: number;
  readonly name: ScriptName | 'ping' | string;
  /** A plain Redis command (`name` is the command) rather than a script. */
  readonly raw?: boolean;
  readonly keys: readonly string[];
  readonly args: readonly ScriptArgument[];
}

/** The worker's answer. */
export interface SyncResponse {
  readonly seq: number;
  readonly ok: boolean;
  /** The raw reply (Uint8Arrays for bulk strings) or the error message. */
  readonly value: unknown;
  readonly errorName?: string;
}

/**
 * Asks the worker to renew this client's lease itself (`hold`), every third of the lease, until
 * `release`: see {@link SyncBridge.holdLease}.
 */
export interface LeaseHoldRequest {
  readonly lease: 'hold' | 'release';
}

/** The synchronous bridge of one backend. */
export class SyncBridge {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private flag: Int32Array | undefined;
  private seq = 0;
  private closed = false;

  constructor(private readonly spec: ConnectionSpec) {}

  /** Starts the worker now (it then connects while this thread does other work). */
  start(): void {
    if (this.worker !== undefined || this.closed) return;
    // [0]: a reply is ready; [1]: the worker has connected (until then a call may wait longer).
    const shared = new SharedArrayBuffer(8);
    this.flag = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./sync-worker.js', import.meta.url), {
      workerData: { spec: this.spec, flag: shared, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    this.worker.on('error', () => {
      // Surfaces as a timeout of the pending call; a later call restarts nothing (the backend is broken).
    });
  }

  /** The reply for `seq`, dropping stale replies of calls that timed out. */
  private take(seq: number): SyncResponse | undefined {
    for (;;) {
      const message = receiveMessageOnPort(this.port!);
      if (message === undefined) return undefined;
      const reply = message.message as SyncResponse;
      if (reply.seq === seq) return reply;
    }
  }

  /** Runs a script and returns its raw reply, blocking this thread for the round trip. */
  call(name: ScriptName, keys: readonly string[], args: readonly ScriptArgument[], syscall: string): unknown {
    return this.request({ seq: 0, name, keys, args }, syscall);
  }

  /** Runs a plain Redis command (`sadd`, `zadd`, ...) synchronously. */
  command(name: string, args: readonly ScriptArgument[], syscall: string): unknown {
    return this.request({ seq: 0, name, keys: [], args, raw: true }, syscall);
  }

  private request(request: SyncRequest, syscall: string): unknown {
    if (this.closed) throw new IpcError('EBADF', { syscall, message: `EBADF: ${syscall}: the backend is closed` });
    this.start();
    const seq = ++this.seq;
    Atomics.store(this.flag!, 0, 0);
    this.worker!.postMessage({ ...request, seq } satisfies SyncRequest);
    // A call made while the worker still starts (loads ioredis, connects) gets that time on top.
    const starting = Atomics.load(this.flag!, 1) === 0;
    const deadline = Date.now() + this.spec.syncTimeoutMs + (starting ? STARTUP_GRACE_MS : 0);
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.flag!, 0, 0, left) === 'timed-out') {
        throw new IpcError('ETIMEDOUT', { syscall, message: `ETIMEDOUT: ${syscall}: no answer from Redis within ${this.spec.syncTimeoutMs} ms` });
      }
      const reply = this.take(seq);
      if (reply === undefined) {
        // A stale reply woke us: wait again for ours.
        Atomics.store(this.flag!, 0, 0);
        continue;
      }
      if (!reply.ok) {
        const code = reply.errorName === 'connection' ? 'ECONNRESET' : /NOPERM|NOAUTH|WRONGPASS/.test(String(reply.value)) ? 'EACCES' : 'EIO';
        throw new IpcError(code, { syscall, message: `${code}: ${syscall} failed: Redis: ${String(reply.value)}` });
      }
      return toBuffers(reply.value);
    }
  }

  /**
   * Has the bridge's thread renew the client's lease (every third of the lease, on its own
   * connection) until {@link releaseLease}. For a synchronous call that leaves state the lease
   * guards (a `post` with undo) before the lease renewal thread has started: such a call cannot
   * wait for that thread (tens of seconds on a busy machine), and a main thread that then blocks
   * for longer than the lease would lose its undo to whoever reaps it. The bridge's thread is
   * already running (the call went through it), so it renews whatever this thread does.
   */
  holdLease(): void {
    if (this.closed || this.worker === undefined) return;
    this.worker.postMessage({ lease: 'hold' } satisfies LeaseHoldRequest);
  }

  /** Ends {@link holdLease}'s renewals (the renewal thread has taken over). */
  releaseLease(): void {
    if (this.closed || this.worker === undefined) return;
    this.worker.postMessage({ lease: 'release' } satisfies LeaseHoldRequest);
  }

  /** Stops the worker. */
  close(): void {
    this.closed = true;
    void this.worker?.terminate();
    this.port?.close();
  }
}

/** Structured cloning turns Buffers into Uint8Arrays; turn them back. */
function toBuffers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toBuffers);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}
