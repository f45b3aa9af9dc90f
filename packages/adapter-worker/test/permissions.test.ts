/**
 * Permissions of FIFOs and Unix socket paths on the worker backend, checked as the kernel checks
 * the files behind them: opening a FIFO needs the `r` (reader) or `w` (writer) bit of the caller's
 * class, connecting or sending a datagram to a socket path needs the `w` bit, a bound path gets
 * `options.mode` (default 0o600), root passes every check, and abstract names have no
 * permissions. This thread is root (uid 0, gid 0) in the emulated kernel; children run as the
 * user they are spawned with (children/open-as.mjs reports each step's outcome).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import type { Credentials } from '@ipcx/core';
import { closeAfter, readToEnd, text } from '@ipcx/testkit';

const backend = createWorkerBackend({ memoryBytes: 8 * 1024 * 1024 });
const openAs = new URL('./children/open-as.mjs', import.meta.url);
const GROUP_MEMBER = { uid: 1000, gid: 0 };
const OTHER = { uid: 1000, gid: 1000 };
const ROOT = { uid: 0, gid: 0 };
let counter = 0;
const unique = (what: string) => `/tmp/ipcx-perm-${process.pid}-${what}-${++counter}`;

/** Runs `steps` in a child as `user`; one outcome per step ('ok' or an error code). */
async function as(user: Pick<Credentials, 'uid' | 'gid'>, steps: unknown[][]): Promise<string[]> {
  const [reader, writer] = await backend.pipes.create();
  const child = await backend.processes.spawn(openAs, { args: [steps, writer], user });
  await writer.close();
  const report = text(await readToEnd(reader));
  await reader.close();
  expect(await child.exited).toEqual({ code: 0, signal: null });
  return report === null ? [] : report.split('\n');
}

describe('worker permissions of FIFOs and socket paths', () => {
  it('opens a FIFO for reading or writing only with the mode bit of the caller\'s class (EACCES otherwise)', async () => {
    const path = unique('fifo');
    await backend.fifos.create(path, { mode: 0o640 });
    onTestFinished(() => backend.fifos.remove(path));
    // Group class: r, no w. Others: nothing. Root: everything.
    expect(await as(GROUP_MEMBER, [['read', path], ['write', path]])).toEqual(['ok', 'EACCES']);
    expect(await as(OTHER, [['read', path], ['write', path]])).toEqual(['EACCES', 'EACCES']);
    expect(await as(ROOT, [['read', path], ['write', path]])).toEqual(['ok', 'ok']);
    // EACCES comes before ENXIO: a refused nowait writer is refused whether or not a reader is there.
    const reader = closeAfter(await backend.fifos.openReader(path, { nowait: true }));
    expect(await as(OTHER, [['write', path]])).toEqual(['EACCES']);
    expect(reader.closed).toBe(false);
  });

  it('gives a FIFO made by a user to that user (owner class), mode 0o600 by default', async () => {
    const mine = unique('fifo-mine');
    const byDefault = unique('fifo-default');
    onTestFinished(async () => {
      await backend.fifos.remove(mine).catch(() => {});
      await backend.fifos.remove(byDefault).catch(() => {});
    });
    expect(await as(OTHER, [['mkfifo', mine, 0o600], ['read', mine], ['write', mine]])).toEqual(['ok', 'ok', 'ok']);
    // Another user of the same group: the group bits (none).
    expect(await as({ uid: 1001, gid: 1000 }, [['read', mine]])).toEqual(['EACCES']);
    await backend.fifos.create(byDefault);
    expect(await as(GROUP_MEMBER, [['read', byDefault]])).toEqual(['EACCES']);
  });

  it('lets another user connect to a socket path only with write permission; mode defaults to 0o600', async () => {
    const closed = unique('sock-closed');
    const grouped = unique('sock-group');
    closeAfter(await backend.unixSockets.listen(closed));
    const server = closeAfter(await backend.unixSockets.listen(grouped, { mode: 0o620 }));
    expect(await as(OTHER, [['connect', closed]])).toEqual(['EACCES']);
    expect(await as(GROUP_MEMBER, [['connect', closed], ['connect', grouped]])).toEqual(['EACCES', 'ok']);
    expect(await as(OTHER, [['connect', grouped]])).toEqual(['EACCES']);
    expect(await as(ROOT, [['connect', closed]])).toEqual(['ok']);
    // The refused connections never reached the listener: only the group member's is pending.
    const accepted = closeAfter(await server.accept({ timeout: 1000 }));
    expect(accepted.peerCredentials()).toMatchObject({ uid: GROUP_MEMBER.uid, gid: GROUP_MEMBER.gid });
    await expect(server.accept({ timeout: 0 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('refuses a datagram to a path without write permission, and checks nothing for abstract names', async () => {
    const closed = unique('dgram-closed');
    const open = unique('dgram-open');
    const closedSocket = closeAfter(await backend.unixSockets.bind(closed));
    const openSocket = closeAfter(await backend.unixSockets.bind(open, { mode: 0o602 }));
    expect(await as(OTHER, [['sendto', closed], ['sendto', open]])).toEqual(['EACCES', 'ok']);
    expect(text((await openSocket.receive({ nowait: true })).data)).toBe('x');
    await expect(closedSocket.receive({ nowait: true })).rejects.toMatchObject({ code: 'EAGAIN' });
    const abstract = { abstract: `ipcx-perm-${process.pid}-${++counter}` };
    const server = closeAfter(await backend.unixSockets.listen(abstract));
    expect(await as(OTHER, [['connect', abstract]])).toEqual(['ok']);
    closeAfter(await server.accept({ timeout: 1000 }));
  });

  it('takes mode as a permission number only', async () => {
    await expect(backend.unixSockets.listen(unique('bad'), { mode: 0o10000 })).rejects.toThrow(RangeError);
    await expect(backend.unixSockets.bind(unique('bad'), { mode: 'rw' as unknown as number })).rejects.toThrow(TypeError);
  });
});
