/**
 * Child: answers `rounds` pings on two event counters: reads `ping` (waiting while it is zero),
 * writes what it read plus one to `pong`. Then writes one JSON line: `{ rounds, semaphore, sum }`
 * (the modes it sees and the sum of the values it read, as a string: a bigint), or `{ code }`.
 */
import { defineChild, type ByteWriter, type Eventfd } from '@ipcx/core';

export default defineChild<[Eventfd, Eventfd, ByteWriter, number]>(async ({ args: [ping, pong, writer, rounds] }) => {
  let report: Record<string, unknown>;
  try {
    let sum = 0n;
    for (let i = 0; i < rounds; i++) {
      const value = await ping.read({ timeout: 30_000 });
      sum += value;
      await pong.write(value + 1n);
    }
    report = { rounds, semaphore: [ping.semaphore, pong.semaphore], sum: String(sum) };
  } catch (error) {
    report = { code: (error as { code?: string }).code ?? String(error) };
  }
  await writer.write(JSON.stringify(report) + '\n');
});
