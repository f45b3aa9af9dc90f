/**
 * A Unix datagram socket (the seed names Unix domain sockets): a server binds a path; a child
 * sends datagrams of different sizes from an unnamed socket; each arrives whole and separate
 * (boundaries kept, unlike a stream), and the server replies to the sender's address.
 */
import { defineChild } from '@ipcx/core';
import { expectEqual, type ExampleMain } from './example.js';

const SIZES = [1, 100, 7, 4000];

/** Child side: send each datagram to `path`, read each reply. */
export default defineChild<[string]>(async ({ backend, args: [path] }) => {
  const socket = await backend.unixSockets.bind(undefined, { autobind: true });
  try {
    for (const size of SIZES) {
      await socket.send(new Uint8Array(size).fill(size % 251), { to: path });
      const reply = await socket.receive({ timeout: 10_000 });
      if (new TextDecoder().decode(reply.data) !== `got ${size} bytes`) throw new Error('unexpected reply');
    }
  } finally {
    await socket.close();
  }
});

/** Parent side: the server. */
export const main: ExampleMain = async (backend, { tempDir }) => {
  const path = `${tempDir}/server.sock`;
  const server = await backend.unixSockets.bind(path);
  try {
    const child = await backend.processes.spawn(import.meta.url, { args: [path] });
    const sizes: number[] = [];
    for (let i = 0; i < SIZES.length; i++) {
      const message = await server.receive({ timeout: 10_000 });
      sizes.push(message.data.length);
      if (message.from === undefined) throw new Error('the datagram came without a sender address');
      await server.send(`got ${message.data.length} bytes`, { to: message.from });
    }
    expectEqual(sizes, SIZES, 'datagram sizes as received');
    expectEqual(await child.exited, { code: 0, signal: null }, 'child exit status');
    return {
      outcome: sizes,
      crossings: [
        { from: `child ${child.pid}`, to: `server ${path}`, what: `${SIZES.length} datagrams of ${SIZES.join(', ')} bytes, each received whole` },
        { from: `server (parent ${process.pid})`, to: `child ${child.pid}`, what: 'a reply to each sender address' },
      ],
    };
  } finally {
    await server.close();
  }
};
