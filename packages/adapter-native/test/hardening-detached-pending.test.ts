/**
 * A call queued with the caller's bytes (a `readInto` waiting for data, a write or send waiting for
 * room) may run after the caller detached its buffer (transferred it to a worker, or
 * `ArrayBuffer.prototype.transfer`). Its view then has 0 bytes, and the call used to go on with
 * them: `readInto` resolved 0, which reads as end of file while the pipe still held data, and a
 * queued write resolved 0 having sent nothing (a send queued an empty message). Now such a call
 * rejects with a TypeError saying so, consumes and sends nothing, and the object stays usable.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { IpcObject } from '@ipcx/core';
import { NativeDescriptor, createNativeBackend } from '@ipcx/adapter-native';

const backend = createNativeBackend();
const text = (bytes: Uint8Array | null | undefined) => (bytes == null ? null : Buffer.from(bytes).toString());

function closeAfter<T extends readonly IpcObject[]>(...objects: T): T {
  onTestFinished(async () => {
    for (const object of objects) await object.close();
  });
  return objects;
}

/** Detaches `view`'s buffer the way a transfer to a worker does. */
function detach(view: Uint8Array): void {
  const buffer = view.buffer as ArrayBuffer;
  structuredClone(buffer, { transfer: [buffer] });
  expect(view.byteLength).toBe(0);
}

/** What a promise settled with: `resolved <value>` or the rejection's class and message. */
function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    (value) => `resolved ${String(value)}`,
    (error: Error) => `${error.constructor.name}: ${error.message}`,
  );
}

/** Fills a writer with `nowait` writes until the kernel says EAGAIN; returns the bytes written. */
async function fill(write: (bytes: Uint8Array) => Promise<unknown>, chunk: number): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await write(new Uint8Array(chunk).fill(1)).then(
      (n) => (typeof n === 'number' ? n : chunk),
      (error: { code?: string }) => {
        if (error.code !== 'EAGAIN') throw error;
        return 0;
      },
    );
    if (result === 0) return total;
    total += result;
  }
}

describe('native: a queued call whose buffer was detached rejects with a TypeError and touches nothing', () => {
  it('readInto: the data stays in the pipe for the next read, and the reader goes on', async () => {
    const [reader, writer] = closeAfter(...(await backend.pipes.create()));
    const buffer = new Uint8Array(16);
    const pending = outcome(reader.readInto(buffer));
    detach(buffer);
    await writer.write('hello');
    expect(await pending).toBe('TypeError: buffer was detached or shrunk while the read was queued: nothing was read');
    expect(text(await reader.read({ nowait: true }))).toBe('hello');
    await writer.write('again');
    const fresh = new Uint8Array(16);
    const n = await reader.readInto(fresh);
    expect(text(fresh.subarray(0, n))).toBe('again');
  });

  it('write queued behind a full pipe: nothing of it is written, and the writer goes on', async () => {
    const [reader, writer] = closeAfter(...(await backend.pipes.create({ capacity: 4096 })));
    const filler = await fill((bytes) => writer.write(bytes, { nowait: true }), writer.capacity());
    const data = new Uint8Array(1000).fill(7);
    const pending = outcome(writer.write(data));
    detach(data);
    let drained = 0;
    for (;;) {
      const chunk = await reader.read({ nowait: true }).catch(() => null);
      if (chunk === null) break;
      expect(chunk.every((byte) => byte === 1)).toBe(true);
      drained += chunk.length;
    }
    expect(await pending).toBe('TypeError: data was detached or shrunk while the write was queued: 0 of 1000 bytes had been written');
    expect(drained).toBe(filler);
    await expect(reader.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    await writer.write('after');
    expect(text(await reader.read())).toBe('after');
  });

  it('stream socket send queued behind a full socket: nothing of it is sent', async () => {
    const [a, b] = closeAfter(...(await backend.unixSockets.pair('stream')));
    const filler = await fill((bytes) => a.send(bytes, { nowait: true }), 65536);
    const data = new Uint8Array(1000).fill(7);
    const pending = outcome(a.send(data));
    detach(data);
    let drained = 0;
    for (;;) {
      const message = await b.receive({ nowait: true }).catch(() => null);
      if (message === null) break;
      expect(message.data.every((byte) => byte === 1)).toBe(true);
      drained += message.data.length;
    }
    expect(await pending).toMatch(/^TypeError: data was detached or shrunk while the write was queued: 0 of 1000 bytes/);
    expect(drained).toBe(filler);
    await a.send('after');
    expect(text((await b.receive())!.data)).toBe('after');
  });

  it('seqpacket send queued behind a full socket: no empty message is sent', async () => {
    const [a, b] = closeAfter(...(await backend.unixSockets.pair('seqpacket')));
    await fill((bytes) => a.send(bytes, { nowait: true }), 1024);
    const data = new Uint8Array(100).fill(7);
    const pending = outcome(a.send(data));
    detach(data);
    const lengths = new Set<number>();
    for (;;) {
      const message = await b.receive({ nowait: true }).catch(() => null);
      if (message === null) break;
      lengths.add(message!.data.length);
    }
    expect(await pending).toBe('TypeError: data was detached or shrunk while the send was queued: nothing was sent');
    expect([...lengths]).toEqual([1024]);
    await a.send('after');
    expect(text((await b.receive())!.data)).toBe('after');
  });

  it('POSIX queue send queued behind a full queue: no empty message is queued', async () => {
    const name = `/ipcx-detached-pending-${process.pid}`;
    const queue = await backend.posixMessageQueues.open(name, { create: true, maxMessages: 2, messageSize: 64 });
    onTestFinished(async () => {
      await queue.close();
      await backend.posixMessageQueues.unlink(name).catch(() => {});
    });
    await queue.send('one');
    await queue.send('two');
    const data = new Uint8Array(10).fill(7);
    const pending = outcome(queue.send(data));
    detach(data);
    expect(text((await queue.receive()).data)).toBe('one');
    expect(await pending).toBe('TypeError: data was detached or shrunk while the send was queued: nothing was sent');
    expect(queue.attributes().currentMessages).toBe(1);
    await queue.send('after');
    expect(text((await queue.receive()).data)).toBe('two');
    expect(text((await queue.receive()).data)).toBe('after');
  });

  it('a generic descriptor write that waited on a thread resolves with the bytes it wrote, not 0', async () => {
    // A FIFO opened read-write is a generic descriptor here; its write waits on a waiter thread,
    // which writes its own copy of the bytes.
    const dir = mkdtempSync(path.join(tmpdir(), `ipcx-detached-${process.pid}-`));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const descriptor = new NativeDescriptor(openSync(fifo, constants.O_RDWR));
    closeAfter(descriptor);
    const drain = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    onTestFinished(() => closeSync(drain));
    const capacity = 65536;
    expect(await descriptor.write(new Uint8Array(capacity).fill(1))).toBe(capacity);
    const data = new Uint8Array(1000).fill(7);
    // The pipe is full: the write goes to a waiter thread with a copy of its bytes.
    const pending = outcome(descriptor.write(data));
    detach(data);
    const received: number[] = [];
    const chunk = Buffer.alloc(65536);
    while (received.length < capacity + 1000) {
      try {
        const n = readSync(drain, chunk);
        received.push(...chunk.subarray(0, n));
      } catch (error) {
        if ((error as { code?: string }).code !== 'EAGAIN') throw error;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    expect(await pending).toBe('resolved 1000');
    expect(received.slice(capacity).every((byte) => byte === 7)).toBe(true);
  });
});
