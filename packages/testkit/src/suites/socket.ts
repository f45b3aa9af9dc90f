/**
 * Sockets, as the kernel defines them (unix(7), tcp(7), udp(7)): stream sockets are byte streams
 * with EOF after the peer's shutdown; datagram and seqpacket sockets keep message boundaries;
 * SO_PEERCRED names the peer process; SCM_RIGHTS carries open descriptors to another process;
 * addresses are paths (a socket file), abstract names, or host:port; the kernel's codes
 * (EADDRINUSE, ECONNREFUSED, ENOENT, EPIPE, EMSGSIZE) come back as IpcError codes.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ByteReader, ChildProcess, IpcObject, NetworkAddress, SocketAddress, UnixAddress } from '@ipcx/core';
import type { SuiteContext } from '../context.js';
import { closeAfter, closeAllAfter, readToEnd, text } from '../util.js';
import { chmodParentOnDisk, existsOnDisk, hostGid, hostPid, hostUid, removeFromDisk } from '../host.js';

/** Reads a child's JSON "ready" report (its real address) from a pipe until EOF. */
async function readReady(reader: ByteReader): Promise<SocketAddress> {
  return JSON.parse(text(await readToEnd(reader))!) as SocketAddress;
}

/** Kills `child` when the test finishes if it is still running. */
function killAfter(child: ChildProcess): ChildProcess {
  onTestFinished(async () => {
    child.kill('SIGKILL');
    await child.exited;
  });
  return child;
}

/** Removes `path` when the test finishes (a socket file a killed child left behind). */
function removeAfter(path: string): string {
  onTestFinished(() => removeFromDisk(path));
  return path;
}

const bytesOf = (message: { data: Uint8Array } | null) => (message === null ? null : [...message.data]);

/** Both socket suites: {@link unixSocketSuite}, then {@link networkSocketSuite}. */
export function socketSuite(context: SuiteContext): void {
  unixSocketSuite(context);
  networkSocketSuite(context);
}

