/**
 * Child: opens shared memory the way `target` says (by System V id, POSIX name or file path,
 * possibly read-only), tries what a user would (read, get the buffer, write), and writes a JSON
 * report to `report`: the error code of each step that failed. The child itself must survive.
 */
import { defineChild, type ByteWriter, type SharedSegment } from '@ipcx/core';

/** Where the probe finds the memory. */
export type ProbeTarget =
  | { readonly kind: 'sysv'; readonly id: number; readonly readOnly?: boolean }
  | { readonly kind: 'posix'; readonly name: string; readonly readOnly?: boolean }
  | { readonly kind: 'file'; readonly path: string; readonly readOnly?: boolean };

/** What the probe reports. */
export interface ProbeReport {
  readonly open: string;
  readonly bytes?: number[];
  readonly buffer?: string;
  readonly write?: string;
}

function code(error: unknown): string {
  return (error as { code?: string }).code ?? String(error);
}

export default defineChild<[ByteWriter, ProbeTarget, number]>(async ({ backend, args: [report, target, length] }) => {
  const shm = backend.sharedMemory;
  let segment: SharedSegment;
  try {
    const readOnly = target.readOnly ?? false;
    segment =
      target.kind === 'sysv'
        ? await shm.attachSysv(target.id, { readOnly })
        : target.kind === 'posix'
          ? await shm.openPosix(target.name, { readOnly })
          : await shm.mapFile(target.path, { readOnly });
  } catch (error) {
    await report.write(JSON.stringify({ open: code(error) } satisfies ProbeReport));
    return;
  }
  const result: { open: string; bytes?: number[]; buffer?: string; write?: string } = { open: 'ok' };
  result.bytes = [...segment.read(0, length)];
  try {
    new Uint8Array(segment.buffer).fill(0xee, 0, length);
    result.buffer = 'ok';
  } catch (error) {
    result.buffer = code(error);
  }
  try {
    segment.write(new Uint8Array(length).fill(0xdd));
    result.write = 'ok';
  } catch (error) {
    result.write = code(error);
  }
  await segment.close();
  await report.write(JSON.stringify(result));
});
