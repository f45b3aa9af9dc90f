/**
 * Child: one of several workers sharing a counting POSIX semaphore. Writes `ready <id>`, waits at
 * `gate` (so that all workers start together), then `rounds` times: takes a unit, writes
 * `enter <id>`, stays inside for `holdMs`, writes `leave <id>`, gives the unit back. "enter" is
 * written after taking and "leave" before giving back, so the order of lines in the pipe is an
 * order in which the semaphore really let them in.
 */
import { defineChild, type ByteWriter, type PosixSemaphore } from '@ipcx/core';

export default defineChild<[PosixSemaphore, PosixSemaphore, ByteWriter, number, number, number]>(
  async ({ args: [semaphore, gate, writer, id, rounds, holdMs] }) => {
    await writer.write(`ready ${id}\n`);
    await gate.wait();
    for (let round = 0; round < rounds; round++) {
      await semaphore.wait();
      await writer.write(`enter ${id}\n`);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      await writer.write(`leave ${id}\n`);
      semaphore.post();
    }
  },
);
