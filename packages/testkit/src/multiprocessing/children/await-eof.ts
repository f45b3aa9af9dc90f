/** Child: sends 'ready' on its Connection, then waits for the next value: ends with code 0 on EOF, 2 on anything else. */
import { defineChild, isMultiprocessingError, type Connection } from '@ipcx/multiprocessing';

export default defineChild<[Connection]>(async ({ args: [conn] }) => {
  await conn.send('ready');
  try {
    await conn.recv();
    process.exitCode = 2;
  } catch (error) {
    process.exitCode = isMultiprocessingError(error, 'EOF') ? 0 : 2;
  } finally {
    await conn.close();
  }
});
