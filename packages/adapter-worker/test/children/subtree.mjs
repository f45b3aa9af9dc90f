// Child of the lifetime test: a chain of workers `depth` levels below the first, whose last (the
// leaf) holds what a dead process must give up: an inherited pipe writer, an exclusive file lock
// and a System V semaphore unit taken with SEM_UNDO. The levels above it close their own copies,
// so the leaf alone keeps them; each level waits for ever, except the first in mode 'return',
// which returns (the thread ends normally, ending the levels below) once the leaf holds all three,
// and in mode 'exit', which calls process.exit(3) then.
//
// args: [depth, mode ('hold' | 'return' | 'exit'), ready (SharedArrayBuffer: cell 0 = 1 once the leaf
// holds everything), writer, lock path, semaphore set (value 1)]
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ args: [depth, mode, ready, writer, lockPath, set], backend }) => {
  const cells = new Int32Array(ready);
  if (depth > 0) {
    await backend.processes.spawn(new URL(import.meta.url), { args: [depth - 1, 'hold', ready, writer, lockPath, set] });
    await writer.close();
    await set.close();
    if (mode !== 'hold') {
      while (Atomics.load(cells, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      if (mode === 'exit') process.exit(3);
      return;
    }
  } else {
    const lockFile = await backend.fileLocks.open(lockPath);
    await lockFile.lock({ start: 0, length: 1 });
    await set.operate([{ index: 0, delta: -1, undo: true }]);
    await writer.write('ready');
    Atomics.store(cells, 0, 1);
  }
  // Held until the thread is ended from outside (a timer keeps its event loop alive).
  await new Promise(() => setInterval(() => {}, 60_000));
});
