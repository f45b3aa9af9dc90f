// Sends `bytes` to the parent as freshly allocated ArrayBuffers of `chunk` bytes, transferred.
import { parentPort, workerData } from 'node:worker_threads';

const { bytes, chunk } = workerData;
for (let sent = 0; sent < bytes; sent += chunk) {
  const buffer = new ArrayBuffer(chunk);
  new Uint8Array(buffer)[0] = 1;
  parentPort.postMessage(buffer, [buffer]);
}
