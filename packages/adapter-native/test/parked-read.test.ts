/**
 * Reads that park at once (docs/DEVELOPING.md, "Spin before parking"): once a stream's reads keep
 * parking and the wait policy parks the next one at once (its spins missed, or were preempted), a
 * read skips its first non-blocking attempt and waits for the poll. These tests drive a real pipe
 * and a real POSIX message queue into that regime (a peer that answers only after the spin window)
 * and check that nothing changes for the caller: bytes and messages in order, bytes already there
 * still read, EOF, close and abort still cancel, and nothing is lost by a cancelled read.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';

const backend = createNativeBackend();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString());

/** Enough slow answers that every spin misses and the policy parks at once (4 misses switch it off). */
const SLOW_EXCHANGES = 24;

/** A real pipe whose reads the policy parks at once: every read of SLOW_EXCHANGES found nothing within its spin. */
async function parkedPipe(payload: (i: number) => string) {
  const [reader, writer] = await backend.pipes.create();
  onTestFinished(async () => {
    await reader.close();
    await writer.close();
  });
  for (let i = 0; i < SLOW_EXCHANGES; i++) {
    const read = reader.read();
    await sleep(1); // far past the longest spin window (120 µs): the read parks
    await writer.write(payload(i));
    expect(text(await read)).toBe(payload(i));
  }
  return { reader, writer };
}

describe('reads the wait policy parks at once', () => {
  it('a pipe read still gets every chunk in order, bytes already there, EOF; close and abort still cancel', async () => {
    const { reader, writer } = await parkedPipe((i) => `chunk ${i}`);
    // Bytes written before the read are there at once; the parked read finds them through the poll.
    await writer.write('already there');
    expect(text(await reader.read())).toBe('already there');
    // An aborted parked read takes nothing: the next read gets the bytes written after the abort.
    const controller = new AbortController();
    const aborted = reader.read({ signal: controller.signal });
    await sleep(1);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await writer.write('after abort');
    expect(text(await reader.read())).toBe('after abort');
    // EOF reaches a parked read.
    const atEnd = reader.read();
    await sleep(1);
    await writer.close();
    expect(await atEnd).toBeNull();
  });

  it('closing the reader rejects a parked read with EBADF', async () => {
    const { reader } = await parkedPipe(() => 'x');
    const pending = reader.read();
    await sleep(1);
    await reader.close();
    await expect(pending).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('a POSIX queue receive still gets every message in order, one already there, and an aborted receive takes none', async () => {
    const name = `/ipcx-parked-${process.pid}-${Date.now()}`;
    const queue = await backend.posixMessageQueues.open(name, { create: true, exclusive: true, maxMessages: 4, messageSize: 64 });
    onTestFinished(async () => {
      await queue.close();
      await backend.posixMessageQueues.unlink(name).catch(() => {});
    });
    for (let i = 0; i < SLOW_EXCHANGES; i++) {
      const received = queue.receive();
      await sleep(1);
      await queue.send(`message ${i}`);
      expect(text((await received).data)).toBe(`message ${i}`);
    }
    await queue.send('already there');
    expect(text((await queue.receive()).data)).toBe('already there');
    const controller = new AbortController();
    const aborted = queue.receive({ signal: controller.signal });
    await sleep(1);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await queue.send('after abort');
    expect(text((await queue.receive()).data)).toBe('after abort');
    expect(queue.attributes().currentMessages).toBe(0);
  });
});
