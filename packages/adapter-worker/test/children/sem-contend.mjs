// Child of the kernel lock test: `rounds` times, takes semaphore 0 (a mutex, 1 when free), posts
// one unit to semaphore 1 (the tally) and gives semaphore 0 back; in between, a burst of posts to
// semaphore 2, so eight of these keep the set's kernel lock contended. Every call goes through the
// set's lock; a unit lost or applied twice shows in the final values.
import { defineChild } from '@ipcx/core';

export default defineChild(async ({ args: [set, rounds, burst] }) => {
  for (let i = 0; i < rounds; i++) {
    await set.wait(0);
    set.post(1);
    set.post(0);
    for (let j = 0; j < burst; j++) set.post(2);
    await set.wait(2, burst);
  }
});
