/**
 * The worker thread behind {@link LeaseRenewer}: renews one client's lease on a connection of its
 * own, every third of the lease, whatever the client's main thread is doing (a main thread busy
 * for longer than the lease keeps its SEM_UNDO units). It posts each renewal's list of clients
 * whose lease ran out to the main thread, which reaps them (the reapers run there). It stops when
 * told (`'stop'`: closes its connection, then its port, so the thread ends) or with its process:
 * a process that dies stops renewing, and its lease runs out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, type ConnectionSpec } from './connection.js';
import { defineScripts, runScript } from './scripts.js';

/** What the worker posts: a renewal's outcome. */
export type LeaseReport = { readonly ok: true; readonly expired: readonly string[] } | { readonly ok: false; readonly message: string; readonly name: string };

const { spec } = workerData as { spec: ConnectionSpec };
const client = connect(spec.connection, { maxRetriesPerRequest: 1, connectionName: `${spec.prefix}:${spec.clientId ?? 'client'}:lease` });
client.on('error', () => {
  // Each failed renewal reports its own error; the next one tries again.
});
defineScripts(client);
const clientsKey = `${spec.prefix}:clients`;
let stopped = false;
let timer: NodeJS.Timeout | undefined;

async function renew(): Promise<void> {
  let report: LeaseReport;
  try {
    const reply = (await runScript(client, 'lease-renew', [clientsKey], [spec.clientId!, spec.leaseMs])) as Array<Buffer | string>;
    report = { ok: true, expired: reply.slice(1).map((v) => v.toString()) };
  } catch (error) {
    report = { ok: false, message: error instanceof Error ? error.message : String(error), name: error instanceof Error ? error.name : 'Error' };
  }
  if (!stopped) parentPort!.postMessage(report);
}

function schedule(): void {
  // A renewal every third of the lease, the next one timed from the end of the last (a slow server
  // never piles renewals up on this connection).
  timer = setTimeout(() => {
    void renew().then(() => {
      if (!stopped) schedule();
    });
  }, Math.max(100, Math.floor(spec.leaseMs / 3)));
}

parentPort!.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  stopped = true;
  if (timer !== undefined) clearTimeout(timer);
  client.disconnect();
  parentPort!.close();
});

void renew().then(() => {
  if (!stopped) schedule();
});
