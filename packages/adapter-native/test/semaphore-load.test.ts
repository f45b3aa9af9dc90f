/**
 * Native-only checks of semaphore waits: 1,000 waiter threads pending at once leave the event loop
 * free, and every cancel (abort, timeout, close) ends its thread: `activeWaits()` is 0 afterwards.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
// The addon is internal to the package; tests run against its built output.
import { addon } from '../dist/addon.js';

const backend = createNativeBackend();
const COUNT = 1000;

/** Polls until `condition` holds (the waiter threads enter the kernel asynchronously). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Counts timer ticks during the test, to show the event loop keeps running. */
function ticker(): () => number {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  onTestFinished(() => clearInterval(timer));
  return () => ticks;
}

describe('semaphore waits on waiter threads (native)', { timeout: 120_000 }, () => {
  it(`keeps ${COUNT} System V waits on their own threads, responsive, and ends every thread on abort`, async () => {
    const set = await backend.semaphores.open('private', { size: 1 });
    onTestFinished(async () => {
      await set.remove().catch(() => undefined);
      await set.close();
    });
    const ticks = ticker();
    const controllers = Array.from({ length: COUNT }, () => new AbortController());
    const waits = controllers.map((controller) => set.wait(0, 1, { signal: controller.signal }).then(() => 'took', (error: Error) => error.name));
    await until(() => set.waitingForIncrease(0) === COUNT, `${COUNT} semop calls wait in the kernel`);
    expect(addon.activeWaits()).toBe(COUNT);
    const before = ticks();
    expect(await readFile(fileURLToPath(import.meta.url), 'utf8')).toContain('activeWaits');
    await until(() => ticks() > before + 2, 'the timer fires');
    for (const controller of controllers) controller.abort();
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['AbortError']));
    expect(addon.activeWaits()).toBe(0);
    expect(set.waitingForIncrease(0)).toBe(0);
    set.post(0);
    expect(set.value(0)).toBe(1);
  });

  it('ends the threads of timed-out (EAGAIN from semtimedop) and closed System V waits', async () => {
    const set = await backend.semaphores.open('private', { size: 1 });
    onTestFinished(async () => {
      // The test closes its handle on purpose: remove the set through a new one.
      const handle = set.closed ? await backend.semaphores.openById(set.id) : set;
      await handle.remove();
      await handle.close();
      await set.close();
    });
    const timed = Array.from({ length: 100 }, () => set.wait(0, 1, { timeout: 50 }).catch((error: { code: string; syscall: string }) => `${error.code} ${error.syscall}`));
    expect(new Set(await Promise.all(timed))).toEqual(new Set(['EAGAIN semtimedop']));
    expect(addon.activeWaits()).toBe(0);
    const pending = Array.from({ length: 100 }, () => set.wait(0).catch((error: { code: string }) => error.code));
    await until(() => set.waitingForIncrease(0) === 100, 'the waits are in the kernel');
    await set.close();
    expect(new Set(await Promise.all(pending))).toEqual(new Set(['EBADF']));
    expect(addon.activeWaits()).toBe(0);
  });

  it(`keeps ${COUNT} POSIX waits pending, responsive, and ends every thread on abort, timeout and close`, async () => {
    const name = `/ipcx-${process.pid}-load`;
    const semaphore = await backend.posixSemaphores.open(name, { create: true, exclusive: true });
    onTestFinished(async () => {
      await semaphore.close();
      await backend.posixSemaphores.unlink(name).catch(() => undefined);
    });
    const ticks = ticker();
    const controllers = Array.from({ length: COUNT }, () => new AbortController());
    const waits = controllers.map((controller) => semaphore.wait({ signal: controller.signal }).then(() => 'took', (error: Error) => error.name));
    await until(() => addon.activeWaits() === COUNT, `${COUNT} waiter threads run`);
    const before = ticks();
    expect(await readFile(fileURLToPath(import.meta.url), 'utf8')).toContain('activeWaits');
    await until(() => ticks() > before + 2, 'the timer fires');
    for (const controller of controllers) controller.abort();
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['AbortError']));
    expect(addon.activeWaits()).toBe(0);
    semaphore.post();
    expect(semaphore.value()).toBe(1);
    expect(semaphore.tryWait()).toBe(true);

    const timed = Array.from({ length: 100 }, () => semaphore.wait({ timeout: 50 }).catch((error: { code: string }) => error.code));
    expect(new Set(await Promise.all(timed))).toEqual(new Set(['ETIMEDOUT']));
    expect(addon.activeWaits()).toBe(0);
    const pending = Array.from({ length: 100 }, () => semaphore.wait().catch((error: { code: string }) => error.code));
    await semaphore.close();
    expect(new Set(await Promise.all(pending))).toEqual(new Set(['EBADF']));
    expect(addon.activeWaits()).toBe(0);
  });
});
