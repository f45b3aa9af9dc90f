// The sending side of peer.postmessage-transfer.bulk: for each message (a byte count) from the
// parent, sends that many bytes as freshly allocated ArrayBuffers of `chunk` bytes, transferred.
import { parentPort, workerData } from 'node:worker_threads';

const { chunk } = workerData;
parentPort.on('message', (bytes) => {
  for (let sent = 0; sent < bytes; sent += chunk) {
    const buffer = new ArrayBuffer(chunk);
    new Uint8Array(buffer)[0] = 1;
    parentPort.postMessage(buffer, [buffer]);
  }
});
