/**
 * Child: listens on a Unix address or a TCP address, writes its real address as JSON to `ready`
 * and closes it, then serves one connection: echoes every chunk back until EOF, then ends.
 * Also used as the server that a test kills with SIGKILL (it then waits in accept forever).
 */
import { defineChild, type ByteWriter, type NetworkAddress, type UnixAddress } from '@ipcx/core';

export default defineChild<['unix' | 'tcp', UnixAddress | NetworkAddress, ByteWriter]>(async ({ backend, args: [family, address, ready] }) => {
  const server =
    family === 'unix' ? await backend.unixSockets.listen(address as UnixAddress) : await backend.networkSockets.listen(address as NetworkAddress);
  await ready.write(JSON.stringify(server.address));
  await ready.close();
  const connection = await server.accept();
  for await (const chunk of connection) await connection.write(chunk);
  await connection.end();
  await connection.close();
  await server.close();
});
