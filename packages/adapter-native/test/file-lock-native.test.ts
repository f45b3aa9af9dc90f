/**
 * Native-only checks of file lock waits, which the conformance kit cannot see: a waiting lock is
 * F_OFD_SETLKW on a waiter thread (`activeWaits()` counts it) while the event loop keeps ticking,
 * and abort, timeout and close really end that kernel wait (the kick signal makes fcntl return
 * EINTR; nothing would end it otherwise, the lock stays held throughout): `activeWaits()` is 0
 * afterwards and no lock was taken.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
// The addon is internal to the package; tests run against its built output.
import { addon } from '../dist/addon.js';

const backend = createNativeBackend();

/** Polls until `condition` holds (the waiter thread enters the kernel asynchronously). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('native file lock waits', () => {
  it('wait on a waiter thread with the loop ticking; abort, timeout and close end the kernel wait', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ipcx-flock-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'wait.lock');
    const holder = await backend.fileLocks.open(file, { create: true });
    const waiter = await backend.fileLocks.open(file);
    const third = await backend.fileLocks.open(file);
    onTestFinished(async () => {
      for (const each of [holder, waiter, third]) await each.close();
    });
    await holder.lock();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    onTestFinished(() => clearInterval(timer));
    const before = addon.activeWaits();

    const controller = new AbortController();
    const aborted = waiter.lock({ signal: controller.signal });
    await until(() => addon.activeWaits() === before + 1, 'the lock waits on a waiter thread');
    const ticked = ticks;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticks).toBeGreaterThan(ticked);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(addon.activeWaits()).toBe(before);

    await expect(waiter.lock({ shared: true, timeout: 60 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(addon.activeWaits()).toBe(before);

    const closing = waiter.lock();
    await until(() => addon.activeWaits() === before + 1, 'the lock waits again');
    await waiter.close();
    await expect(closing).rejects.toMatchObject({ code: 'EBADF' });
    expect(addon.activeWaits()).toBe(before);

    // None of the three took the lock: once the holder lets go, a third description gets it at once.
    await holder.unlock();
    await third.lock({ nowait: true });
  });
});
