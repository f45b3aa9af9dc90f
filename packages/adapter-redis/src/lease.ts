/**
 * Lease renewal off the main thread. A client's SEM_UNDO units (and its waits and handles) live as
 * long as its lease in `<prefix>:clients`; renewing it from the main thread's event loop would let
 * a client that is alive but busy (a long synchronous computation, a blocked loop) lose its units
 * to whoever reaps it. So a worker thread with its own connection (`lease-worker.ts`) renews it
 * every third of the lease, and reports the clients whose lease ran out; the main thread reaps
 * those (when it gets to it: a dead client's units need not come back faster than its lease).
 *
 * The thread does not keep the process alive, ends with `close()` (its connection closed first)
 * and with its process: a client that dies stops renewing at once.
 */
import { Worker } from 'node:worker_threads';
import type { Cluster, Redis } from 'ioredis';
import type { ConnectionSpec } from './connection.js';
import { runScript } from './scripts.js';

/** What a renewal gives: the clients whose lease ran out, or the renewal's error. */
export type LeaseReport =
  | { readonly ok: true; readonly expired: readonly string[]; readonly reaped: boolean }
  | { readonly ok: false; readonly message: string; readonly name: string };

/**
 * Renews the lease of `spec`'s client on `client` (whose scripts are defined) every third of the
 * lease, each renewal timed from the end of the last (a slow server never piles renewals up on the
 * connection), the first at once when `now`; `onRenewed` gets each renewal's report. For the
 * threads that renew off the main thread (`lease-worker.ts`, and `sync-worker.ts` until that one
 * has started). `present`: the client held its lease before this starts, so a renewal that finds
 * it gone reports `reaped` (the bridge's, which may renew before the first renewal, passes false).
 * Returns the function that stops it (a renewal in flight ends, none follows).
 */
export function renewLeaseEvery(client: Redis | Cluster, spec: ConnectionSpec, now: boolean, present: boolean, onRenewed: (report: LeaseReport) => void = () => undefined): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const renew = async (): Promise<void> => {
    let report: LeaseReport;
    try {
      const reply = (await runScript(client, 'lease-renew', [`${spec.prefix}:clients`], [spec.clientId!, spec.leaseMs, present ? 1 : 0])) as Array<Buffer | string>;
      report = { ok: true, expired: reply.slice(1).map((v) => v.toString()), reaped: reply[0]!.toString() === 'REAPED' };
    } catch (error) {
      report = { ok: false, message: error instanceof Error ? error.message : String(error), name: error instanceof Error ? error.name : 'Error' };
    }
    if (stopped) return;
    onRenewed(report);
    later();
  };
  const later = (): void => {
    timer = setTimeout(() => void renew(), Math.max(100, Math.floor(spec.leaseMs / 3)));
  };
  if (now) void renew();
  else later();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/** How long `close()` waits for the thread to close its connection before terminating it. */
const STOP_GRACE_MS = 2000;

/** The lease renewal thread of one backend. */
export class LeaseRenewer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /** Resolves at the thread's first report (its first renewal, done or failed). */
  readonly started: Promise<void>;

  /**
   * Starts the thread for the client of `spec` (whose lease the main thread has renewed once);
   * `onExpired` gets the ids of clients whose lease ran out (possibly again at the next renewal,
   * until reaped), `onReaped` is called when this client itself was found reaped, `onFailure` gets
   * a renewal's error.
   */
  constructor(spec: ConnectionSpec, onExpired: (clients: readonly string[]) => void, onReaped: () => void, onFailure: (error: Error) => void = () => undefined) {
    this.worker = new Worker(new URL('./lease-worker.js', import.meta.url), { workerData: { spec } });
    this.worker.unref();
    let started!: () => void;
    this.started = new Promise((resolve) => {
      started = resolve;
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        started();
        resolve();
      });
    });
    this.worker.on('message', (report: LeaseReport) => {
      started();
      if (report.ok) {
        if (report.reaped) onReaped();
        if (report.expired.length > 0) onExpired(report.expired);
      } else {
        const error = new Error(report.message);
        error.name = report.name;
        onFailure(error);
      }
    });
    this.worker.on('error', () => {
      // The thread failed (it could not load): 'exit' follows; renewals stop and the lease runs
      // out, as for a client that lost its link.
    });
  }

  /** Stops renewing: the thread closes its connection and ends (terminated if it does not in time). */
  async close(): Promise<void> {
    // Held alive until the thread is gone, so that close() completes in a process with nothing else to do.
    this.worker.ref();
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
