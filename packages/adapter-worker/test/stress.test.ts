/**
 * Several workers write atomic records of seeded random sizes into one small pipe while this
 * thread reads with random read sizes: every record arrives whole, each writer's in order.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { closeAllAfter } from '@ipcx/testkit';

const backend = createWorkerBackend({ memoryBytes: 4 * 1024 * 1024 });
const randomWriter = new URL('./children/random-writer.mjs', import.meta.url);
const SEED = 20240607;

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
});
