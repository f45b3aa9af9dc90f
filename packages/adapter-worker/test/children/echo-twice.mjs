// Child of the lifetime test: reads twice from `reader`, each time with nothing else pending in
// its thread (the read parks on `Atomics.waitAsync`, which alone does not keep a worker alive), and
// writes what it read to `writer`; then returns.
//
// args: [reader, writer]
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ args: [reader, writer] }) => {
  for (let i = 0; i < 2; i++) {
    const got = await reader.read();
    await writer.write(got);
  }
});
