// Bench child serving bulk runs over a Connection: the producer sends `count` copies of its bytes
// per command with sendBytes; the consumer takes `count` messages with recvBytesInto into one
// reused buffer (no array per message) and answers with the bytes it got.
import { defineChild } from '@ipcx/multiprocessing';

export default defineChild(async ({ args: [role, data, control, value] }) => {
  const buffer = new Uint8Array(value.length);
  for (let count = await control.recv(); count !== null; count = await control.recv()) {
    if (role === 'producer') for (let i = 0; i < count; i++) await data.sendBytes(value);
    else {
      let bytes = 0;
      for (let i = 0; i < count; i++) bytes += await data.recvBytesInto(buffer);
      await control.send(bytes);
    }
  }
  await control.close();
});
