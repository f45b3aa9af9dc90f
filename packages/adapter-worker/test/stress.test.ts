/**
 * Pipes under load between threads: several workers write atomic records of seeded random sizes
 * into one small pipe while this thread reads with random read sizes (every record arrives whole,
 * each writer's in order); a large transfer where the writer and the reader copy at the same time
 * (every byte in order); and a writer terminated in the middle of its copies (the reader gets a
 * clean prefix of the stream, then EOF).
 */
import { describe, expect, it } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { closeAllAfter, sleep, waitUntil } from '@ipcx/testkit';
// @ts-expect-error: a plain JavaScript child module, no types.
import { patternByte } from './children/pattern-writer.mjs';

const backend = createWorkerBackend({ memoryBytes: 16 * 1024 * 1024 });
const randomWriter = new URL('./children/random-writer.mjs', import.meta.url);
const patternWriter = new URL('./children/pattern-writer.mjs', import.meta.url);
const SEED = 20240607;

/**
 * Reads `reader` to EOF with seeded random readInto sizes up to `maxRead` (small ones take the
 * kernel's staged path, large ones the ring copies) and checks that the stream is the pattern
 * stream followed by exactly `trailer` (empty: the pattern alone), counting what it read in
 * `progress`. The pattern bytes it read.
 */
async function readPattern(
  reader: { readInto(buffer: Uint8Array): Promise<number> },
  maxRead: number,
  seed: number,
  trailer = new Uint8Array(0),
  progress = { bytes: 0 },
): Promise<number> {
  const buffer = new Uint8Array(maxRead);
  // The last trailer.length bytes are held back: only at EOF is it known where the pattern ends.
  const held = new Uint8Array(trailer.length + maxRead);
  let heldBytes = 0;
  let state = seed >>> 0;
  let position = 0; // pattern bytes checked
  for (;;) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const n = await reader.readInto(buffer.subarray(0, 1 + (state % maxRead)));
    if (n === 0) break;
    progress.bytes += n;
    held.set(buffer.subarray(0, n), heldBytes);
    heldBytes += n;
    const checkable = heldBytes - trailer.length;
    if (checkable <= 0) continue;
    for (let i = 0; i < checkable; i++) {
      // One expect per byte would be slow: find a wrong byte, then report it.
      if (held[i] !== patternByte(position + i)) expect({ position: position + i, byte: held[i] }).toEqual({ position: position + i, byte: patternByte(position + i) });
    }
    position += checkable;
    held.copyWithin(0, checkable, heldBytes);
    heldBytes = trailer.length;
  }
  expect(held.subarray(0, heldBytes)).toEqual(trailer);
  return position;
}

describe('worker pipe stress', () => {
  it('keeps records of up to PIPE_BUF bytes whole and in order across 3 workers and a 4 KiB pipe', async () => {
    const [reader, writer] = closeAllAfter(await backend.pipes.create({ capacity: 4096 }));
    const writers = 3;
    const count = 400;
    const children = await Promise.all(
      Array.from({ length: writers }, (_, i) => backend.processes.spawn(randomWriter, { args: [writer, i + 1, count, SEED + i] })),
    );
    await writer.close();
    let seed = SEED;
    const nextMax = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return 1 + (seed % 6000);
    };
    const chunks: Uint8Array[] = [];
    for (;;) {
      const chunk = await reader.read({ maxBytes: nextMax() });
      if (chunk === null) break;
      chunks.push(chunk);
    }
    const all = Buffer.concat(chunks);
    const next = new Map<number, number>();
    let offset = 0;
    while (offset < all.length) {
      const id = all[offset]!;
      const seq = all.readUInt32LE(offset + 1);
      const length = all.readUInt16LE(offset + 5);
      expect(seq).toBe(next.get(id) ?? 0);
      next.set(id, seq + 1);
      const body = all.subarray(offset + 7, offset + length);
      expect(body.every((byte) => byte === ((seq + id) & 255))).toBe(true);
      offset += length;
    }
    expect(offset).toBe(all.length);
    expect([...next.entries()].sort()).toEqual(Array.from({ length: writers }, (_, i) => [i + 1, count]));
    for (const child of children) expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it('moves 48 MiB from a worker to this thread in order while both copy at the same time', async () => {
    const [reader, writer] = closeAllAfter(await backend.pipes.create({ capacity: 1 << 20 }));
    const total = 48 << 20;
    const child = await backend.processes.spawn(patternWriter, { args: [writer, total, 256 * 1024, SEED] });
    await writer.close();
    expect(await readPattern(reader, 1 << 20, SEED + 1)).toBe(total);
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it('takes back the half-copied write of a writer terminated mid-copy: the stream goes on cleanly', async () => {
    // The writer copies large writes without the pipe's lock; terminated at random points (many of
    // them inside a copy), its reaper must take the half-copied write back and free the writing
    // side: a write from another thread then follows the last whole bytes directly (no stray or
    // missing bytes between), and does not wait forever on a side left busy.
    const trailer = new TextEncoder().encode('after the writer died: the stream goes on here\n'.repeat(100));
    for (let round = 0; round < 6; round++) {
      const [reader, writer] = closeAllAfter(await backend.pipes.create({ capacity: 1 << 20 }));
      const child = await backend.processes.spawn(patternWriter, { args: [writer, 0, 512 * 1024, SEED + round] });
      const progress = { bytes: 0 };
      const reading = readPattern(reader, 256 * 1024, SEED - round, trailer, progress);
      await waitUntil(() => progress.bytes > 0, 'the writer has started');
      await sleep(round * 3);
      child.kill();
      // A wrong byte ends the reading early: report that rather than wait on a full pipe.
      const failed = reading.then(() => new Promise<never>(() => {}));
      await Promise.race([failed, child.exited]);
      await Promise.race([failed, writer.write(trailer)]);
      await writer.close();
      expect(await reading).toBeGreaterThan(0);
    }
  });
});
