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
import { renewLeaseEvery } from './lease.js';
import { defineScripts } from './scripts.js';

const { spec } = workerData as { spec: ConnectionSpec };
const client = connect(spec.connection, { maxRetriesPerRequest: 1, connectionName: `${spec.prefix}:${spec.clientId ?? 'client'}:lease` });
client.on('error', () => {
  // Each failed renewal reports its own error; the next one tries again.
});
defineScripts(client);
// Started after the main thread's first renewal: the client holds its lease from the start.
const stop = renewLeaseEvery(client, spec, true, true, (report) => parentPort!.postMessage(report));

parentPort!.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  stop();
  client.disconnect();
  parentPort!.close();
});
