/**
 * The ring's layout is drawn once, in src/ring.ts; this checks the drawing against the constants
 * the code uses, and the constants against the bytes a put really writes (native backend).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { FRAME_BYTES, FrameFlag, HEADER_BYTES, Queue, RING_MAGIC, RingField } from '@ipcx/multiprocessing';

const source = readFileSync(new URL('../src/ring.ts', import.meta.url), 'utf8');
const diagram = source.slice(source.indexOf('```'), source.indexOf('```', source.indexOf('```') + 3));

describe('multiprocessing native ring layout', () => {
  it('multiprocessing native: every header field is drawn in the cache line of its offset, in offset order', () => {
    const lines = [...diagram.matchAll(/line (\d) \((\d+)\.\.(\d+)\)[^\n]*\n[^\n]*?│([^\n]*)/g)];
    expect(lines.length).toBe(4);
    const drawn = new Set<string>();
    for (const [, , from, to, row] of lines) {
      const names = [...row.matchAll(/([A-Z_]+) (?:u32|seq)|([A-Z_]{4,})(?= |$)/g)].map((m) => m[1] ?? m[2]).filter((name) => name in RingField);
      const offsets = names.map((name) => RingField[name as keyof typeof RingField]);
      for (const offset of offsets) {
        expect(offset).toBeGreaterThanOrEqual(Number(from));
        expect(offset + 4).toBeLessThanOrEqual(Number(to) + 1);
      }
      expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
      names.forEach((name) => drawn.add(name));
    }
    expect([...drawn].sort()).toEqual(Object.keys(RingField).sort());
    expect(diagram).toContain(`HEADER_BYTES (${HEADER_BYTES})`);
    expect(diagram).toContain('length u32 │ flags u32');
    expect(FRAME_BYTES).toBe(8);
  });

  it('multiprocessing native: a put writes its frame where the layout says and publishes TAIL after it', async () => {
    const backend = createNativeBackend();
    const queue = await Queue.create<string>(backend, { capacity: 4096, maxsize: 5, codec: { name: 'raw-text', encode: (v) => new TextEncoder().encode(String(v)), decode: (b) => new TextDecoder().decode(b) } });
    onTestFinished(() => queue.close());
    const ring = (queue as unknown as { ring: { segment: { buffer: ArrayBuffer } } }).ring;
    const cells = new Int32Array(ring.segment.buffer);
    const bytes = new Uint8Array(ring.segment.buffer);
    expect(cells[RingField.MAGIC / 4]).toBe(RING_MAGIC);
    expect(cells[RingField.CAPACITY / 4]).toBe(4096);
    expect(cells[RingField.MAXSIZE / 4]).toBe(5);
    await queue.put('hello');
    expect(cells[HEADER_BYTES / 4]).toBe(5);
    expect(cells[HEADER_BYTES / 4 + 1]).toBe(FrameFlag.FIRST | FrameFlag.LAST);
    expect(new TextDecoder().decode(bytes.subarray(HEADER_BYTES + FRAME_BYTES, HEADER_BYTES + FRAME_BYTES + 5))).toBe('hello');
    // Frames are padded to 8 bytes.
    expect(cells[RingField.TAIL / 4]).toBe(FRAME_BYTES + 8);
    expect(cells[RingField.HEAD / 4]).toBe(0);
    // One value in: counted by the producers on their line, none taken on the consumers' line.
    expect(cells[RingField.PUT_VALUES / 4]).toBe(1);
    expect(cells[RingField.TAKEN_VALUES / 4]).toBe(0);
    expect(queue.qsize()).toBe(1);
    expect(await queue.get()).toBe('hello');
    expect(cells[RingField.HEAD / 4]).toBe(FRAME_BYTES + 8);
    expect(cells[RingField.PUT_VALUES / 4]).toBe(1);
    expect(cells[RingField.TAKEN_VALUES / 4]).toBe(1);
    expect(queue.qsize()).toBe(0);
  });
});
