/**
 * Child: tries to open the POSIX message queue `name` with `options` (for permission and limit
 * checks as another user) and writes the outcome to `report` as JSON: `{ code }` when the open
 * failed, `{ attributes }` when it worked (the handle is then closed; nothing is unlinked).
 */
import { defineChild, isIpcError, type ByteWriter, type PosixMessageQueueOpenOptions } from '@ipcx/core';

export default defineChild<[string, PosixMessageQueueOpenOptions, ByteWriter]>(async ({ backend, args: [name, options, report] }) => {
  let outcome: unknown;
  try {
    const queue = await backend.posixMessageQueues.open(name, options);
    outcome = { attributes: queue.attributes() };
    await queue.close();
  } catch (error) {
    if (!isIpcError(error)) throw error;
    outcome = { code: error.code };
  }
  await report.write(JSON.stringify(outcome));
});
