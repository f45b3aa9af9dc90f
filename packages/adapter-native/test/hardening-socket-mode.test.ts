/**
 * Issue 10, item 5: Unix socket files had no `mode` option and got 0777 minus the umask, so under
 * umask 0 any local user could connect. Now `listen` and `bind` take `mode` (default 0o600) and the
 * file never is more open than asked (fchmod before bind; see SocketBind in native/socket.cc).
 * The umask is process-wide, so the cases run in a child that sets its own.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createWorkerBackend } from '../../adapter-worker/dist/index.js';
import { describeRun, fixturesDir, runChild, runFixture } from './fixtures/run-fixture.js';

describe('Unix socket files get `mode`, default 0o600, whatever the umask (issue 10, item 5)', () => {
  it('native: listen and bind give the file exactly the mode asked; nobody cannot connect to a default one', async () => {
    expect(process.getuid?.(), 'this test must run as root to let user nobody try to connect').toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipcx-hardening-mode-'));
    // Searchable by nobody, so that only the socket file's own mode can refuse the connection.
    chmodSync(dir, 0o755);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const [, , uid, gid] = execFileSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).trim().split(':');
    const run = await runFixture('socket-mode.mjs', [dir, uid!, gid!]);
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.report).toEqual({
      listenDefault: 0o600,
      listenGroup: 0o660,
      bindDefault: 0o600,
      bindGroupRead: 0o640,
      abstract: 'listening',
      listenOpenUnderUmask077: 0o666,
      replaceStale: 0o644,
      badMode: 'RangeError',
      nobodyDefault: 'EACCES',
      nobodyOpen: 'connected',
    });
  });

  it('native: a watcher stat()ing the path as fast as it can never sees the file more open than 0o600', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipcx-hardening-mode-watch-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const watcher = path.join(dir, 'watch-mode');
    execFileSync('cc', ['-O2', '-o', watcher, path.join(fixturesDir, 'watch-mode.c')]);
    const socketPath = path.join(dir, 'churn.sock');
    const stopFile = path.join(dir, 'stop');
    // The watcher (an ordinary C program) runs while a child binds and closes under umask 0,
    // until the child is done (the stop file), however slowly either of them starts.
    const watching = runChild(watcher, [socketPath, stopFile], { timeoutMs: 150_000 });
    const churning = runFixture<{ rounds: number }>('socket-mode-churn.mjs', [socketPath, '2500', '200']);
    const churn = await churning.finally(() => writeFileSync(stopFile, ''));
    const watched = await watching;
    expect(churn.code, describeRun(churn)).toBe(0);
    expect(churn.report!.rounds).toBeGreaterThanOrEqual(200);
    expect(watched.code, describeRun(watched)).toBe(0);
    // It saw the file (more than once), and only ever with mode 600.
    expect(watched.stderr).toMatch(/with the file present/);
    expect(Number(/(\d+) with the file present/.exec(watched.stderr)![1])).toBeGreaterThan(0);
    expect(watched.stdout.trim().split('\n')).toEqual(['600']);
  });

  it('worker: the option is accepted and checked the same way (core validation)', async () => {
    const unix = createWorkerBackend().unixSockets;
    const address = path.join(os.tmpdir(), `ipcx-hardening-mode-worker-${process.pid}.sock`);
    const server = await unix.listen(address, { mode: 0o660 });
    await server.close();
    await expect(unix.listen(address, { mode: -1 })).rejects.toThrow(RangeError);
    await expect(unix.bind(address, { mode: '600' as unknown as number })).rejects.toThrow(TypeError);
  });
});
