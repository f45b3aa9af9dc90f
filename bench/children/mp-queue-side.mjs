// Bench child serving runs: the producer puts `count` values per command, the consumer gets
// `count` values per command and answers when it has them all. Commands arrive on a Connection.
import { defineChild, registerCodec } from '@ipcx/multiprocessing';
import { RAW_CODEC } from './mp-raw-codec.mjs';

// At import: the queue in args is rebuilt (with its codec, by name) before main runs.
registerCodec(RAW_CODEC);

export default defineChild(async ({ args: [role, queue, control, value] }) => {
  for (let count = await control.recv(); count !== null; count = await control.recv()) {
    if (role === 'producer') for (let i = 0; i < count; i++) await queue.put(value);
    else {
      let bytes = 0;
      for (let i = 0; i < count; i++) {
        const got = await queue.get();
        bytes += got.length ?? 0;
      }
      await control.send(bytes);
    }
  }
  await control.close();
});
