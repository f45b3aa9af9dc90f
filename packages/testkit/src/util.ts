/** Small helpers shared by the suites. */
import { onTestFinished } from 'vitest';
import type { ByteReader, IpcObject } from '@ipcx/core';

/** Closes `object` when the current test finishes, passed or failed. Returns it. */
export function closeAfter<T extends IpcObject>(object: T): T {
  onTestFinished(async () => {
    await object.close();
  });
  return object;
}

/** Closes every object when the current test finishes. */
export function closeAllAfter<T extends readonly IpcObject[]>(objects: T): T {
  for (const object of objects) closeAfter(object);
  return objects;
}

/** Reads until EOF and returns all bytes. */
export async function readToEnd(reader: ByteReader): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of reader) chunks.push(chunk);
  return concatBytes(chunks);
}

/** The chunks' bytes one after another (host-neutral: no Buffer in a page). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** UTF-8 text of bytes. */
export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reads a byte stream as lines (children report through a pipe one line per event; lines shorter
 * than PIPE_BUF are written atomically, so lines of several children never mix).
 */
export class LineReader {
  private buffered = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly reader: ByteReader) {}

  /** The next line without its newline, or `null` at EOF. */
  async next(options?: { timeout?: number }): Promise<string | null> {
    for (;;) {
      const newline = this.buffered.indexOf('\n');
      if (newline >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        return line;
      }
      const chunk = await this.reader.read(options);
      if (chunk === null) return this.buffered === '' ? null : this.take();
      this.buffered += this.decoder.decode(chunk, { stream: true });
    }
  }

  /** The next line parsed as JSON; throws at EOF. */
  async json<T = Record<string, unknown>>(options?: { timeout?: number }): Promise<T> {
    const line = await this.next(options);
    if (line === null) throw new Error('expected a JSON line, got EOF');
    return JSON.parse(line) as T;
  }

  /** Every remaining line until EOF. */
  async rest(): Promise<string[]> {
    const lines: string[] = [];
    for (let line = await this.next(); line !== null; line = await this.next()) lines.push(line);
    return lines;
  }

  private take(): string {
    const rest = this.buffered;
    this.buffered = '';
    return rest;
  }
}

/**
 * Polls `condition` every 5 ms until it is true (for state another process reaches, such as a
 * waiter being counted by the kernel). Fails after `timeoutMs` with `what` in the message.
 */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}
