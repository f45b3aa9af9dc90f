/**
 * Child: echoes every value it receives on its Connection until 'stop' or EOF; a value
 * `{ double: n }` is answered with 2n (the seed's pipe example).
 */
import { defineChild, isMultiprocessingError, type Connection } from '@ipcx/multiprocessing';

export default defineChild<[Connection]>(async ({ args: [conn] }) => {
  try {
    for (;;) {
      const value = await conn.recv();
      if (value === 'stop') break;
      if (value !== null && typeof value === 'object' && 'double' in value) await conn.send((value as { double: number }).double * 2);
      else if (value instanceof Uint8Array) await conn.sendBytes(value);
      else await conn.send(value);
    }
  } catch (error) {
    if (!isMultiprocessingError(error, 'EOF')) throw error;
  } finally {
    await conn.close();
  }
});
