/**
 * Unix sockets in the emulated kernel, beyond the conformance suite: what happens to handles in
 * flight that nobody receives, memory reuse, the kernel's buffer limits, and the namespace as the
 * leak check sees it.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { closeAfter, closeAllAfter, readToEnd, text } from '@ipcx/testkit';
import type { Kernel } from '../dist/kernel.js';
import { SocketLayout } from '../dist/layout.js';

const backend = createWorkerBackend({ memoryBytes: 16 * 1024 * 1024 });
const kernel = (backend.unixSockets as unknown as { kernel: Kernel }).kernel;
const sockets = backend.unixSockets;
let counter = 0;
const socketPath = (label: string) => `/tmp/ipcx-worker-socket-test/${++counter}-${label}.sock`;

describe('worker unix socket', () => {
  it('closes handles in flight when their message is never received, and frees everything', async () => {
    const dropUnread = async () => {
      const [a, b] = await sockets.pair('seqpacket');
      const [reader, writer] = closeAllAfter(await backend.pipes.create());
      await a.send('carrying the writer', { transfer: [writer] });
      await writer.close();
      expect(kernel.calls.sockets_in_flight()).toBe(1);
      // The writer in flight keeps the pipe open, as an fd in flight does.
      await expect(reader.read({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      await a.close();
      await b.close();
      // Dropped with its unread message: the pipe has no writer left.
      expect(await reader.read()).toBeNull();
      expect(kernel.calls.sockets_in_flight()).toBe(0);
      await reader.close();
    };
    // Once first, so that the allocator's first bump allocations (and their alignment) are behind us.
    await dropUnread();
    const liveBefore = kernel.calls.objects_live();
    const freeBefore = kernel.calls.heap_free_bytes();
    await dropUnread();
    expect(kernel.calls.objects_live()).toBe(liveBefore);
    expect(kernel.calls.heap_free_bytes()).toBe(freeBefore);
  });

  it('keeps each stream socket buffer to itself: a full one does not stop another', async () => {
    // Stream sockets count bytes in their own buffer (not the page slots of a pipe): filling one
    // leaves the next one's room untouched.
    const [a, b] = closeAllAfter(await sockets.pair());
    const [c, d] = closeAllAfter(await sockets.pair());
    const chunk = new Uint8Array(10_000).fill(3);
    let buffered = 0;
    for (;;) {
      const n = await a.write(chunk, { nowait: true }).catch((error: { code?: string }) => (error.code === 'EAGAIN' ? 0 : Promise.reject(error)));
      if (n === 0) break;
      buffered += n;
    }
    expect(buffered).toBe(SocketLayout.SOCKET_STREAM_CAPACITY);
    expect(await c.write(new Uint8Array(65_536).fill(4), { nowait: true })).toBe(65_536);
    const fromD = await d.read({ maxBytes: 1 << 20 });
    expect(fromD?.length).toBe(65_536);
    expect(fromD?.every((byte) => byte === 4)).toBe(true);
    let drained = 0;
    while (drained < buffered) {
      const piece = await b.read({ maxBytes: 1 << 20 });
      expect(piece?.every((byte) => byte === 3)).toBe(true);
      drained += piece!.length;
    }
    expect(drained).toBe(buffered);
  });

  it('drops the objects riding on stream bytes that a plain read() takes', async () => {
    const [s, t] = closeAllAfter(await sockets.pair());
    const [reader, writer] = closeAllAfter(await backend.pipes.create());
    await s.send('ab', { transfer: [writer] });
    await writer.close();
    await s.write('cd');
    expect(text(await t.read())).toBe('abcd');
    expect(kernel.calls.sockets_in_flight()).toBe(0);
    expect(await reader.read()).toBeNull();
  });

  it('stops a stream receive at bytes that carry objects and hands them over with those bytes', async () => {
    const [s, t] = closeAllAfter(await sockets.pair());
    const [x, y] = closeAllAfter(await sockets.pair('datagram'));
    await s.write('plain ');
    await s.send('carrier', { transfer: [x] });
    await s.write(' tail');
    await s.end();
    const first = (await t.receive())!;
    expect(text(first.data)).toBe('plain ');
    expect(first.objects).toEqual([]);
    const second = (await t.receive())!;
    expect(text(second.data)).toBe('carrier tail');
    expect(second.objects).toHaveLength(1);
    const received = closeAfter(second.objects[0] as typeof x);
    await y.send('to the passed socket');
    expect(text((await received.receive()).data)).toBe('to the passed socket');
    expect(await t.receive()).toBeNull();
  });

  it('carries a datagram as large as the socket buffer allows, and refuses one byte more with EMSGSIZE', async () => {
    const [a, b] = closeAllAfter(await sockets.pair('datagram'));
    const big = new Uint8Array(SocketLayout.SOCKET_MESSAGE_MAX).map((_, i) => i % 251);
    expect(await a.send(big)).toBe(big.length);
    const got = await b.receive({ maxBytes: 1 << 20 });
    expect(got.truncated).toBe(false);
    expect(got.data).toEqual(big);
    await expect(a.send(new Uint8Array(SocketLayout.SOCKET_MESSAGE_MAX + 1))).rejects.toMatchObject({ code: 'EMSGSIZE' });
  });

  it('makes a sender to a bound path wait past max_dgram_qlen and resumes it when the receiver reads', async () => {
    const path = socketPath('qlen');
    const receiver = closeAfter(await sockets.bind(path));
    const sender = closeAfter(await sockets.bind());
    // Linux lets max_dgram_qlen + 1 datagrams queue from a sender that is not the receiver's peer.
    for (let i = 0; i <= 10; i++) await sender.send(`d${i}`, { to: path, nowait: true });
    await expect(sender.send('full', { to: path, nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    const waiting = sender.send('d11', { to: path, timeout: 10_000 });
    expect(text((await receiver.receive()).data)).toBe('d0');
    expect(await waiting).toBe(3);
    const rest: string[] = [];
    for (let i = 1; i <= 11; i++) rest.push(text((await receiver.receive()).data)!);
    expect(rest).toEqual(Array.from({ length: 11 }, (_, i) => `d${i + 1}`));
  });

  it('lists bound paths and abstract names as kernel objects until they are gone', async () => {
    const path = socketPath('listed');
    const name = `ipcx-worker-test-${process.pid}-${++counter}`;
    const server = await sockets.listen(path);
    const abstract = await sockets.listen({ abstract: name });
    const listed = await backend.diagnostics.kernelObjects();
    expect(listed).toContain(`socket '${path}'`);
    expect(listed).toContain(`socket @${name}`);
    await server.close();
    await abstract.close();
    const after = await backend.diagnostics.kernelObjects();
    expect(after).not.toContain(`socket '${path}'`);
    expect(after).not.toContain(`socket @${name}`);
  });

  it('passes a listening socket to another owner, which accepts on it', async () => {
    const path = socketPath('passed-server');
    const server = closeAfter(await sockets.listen(path));
    const [a, b] = closeAllAfter(await sockets.pair('seqpacket'));
    await a.send('server', { transfer: [server] });
    const [passed] = (await b.receive())!.objects as [typeof server];
    closeAfter(passed);
    const client = closeAfter(await sockets.connect(path));
    const accepted = closeAfter(await passed.accept());
    await client.write('via the passed server');
    await client.end();
    expect(text(await readToEnd(accepted))).toBe('via the passed server');
  });

  it('has no network sockets: every member rejects with ENOSYS after the usual argument checks', async () => {
    const network = backend.networkSockets;
    await expect(network.listen({ host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ name: 'IpcError', code: 'ENOSYS', syscall: 'listen' });
    await expect(network.connect({ host: '127.0.0.1', port: 80 })).rejects.toMatchObject({ code: 'ENOSYS' });
    await expect(network.bind({ host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'ENOSYS' });
    await expect(network.listen({ host: '127.0.0.1', port: 70000 })).rejects.toBeInstanceOf(RangeError);
    expect(backend.capabilities.primitives.has('network-socket')).toBe(false);
  });
});
