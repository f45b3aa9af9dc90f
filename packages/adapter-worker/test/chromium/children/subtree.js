// Child of the browser lifetime test (a module Web Worker): a chain of workers `depth` levels below
// the first, whose last (the leaf) holds an inherited pipe writer, an exclusive file lock and a
// System V semaphore unit taken with SEM_UNDO. The levels above close their own copies, so the
// leaf alone keeps them; each level waits for ever, except the first in mode 'return', which
// returns once the leaf holds all three (the page then terminates it, and the browser the levels
// below with its context).
//
// args: [depth, mode ('hold' | 'return'), ready (SharedArrayBuffer: cell 0 = 1 once the leaf holds
// everything), writer, lock path, semaphore set (value 1)]
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ args: [depth, mode, ready, writer, lockPath, set], backend }) => {
  const cells = new Int32Array(ready);
  if (depth > 0) {
    await backend.processes.spawn(new URL(import.meta.url).href, { args: [depth - 1, 'hold', ready, writer, lockPath, set] });
    await writer.close();
    await set.close();
    if (mode === 'return') {
      while (Atomics.load(cells, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      return;
    }
  } else {
    const lockFile = await backend.fileLocks.open(lockPath);
    await lockFile.lock({ start: 0, length: 1 });
    await set.operate([{ index: 0, delta: -1, undo: true }]);
    await writer.write('ready');
    Atomics.store(cells, 0, 1);
  }
  await new Promise(() => setInterval(() => {}, 60_000));
});
