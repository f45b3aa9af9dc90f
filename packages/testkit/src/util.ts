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
  return Buffer.concat(chunks);
}

/** UTF-8 text of bytes. */
export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
