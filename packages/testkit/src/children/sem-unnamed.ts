/**
 * Child: waits on the unnamed semaphore `ready` (placed in `segment`), reads the text the parent
 * left at byte 64, writes `ack: <text>` at byte 128, and posts `done` (in the same segment).
 */
import { defineChild, type PosixSemaphore, type SharedSegment } from '@ipcx/core';

export default defineChild<[SharedSegment, PosixSemaphore, PosixSemaphore]>(async ({ args: [segment, ready, done] }) => {
  await ready.wait({ timeout: 10_000 });
  const bytes = segment.read(64, 64);
  const text = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
  segment.write(`ack: ${text}\0`, 128);
  done.post();
});
