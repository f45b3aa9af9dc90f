/**
 * Child: receives one message with descriptors over `socket` (SCM_RIGHTS), writes the message's
 * text into the first object it got (a byte writer, e.g. a pipe writer from the parent), and
 * reports back on `socket` how many objects came.
 */
import { defineChild, type ByteWriter, type StreamSocket } from '@ipcx/core';

export default defineChild<[StreamSocket]>(async ({ args: [socket] }) => {
  const message = await socket.receive();
  if (message === null) throw new Error('no message');
  const [writer] = message.objects as ByteWriter[];
  await writer!.write(`child got: ${new TextDecoder().decode(message.data)}`);
  await writer!.close();
  await socket.write(`objects=${message.objects.length}`);
  await socket.end();
});
