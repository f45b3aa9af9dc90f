/**
 * The program a Redis-backend child runs: connects with its parent's settings, revives the args,
 * runs the entry module's default export through core, closes what it left open (which also
 * applies its own SEM_UNDO records) and exits (0, or 1 if it threw).
 */
import { deserialize } from 'node:v8';
import { runChildMain, unpackTransferables } from '@ipcx/core';
import { createRedisBackend } from './backend.js';
import { CHILD_SPEC_VARIABLE, type ChildSpec } from './process.js';

const encoded = process.env[CHILD_SPEC_VARIABLE];
if (encoded === undefined) {
  console.error('ipcx redis child-main: started without a spec; it is run by processes.spawn');
  process.exit(2);
}
delete process.env[CHILD_SPEC_VARIABLE];
const spec = deserialize(Buffer.from(encoded, 'base64')) as ChildSpec;
const { connection, prefix, leaseMs, syncTimeoutMs } = spec.connection;
const backend = createRedisBackend({ connection, prefix, leaseMs, syncTimeoutMs });

let code = 0;
try {
  const args = unpackTransferables(spec.packed, (index) => backend.revive(spec.records[index]!)) as unknown[];
  await runChildMain({ backend, args, pid: process.pid }, spec.entry);
} catch (error) {
  console.error(error);
  code = 1;
}
await backend.close();
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
