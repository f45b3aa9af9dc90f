/**
 * The worker thread behind {@link SyncBridge}: runs the scripts it is asked to on its own Redis
 * connection, posts each reply on the bridge's port, then wakes the waiting thread.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { connect, type ConnectionSpec } from './connection.js';
import { renewLeaseEvery } from './lease.js';
import { defineScripts, runScript, type ScriptName } from './scripts.js';
import type { LeaseHoldRequest, SyncRequest, SyncResponse } from './sync.js';

const { spec, flag: shared, port } = workerData as { spec: ConnectionSpec; flag: SharedArrayBuffer; port: MessagePort };
const flag = new Int32Array(shared);
const client = connect(spec.connection, { maxRetriesPerRequest: 1, connectionName: `${spec.prefix}:${spec.clientId ?? 'bridge'}:sync` });
client.on('error', () => {
  // Each failed call reports its own error.
});
defineScripts(client);
// Tell the bridge once connected: calls made before that get a grace period for the startup.
client.once('ready', () => {
  Atomics.store(flag, 1, 1);
});

function answer(response: SyncResponse): void {
  port.postMessage(response);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

// While held (SyncBridge.holdLease), this thread renews the client's lease too; the expired
// clients it finds are left to the renewal thread's reports (which the main thread reaps from).
let stopHolding: (() => void) | undefined;

parentPort!.on('message', (request: SyncRequest | LeaseHoldRequest) => {
  if ('lease' in request) {
    if (request.lease === 'hold') stopHolding ??= renewLeaseEvery(client, spec, false, false);
    else {
      stopHolding?.();
      stopHolding = undefined;
    }
    return;
  }
  const work =
    request.name === 'ping'
      ? client.ping()
      : request.raw
        ? client.call(request.name, ...(request.args as Array<string | number | Buffer>))
        : runScript(client, request.name as ScriptName, request.keys, request.args);
  work.then(
    (value) => answer({ seq: request.seq, ok: true, value }),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      const connection = error instanceof Error && (error.name === 'MaxRetriesPerRequestError' || /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET/.test(message));
      answer({ seq: request.seq, ok: false, value: message, errorName: connection ? 'connection' : 'reply' });
    },
  );
});
