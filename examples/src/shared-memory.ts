/**
 * The seed's shared-memory example: a writer process appends "msg i" lines to a shared region and
 * a reader process prints the whole region after each write. The seed paces them with sleep();
 * here a System V semaphore set of two semaphores orders them exactly: "written" (0) is posted by
 * the writer after each line, "read" (1) by the reader after each look. The region is a POSIX
 * shared-memory object.
 */
import { defineChild, type PipeWriter, type PosixSegment, type SemaphoreSet } from '@ipcx/core';
import { expectEqual, lines, type ExampleMain, parentPid } from './example.js';

const WRITTEN = 0;
const READ = 1;
const ROUNDS = 10;

/** Child side, as 'writer' or 'reader'. */
export default defineChild<[PosixSegment, SemaphoreSet, 'writer' | 'reader', PipeWriter]>(async ({ args: [region, turns, role, report] }) => {
  if (role === 'writer') {
    let offset = 0;
    for (let i = 1; i <= ROUNDS; i++) {
      offset += region.write(`msg ${i} `, offset);
      turns.post(WRITTEN);
      await turns.wait(READ, 1, { timeout: 10_000 });
    }
    return;
  }
  for (let i = 1; i <= ROUNDS; i++) {
    await turns.wait(WRITTEN, 1, { timeout: 10_000 });
    const bytes = region.read();
    const text = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0))).trim();
    await report.write(JSON.stringify(text) + '\n');
    turns.post(READ);
  }
});

/** Parent side. */
export const main: ExampleMain = async (backend, { uniqueName }) => {
  const name = uniqueName('region');
  const region = await backend.sharedMemory.openPosix(name, { size: 1024, create: true, exclusive: true, mode: 0o600 });
  const turns = await backend.semaphores.open('private', { size: 2, create: true, mode: 0o600 });
  const [reportReader, reportWriter] = await backend.pipes.create();
  try {
    const writer = await backend.processes.spawn(import.meta.url, { args: [region, turns, 'writer', reportWriter] });
    const reader = await backend.processes.spawn(import.meta.url, { args: [region, turns, 'reader', reportWriter] });
    await reportWriter.close();
    const seen: string[] = [];
    for await (const line of lines(reportReader)) seen.push(line as string);
    expectEqual(await writer.exited, { code: 0, signal: null }, 'writer exit status');
    expectEqual(await reader.exited, { code: 0, signal: null }, 'reader exit status');
    const expected = Array.from({ length: ROUNDS }, (_, i) => Array.from({ length: i + 1 }, (_, j) => `msg ${j + 1}`).join(' '));
    expectEqual(seen, expected, 'what the reader saw after each write');
    return {
      outcome: seen,
      crossings: [
        { from: `writer ${writer.pid}`, to: `reader ${reader.pid}`, what: `${ROUNDS} lines through POSIX shared memory ${name}, turn by turn on semaphore set ${turns.id}` },
        { from: `reader ${reader.pid}`, to: `parent ${parentPid}`, what: `what it read each time, from "${seen[0]}" to "${seen[ROUNDS - 1]}"` },
      ],
    };
  } finally {
    await reportReader.close();
    await reportWriter.close();
    await turns.remove();
    await turns.close();
    await region.close();
    await backend.sharedMemory.unlinkPosix(name);
  }
};