/** Unix domain sockets (unix(7)): stream, datagram and seqpacket, paths and the abstract namespace, SCM_RIGHTS. */
export function unixSocketSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('unix-socket'))('unix socket', () => {
    const sockets = () => context.backend().unixSockets;
    const processes = () => context.backend().processes;

    /** Starts the echo-server child on `address`; resolves with it and the address it reported. */
    async function startServerChild(family: 'unix' | 'tcp', address: UnixAddress | NetworkAddress) {
      const [ready, readyWriter] = closeAllAfter(await context.backend().pipes.create());
      const child = killAfter(await processes().spawn(context.child('socket-echo-server'), { args: [family, address, readyWriter] }));
      await readyWriter.close();
      return { child, address: await readReady(ready) };
    }

    it('exchanges bytes in order with a child server, reads EOF, and names the peer process', async () => {
      const path = context.tempPath('echo.sock');
      const { child, address } = await startServerChild('unix', path);
      expect(address).toBe(path);
      const client = closeAfter(await sockets().connect(path));
      // SO_PEERCRED of a connected socket: the process that listened, i.e. the child.
      expect(client.peerCredentials()).toEqual({ pid: child.pid, uid: hostUid, gid: hostGid });
      expect(client.remoteAddress).toBe(path);
      const chunks = Array.from({ length: 40 }, (_, i) => `chunk ${i};`);
      for (const chunk of chunks) await client.write(chunk);
      await client.end();
      // end() only stopped our writing: the echo of everything still arrives, then EOF.
      expect(text(await readToEnd(client))).toBe(chunks.join(''));
      expect(await child.exited).toEqual({ code: 0, signal: null });
      // The child's server.close() removed its socket file.
      expect(existsOnDisk(path)).toBe(false);
    });

    it('accepts connections one by one through async iteration, reporting the client as peer', async () => {
      const path = context.tempPath('iter.sock');
      const server = closeAfter(await sockets().listen(path));
      const clients = closeAllAfter([await sockets().connect(path), await sockets().connect(path)]);
      const accepted: string[] = [];
      for await (const connection of server) {
        closeAfter(connection);
        expect(connection.peerCredentials().pid).toBe(hostPid);
        await clients[accepted.length]!.write(`client ${accepted.length}`);
        accepted.push(text(await connection.read())!);
        if (accepted.length === 2) await server.close();
      }
      expect(accepted).toEqual(['client 0', 'client 1']);
      expect(existsOnDisk(path)).toBe(false);
    });

    it('passes a pipe writer to a child over a socket (SCM_RIGHTS); the child writes into it', async () => {
      const [mine, theirs] = closeAllAfter(await sockets().pair('stream'));
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      const child = await processes().spawn(context.child('socket-fd-receiver'), { args: [theirs] });
      await theirs.close();
      await mine.send('hello', { transfer: [writer] });
      // Our own writer closes: EOF on the pipe then depends on the child's copy alone.
      await writer.close();
      expect(text(await readToEnd(reader))).toBe('child got: hello');
      expect(text(await readToEnd(mine))).toBe('objects=1');
      expect((await child.exited).code).toBe(0);
    });

    it('receives descriptors revived as ipcx objects, and sockets travel too', async () => {
      const [a, b] = closeAllAfter(await sockets().pair('seqpacket'));
      const [reader, writer] = closeAllAfter(await context.backend().pipes.create());
      const [x, y] = closeAllAfter(await sockets().pair('stream'));
      await a.send('two objects', { transfer: [reader, x] });
      const message = (await b.receive())!;
      expect(text(message.data)).toBe('two objects');
      expect(message.objects).toHaveLength(2);
      const [gotReader, gotSocket] = message.objects as [ByteReader, typeof x];
      closeAllAfter([gotReader as IpcObject, gotSocket]);
      await writer.write('through the passed reader');
      expect(text(await gotReader.read())).toBe('through the passed reader');
      await y.write('through the passed socket');
      expect(text(await gotSocket.read())).toBe('through the passed socket');
    });

    it('keeps seqpacket message boundaries from a child and reads null after it closed', async () => {
      const [mine, theirs] = closeAllAfter(await sockets().pair('seqpacket'));
      const sizes = [1, 300, 7, 5000, 64];
      const child = await processes().spawn(context.child('socket-message-sender'), { args: [theirs, sizes] });
      await theirs.close();
      for (const [i, size] of sizes.entries()) {
        const message = (await mine.receive())!;
        expect(message.truncated).toBe(false);
        expect(message.data.length).toBe(size);
        expect(message.data.every((byte) => byte === i + 1)).toBe(true);
      }
      expect(await mine.receive()).toBeNull();
      expect((await child.exited).code).toBe(0);
    });

    it('keeps datagram boundaries from a child and truncates a datagram larger than maxBytes', async () => {
      const [mine, theirs] = closeAllAfter(await sockets().pair('datagram'));
      const sizes = [10, 1, 2000, 3];
      const child = await processes().spawn(context.child('socket-message-sender'), { args: [theirs, sizes] });
      await theirs.close();
      expect(bytesOf(await mine.receive())).toEqual(new Array(10).fill(1));
      expect(bytesOf(await mine.receive())).toEqual([2]);
      const big = await mine.receive({ maxBytes: 100 });
      expect(big).toMatchObject({ truncated: true });
      expect(bytesOf(big)).toEqual(new Array(100).fill(3));
      // The rest of the truncated datagram is gone: the next receive is the next datagram.
      const last = await mine.receive();
      expect(last.truncated).toBe(false);
      expect(bytesOf(last)).toEqual([4, 4, 4]);
      expect((await child.exited).code).toBe(0);
    });

    it.skipIf(context.hasFeature('os-processes') && typeof process.getuid === 'function' && process.getuid() !== 0)(
      'refuses another user a connection to a path bound with the default mode (EACCES), not its own user',
      async () => {
        const path = context.tempPath('private.sock');
        // The folder must let the other user reach the socket file, or its own mode would refuse it.
        chmodParentOnDisk(path, 0o711);
        closeAfter(await sockets().listen(path));
        const attempt = async (user?: { uid: number; gid: number }): Promise<string | null> => {
          const [report, writer] = closeAllAfter(await context.backend().pipes.create());
          const child = await context.backend().processes.spawn(context.child('path-access'), { args: ['connect', path, writer], ...(user ? { user } : {}) });
          await writer.close();
          const outcome = text(await readToEnd(report));
          expect((await child.exited).code).toBe(0);
          return outcome;
        };
        expect(await attempt({ uid: 65534, gid: 65534 })).toBe('EACCES');
        expect(await attempt()).toBe('ok');
      },
    );

    it('sends datagrams to a bound path and reports the sender address', async () => {
      const path = context.tempPath('dgram.sock');
      const receiver = closeAfter(await sockets().bind(path));
      const named = closeAfter(await sockets().bind(undefined, { autobind: true }));
      const unnamed = closeAfter(await sockets().bind());
      expect(receiver.localAddress).toBe(path);
      expect(named.localAddress).toMatchObject({ abstract: expect.any(String) });
      expect(unnamed.localAddress).toBeUndefined();
      await named.send('from named', { to: path });
      await unnamed.send('', { to: path });
      const first = await receiver.receive();
      expect(text(first.data)).toBe('from named');
      expect(first.from).toEqual(named.localAddress);
      const second = await receiver.receive();
      expect(second.data.length).toBe(0);
      expect(second.from).toBeUndefined();
      // Replying to the sender's (autobound) address.
      await receiver.send('reply', { to: first.from! as UnixAddress });
      expect(text((await named.receive()).data)).toBe('reply');
      await receiver.close();
      expect(existsOnDisk(path)).toBe(false);
    });

    it('rejects an oversized datagram with EMSGSIZE and writing to a closed peer with EPIPE', async () => {
      const [a, b] = closeAllAfter(await sockets().pair('datagram'));
      await expect(a.send(new Uint8Array(4 << 20))).rejects.toMatchObject({ name: 'IpcError', code: 'EMSGSIZE' });
      await a.send('still works');
      expect(text((await b.receive()).data)).toBe('still works');
      const [s, t] = closeAllAfter(await sockets().pair('stream'));
      await t.close();
      await expect(s.write('anyone?')).rejects.toMatchObject({ code: 'EPIPE' });
      await expect(s.send('anyone?')).rejects.toMatchObject({ code: 'EPIPE' });
    });

    it('makes socketpairs of each type that talk both ways and name this process as peer', async () => {
      const [s1, s2] = closeAllAfter(await sockets().pair());
      await s1.write('ab');
      await s1.write('cd');
      await s2.write('reply');
      expect(text(await s2.read())).toBe('abcd');
      expect(text(await s1.read())).toBe('reply');
      await s2.end();
      expect(await s1.read()).toBeNull();
      expect(s1.peerCredentials().pid).toBe(hostPid);

      const [q1, q2] = closeAllAfter(await sockets().pair('seqpacket'));
      await q1.send('ab');
      await q1.send('cd');
      expect(text((await q2.receive())!.data)).toBe('ab');
      expect(text((await q2.receive())!.data)).toBe('cd');
      await q2.send('back');
      expect(text((await q1.receive())!.data)).toBe('back');
      await q1.end();
      expect(await q2.receive()).toBeNull();

      const [d1, d2] = closeAllAfter(await sockets().pair('datagram'));
      await d2.send('x');
      await d2.send('yz');
      expect(text((await d1.receive()).data)).toBe('x');
      expect(text((await d1.receive()).data)).toBe('yz');
    });

    it('listens and connects as seqpacket over a path', async () => {
      const path = context.tempPath('seq.sock');
      const server = closeAfter(await sockets().listen(path, { type: 'seqpacket' }));
      const [client, accepted] = await Promise.all([sockets().connect(path, { type: 'seqpacket' }), server.accept()]);
      closeAllAfter([client, accepted]);
      await client.send('one');
      await client.send('two');
      expect(text((await accepted.receive())!.data)).toBe('one');
      expect(text((await accepted.receive())!.data)).toBe('two');
      // A stream connect to a seqpacket listener is refused by type.
      await expect(sockets().connect(path)).rejects.toMatchObject({ code: 'EPROTOTYPE' });
    });

    it('gives EADDRINUSE for a second listen on a path, ECONNREFUSED and ENOENT on connect', async () => {
      const path = context.tempPath('busy.sock');
      closeAfter(await sockets().listen(path));
      await expect(sockets().listen(path)).rejects.toMatchObject({ name: 'IpcError', code: 'EADDRINUSE', syscall: 'bind', path });
      // replaceStale never takes a path from a live server.
      await expect(sockets().listen(path, { replaceStale: true })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      const missing = context.tempPath('missing.sock');
      await expect(sockets().connect(missing)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect', path: missing });
      const dgramPath = context.tempPath('taken.sock');
      closeAfter(await sockets().bind(dgramPath));
      await expect(sockets().bind(dgramPath)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect(sockets().bind(undefined).then((s) => s.send('x', { to: missing }).finally(() => s.close()))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('handles a stale socket path left by a server child killed with SIGKILL', async () => {
      const path = removeAfter(context.tempPath('stale.sock'));
      const { child } = await startServerChild('unix', path);
      child.kill('SIGKILL');
      const status = await child.exited;
      // Only an OS process dies of a signal; a worker child is terminated (see the process suite).
      if (context.hasFeature('os-processes')) expect(status).toEqual({ code: null, signal: 'SIGKILL' });
      // The file is still there but nobody listens. (An emulated namespace of paths makes no file:
      // there the stale path shows below, as EADDRINUSE.)
      if (context.hasFeature('host-interop')) expect(existsOnDisk(path)).toBe(true);
      await expect(sockets().connect(path)).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
      await expect(sockets().listen(path)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      const server = closeAfter(await sockets().listen(path, { replaceStale: true }));
      const [client, accepted] = await Promise.all([sockets().connect(path), server.accept()]);
      closeAllAfter([client, accepted]);
      await client.write('fresh');
      expect(text(await accepted.read())).toBe('fresh');
      await server.close();
      expect(existsOnDisk(path)).toBe(false);
    });

    it.skipIf(!context.hasFeature('abstract-sockets'))('uses the abstract namespace: no file, EADDRINUSE, ECONNREFUSED', async () => {
      const address = { abstract: context.uniqueName('abstract').slice(1) };
      const server = closeAfter(await sockets().listen(address));
      expect(server.address).toEqual(address);
      await expect(sockets().listen(address)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      const [client, accepted] = await Promise.all([sockets().connect(address), server.accept()]);
      closeAllAfter([client, accepted]);
      expect(client.remoteAddress).toEqual(address);
      await accepted.write('abstract hello');
      expect(text(await client.read())).toBe('abstract hello');
      await server.close();
      // The name is gone with its socket: nobody there.
      await expect(sockets().connect(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });

    it('ends accept, connect and receive waits on timeout and abort, losing nothing', async () => {
      const path = context.tempPath('wait.sock');
      // Backlog 0: one pending connection fills the queue; the next connect has to wait.
      const server = closeAfter(await sockets().listen(path, { backlog: 0 }));
      await expect(server.accept({ timeout: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const controller = new AbortController();
      const accepting = server.accept({ signal: controller.signal });
      controller.abort();
      await expect(accepting).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });

      const first = closeAfter(await sockets().connect(path));
      await expect(sockets().connect(path, { timeout: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'connect' });
      const aborter = new AbortController();
      const aborted = sockets().connect(path, { signal: aborter.signal });
      setTimeout(() => aborter.abort(), 20);
      await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
      // A waiting connect completes once the server makes room by accepting.
      const waiting = sockets().connect(path, { timeout: 10_000 });
      const acceptedFirst = closeAfter(await server.accept());
      const second = closeAfter(await waiting);
      closeAfter(await server.accept());
      await first.write('1');
      expect(text(await acceptedFirst.read())).toBe('1');
      expect(second.closed).toBe(false);

      const [d1, d2] = closeAllAfter(await sockets().pair('datagram'));
      await expect(d1.receive({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
      await expect(d1.receive({ timeout: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const receiveController = new AbortController();
      const receiving = d1.receive({ signal: receiveController.signal });
      receiveController.abort();
      await expect(receiving).rejects.toMatchObject({ name: 'AbortError' });
      await d2.send('after');
      expect(text((await d1.receive()).data)).toBe('after');
    });

    it('rejects use after close with EBADF; closing ends a pending accept and receive', async () => {
      const path = context.tempPath('closed.sock');
      const server = closeAfter(await sockets().listen(path));
      const pendingAccept = server.accept();
      await server.close();
      await expect(pendingAccept).rejects.toMatchObject({ code: 'EBADF' });
      await expect(server.accept()).rejects.toMatchObject({ code: 'EBADF' });
      expect(existsOnDisk(path)).toBe(false);
      const [a, b] = closeAllAfter(await sockets().pair('seqpacket'));
      const pendingReceive = a.receive();
      await a.close();
      await expect(pendingReceive).rejects.toMatchObject({ code: 'EBADF' });
      await expect(a.send('x')).rejects.toMatchObject({ code: 'EBADF' });
      expect(() => a.peerCredentials()).toThrow(expect.objectContaining({ code: 'EBADF' }));
      await b.close();
      const [s] = closeAllAfter(await sockets().pair());
      await s.close();
      await expect(s.read()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(s.receive()).rejects.toMatchObject({ code: 'EBADF' });
      await expect(s.end()).rejects.toMatchObject({ code: 'EBADF' });
      await s.close(); // a second close does nothing
    });

    it('rejects misuse with TypeError/RangeError before any system call', async () => {
      const [s1, s2] = closeAllAfter(await sockets().pair());
      const [d1] = closeAllAfter(await sockets().pair('seqpacket'));
      await expect(sockets().listen(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(sockets().listen('')).rejects.toBeInstanceOf(RangeError);
      await expect(sockets().listen('/tmp/' + 'x'.repeat(200))).rejects.toBeInstanceOf(RangeError);
      await expect(sockets().listen({ abstract: 5 } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(sockets().listen(context.tempPath('bad.sock'), { type: 'datagram' } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(sockets().listen(context.tempPath('bad.sock'), { backlog: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(sockets().connect(context.tempPath('bad.sock'), { type: 'raw' } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(sockets().connect(context.tempPath('bad.sock'), { timeout: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(sockets().bind('/tmp/x.sock', { autobind: true })).rejects.toBeInstanceOf(TypeError);
      await expect(sockets().pair('raw' as never)).rejects.toBeInstanceOf(TypeError);
      await expect(s1.receive({ maxBytes: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(s1.send(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(s1.send('x', { transfer: [{}] as never })).rejects.toBeInstanceOf(TypeError);
      await expect(s1.send('', { transfer: [s2] })).rejects.toBeInstanceOf(RangeError);
      await expect(d1.send('x', { to: '/tmp/x.sock' } as never)).rejects.toBeInstanceOf(TypeError);
      await expect(d1.send('')).rejects.toBeInstanceOf(RangeError);
      // Nothing was sent by the refused calls; both ends still work.
      await s1.write('ok');
      expect(text(await s2.read({ nowait: true }))).toBe('ok');
    });
  });
}

/** TCP and UDP sockets through the same interface, over 127.0.0.1. */
export function networkSocketSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('network-socket') || !context.hasFeature('network'))('network socket', () => {
    const network = () => context.backend().networkSockets;
    const loopback = { host: '127.0.0.1', port: 0 };

    it('exchanges bytes with a child TCP server over 127.0.0.1 through the same interface', async () => {
      const [ready, readyWriter] = closeAllAfter(await context.backend().pipes.create());
      const child = killAfter(await context.backend().processes.spawn(context.child('socket-echo-server'), { args: ['tcp', loopback, readyWriter] }));
      await readyWriter.close();
      const address = (await readReady(ready)) as NetworkAddress;
      expect(address.host).toBe('127.0.0.1');
      expect(address.port).toBeGreaterThan(0);
      const client = closeAfter(await network().connect(address));
      expect(client.remoteAddress).toEqual(address);
      await client.write('over ');
      await client.write('tcp');
      await client.end();
      expect(text(await readToEnd(client))).toBe('over tcp');
      expect(() => client.peerCredentials()).toThrow(expect.objectContaining({ code: 'ENOPROTOOPT' }));
      expect((await child.exited).code).toBe(0);
    });

    it('gives EADDRINUSE for a taken TCP port and ECONNREFUSED where nothing listens', async () => {
      const server = closeAfter(await network().listen(loopback));
      const { port } = server.address as NetworkAddress;
      await expect(network().listen({ host: '127.0.0.1', port })).rejects.toMatchObject({ name: 'IpcError', code: 'EADDRINUSE' });
      const [client, accepted] = await Promise.all([network().connect({ host: '127.0.0.1', port }), server.accept()]);
      closeAllAfter([client, accepted]);
      await accepted.write('hi');
      expect(text(await client.read())).toBe('hi');
      await expect(accepted.send('x', { transfer: [client] })).rejects.toBeInstanceOf(TypeError);
      await expect(context.backend().processes.spawn(context.child('hold'), { args: [0, client] })).rejects.toBeInstanceOf(TypeError);
      await server.close();
      await expect(network().connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(server.accept()).rejects.toMatchObject({ code: 'EBADF' });
    });

    it('sends UDP datagrams with boundaries, sender addresses and truncation', async () => {
      const a = closeAfter(await network().bind(loopback));
      const b = closeAfter(await network().bind(loopback));
      const bAddress = b.localAddress as NetworkAddress;
      await expect(network().bind(bAddress)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await a.send('first', { to: bAddress });
      await a.send('second datagram', { to: bAddress });
      const first = await b.receive();
      expect(text(first.data)).toBe('first');
      expect(first.from).toEqual(a.localAddress);
      const second = await b.receive({ maxBytes: 6 });
      expect(second).toMatchObject({ truncated: true });
      expect(text(second.data)).toBe('second');
      await expect(b.receive({ timeout: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      await expect(a.send('x')).rejects.toMatchObject({ code: 'EDESTADDRREQ' });
      await expect(a.send('x', { to: { host: '127.0.0.1', port: 70000 } })).rejects.toBeInstanceOf(RangeError);
      await a.close();
      await expect(a.receive()).rejects.toMatchObject({ code: 'EBADF' });
    });

    it('ends TCP accept and connect waits on timeout and abort', async () => {
      const server = closeAfter(await network().listen(loopback));
      await expect(server.accept({ timeout: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const controller = new AbortController();
      const accepting = server.accept({ signal: controller.signal });
      controller.abort();
      await expect(accepting).rejects.toMatchObject({ name: 'AbortError' });
      const aborted = new AbortController();
      aborted.abort();
      await expect(network().connect(server.address as NetworkAddress, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
      await expect(network().listen({ host: '127.0.0.1', port: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(network().connect({ host: 5 } as never)).rejects.toBeInstanceOf(TypeError);
    });
  });
}

/** The manifest's use of Unix sockets: bytes each way through a new stream pair. */
export async function unixSocketProbe(context: SuiteContext): Promise<void> {
  const [a, b] = await context.backend().unixSockets.pair();
  try {
    await a.write('ping');
    expect(text(await b.read())).toBe('ping');
    await b.write('pong');
    expect(text(await a.read())).toBe('pong');
  } finally {
    await a.close();
    await b.close();
  }
}

/** The manifest's use of network sockets: a TCP connection over 127.0.0.1 carries bytes. */
export async function networkSocketProbe(context: SuiteContext): Promise<void> {
  const network = context.backend().networkSockets;
  const server = await network.listen({ host: '127.0.0.1', port: 0 });
  try {
    const client = await network.connect(server.address as NetworkAddress);
    const accepted = await server.accept();
    try {
      await client.write('manifest');
      expect(text(await accepted.read())).toBe('manifest');
    } finally {
      await client.close();
      await accepted.close();
    }
  } finally {
    await server.close();
  }
}
