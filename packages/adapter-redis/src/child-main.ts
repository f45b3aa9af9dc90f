/**
 * The program a Redis-backend child runs: connects with its parent's settings, revives the args,
 * runs the entry module's default export through core, closes what it left open (which also
 * applies its own SEM_UNDO records) and exits (0, or 1 if it threw).
 */
import { deserialize } from 'node:v8';
import { runChildMain, unpackTransferables } from '@ipcx/core';
import { createRedisBackend } from './backend.js';
import { CHILD_SPEC_VARIABLE, LOCAL_PIPE_KINDS, type ChildSpec } from './process.js';

const encoded = process.env[CHILD_SPEC_VARIABLE];
if (encoded === undefined) {
  console.error('ipcx redis child-main: started without a spec; it is run by processes.spawn');
  process.exit(2);
}
delete process.env[CHILD_SPEC_VARIABLE];
const spec = deserialize(Buffer.from(encoded, 'base64')) as ChildSpec;
const { connection, prefix, leaseMs, syncTimeoutMs } = spec.connection;
const backend = createRedisBackend({ connection, prefix, leaseMs, syncTimeoutMs, clientId: spec.clientId });
// The synchronous bridge's thread loads and connects while this one imports the entry module.
if (spec.records.some((record) => record.kind !== 'redis-message-queue' && record.kind.startsWith('redis-'))) backend.connection.bridge.start();

/** Native pipe ends inherited by descriptor (see process.ts), wrapped by the native backend's classes. */
type NativeModule = Record<string, new (fd: number) => { close(): Promise<void> }>;
const localPipes: Array<{ close(): Promise<void> }> = [];
let native: NativeModule | undefined;
if (spec.records.some((record) => LOCAL_PIPE_KINDS.has(record.kind))) {
  const name = '@ipcx/adapter-native';
  native = (await import(name)) as NativeModule;
}
const classes: Record<string, string> = { 'pipe-reader': 'NativePipeReader', 'pipe-writer': 'NativePipeWriter', 'duplex-pipe': 'NativeDuplexPipe' };

let code = 0;
try {
  // POSIX objects are opened again by name (a round trip), so every object is revived first.
  const revived = await Promise.all(
    spec.records.map(async (record) => {
      if (!LOCAL_PIPE_KINDS.has(record.kind)) return backend.revive(record);
      const pipe = new native![classes[record.kind]!]!(record.handles![0]!);
      localPipes.push(pipe);
      return pipe;
    }),
  );
  const args = unpackTransferables(spec.packed, (index) => revived[index]) as unknown[];
  await runChildMain({ backend, args, pid: process.pid }, spec.entry);
} catch (error) {
  console.error(error);
  code = 1;
}
await Promise.allSettled(localPipes.map((pipe) => pipe.close()));
await backend.close();
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
