/**
 * Child: sends one message per entry of `sizes` over a message socket (datagram or seqpacket),
 * message i being `sizes[i]` bytes all equal to i + 1, then closes it.
 */
import { defineChild, type DatagramSocket, type MessageSocket } from '@ipcx/core';

export default defineChild<[MessageSocket | DatagramSocket, number[]]>(async ({ args: [socket, sizes] }) => {
  for (const [i, size] of sizes.entries()) await socket.send(new Uint8Array(size).fill(i + 1));
});
