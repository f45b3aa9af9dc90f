/**
 * The program a native child runs: rebuilds the backend and the args, runs the entry module's
 * default export through core, closes what it left open and exits (0, or 1 if it threw).
 */
import { deserialize } from 'node:v8';
import { runChildMain, unpackTransferables } from '@ipcx/core';
import { addon } from './addon.js';
import { createNativeBackend } from './backend.js';
import { CHILD_SPEC_VARIABLE, type ChildSpec } from './process.js';
import { closeAll } from './registry.js';
import { revive } from './revive.js';

const encoded = process.env[CHILD_SPEC_VARIABLE];
if (encoded === undefined) {
  console.error('ipcx child-main: started without a spec; it is run by processes.spawn');
  process.exit(2);
}
delete process.env[CHILD_SPEC_VARIABLE];
const spec = deserialize(Buffer.from(encoded, 'base64')) as ChildSpec;

let code = 0;
try {
  const args = unpackTransferables(spec.packed, (index) => {
    const record = spec.records[index]!;
    // Inherited descriptors arrive without close-on-exec; set it so a grandchild does not keep
    // a pipe end open by accident. O_NONBLOCK is not touched: the description is shared.
    for (const fd of record.handles ?? []) addon.setCloexec(fd);
    return revive(record);
  }) as unknown[];
  await runChildMain({ backend: createNativeBackend(), args, pid: process.pid }, spec.entry);
} catch (error) {
  console.error(error);
  code = 1;
}
await closeAll();
// Let stdout and stderr drain (they may be pipes) before exiting.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
