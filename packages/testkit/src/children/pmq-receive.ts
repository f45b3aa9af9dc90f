/**
 * Child: receives `count` messages from `queue` (waiting for each), then writes them to `report` as
 * one JSON array of `[text, priority]`, in the order received.
 */
import { defineChild, type ByteWriter, type PosixMessageQueue } from '@ipcx/core';

export default defineChild<[PosixMessageQueue, number, ByteWriter]>(async ({ args: [queue, count, report] }) => {
  const received: Array<[string, number]> = [];
  for (let i = 0; i < count; i++) {
    const { data, priority } = await queue.receive();
    received.push([new TextDecoder().decode(data), priority]);
  }
  await report.write(JSON.stringify(received));
});
