// Peer of redis.sysv-mq.pingpong: a BullMQ worker that completes every job of queue `name` at
// once (returning its data); the adder waits for the completion. Ends on SIGTERM.
import { Worker } from 'bullmq';

const [port, name] = process.argv.slice(2);
const worker = new Worker(name, async (job) => job.data, { connection: { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null }, concurrency: 1 });
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await worker.close();
  process.exit(0);
});
