/** Child: reads from `stream` and writes every chunk back until EOF, then ends its writing side. */
import { defineChild, type DuplexPipe } from '@ipcx/core';

export default defineChild<[DuplexPipe]>(async ({ args: [stream] }) => {
  for await (const chunk of stream) await stream.write(chunk);
  await stream.end();
});
