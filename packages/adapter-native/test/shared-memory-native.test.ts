/**
 * Native-only checks of shared memory that the conformance suite cannot express: waiter threads
 * really end, the event loop keeps running, and mappings nobody closed are unmapped (by the
 * finalizer when collected, by the environment's teardown when a worker exits).
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { segmentYieldSymbol } from '@ipcx/core/backend';
import { addon } from '../dist/addon.js';

const backend = createNativeBackend();
const shm = backend.sharedMemory;
const distIndex = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js')).href;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A private segment removed (by id) when the test finishes. */
async function privateSegment(size = 4096) {
  const segment = await shm.openSysv('private', { size });
  onTestFinished(async () => {
    await segment.close();
    await shm.removeSysv(segment.id).catch(() => {});
  });
  return segment;
}

/** Makes a segment in a scope of its own and drops it; returns its id. */
async function forgottenSegment(readOnly: boolean): Promise<number> {
  const owner = await privateSegment();
  const dropped = await shm.attachSysv(owner.id, { readOnly });
  if (!readOnly) new Int32Array(dropped.buffer)[0] = 1;
  return owner.id;
}

async function attachments(id: number): Promise<number> {
  return (await shm.statSysv(id)).attachments;
}

describe('native shared memory', () => {
  it('aborted, timed-out and closed waits leave no waiter thread behind', async () => {
    const segment = await privateSegment();
    const before = addon.activeWaits();
    const controller = new AbortController();
    const aborted = Array.from({ length: 10 }, () => segment.wait(0, 0, { signal: controller.signal }));
    const timed = Array.from({ length: 10 }, () => segment.wait(1, 0, { timeout: 20 }));
    const closed = Array.from({ length: 10 }, () => segment.wait(2, 0));
    expect(addon.activeWaits()).toBe(before + 30);
    controller.abort();
    for (const outcome of await Promise.allSettled(aborted)) expect(outcome).toMatchObject({ status: 'rejected', reason: { name: 'AbortError' } });
    expect(await Promise.all(timed)).toEqual(Array(10).fill('timed-out'));
    const closing = segment.close();
    for (const outcome of await Promise.allSettled(closed)) expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'EBADF' } });
    await closing;
    expect(addon.activeWaits()).toBe(before);
  });

  it("offers the native spins' yield to layers that spin on a segment's cells (segmentYieldSymbol)", async () => {
    // @ipcx/multiprocessing's ring passes it to its own spin policy, so that a peer sharing this
    // CPU answers within the spin; without it that spin never gives the CPU away.
    const segment = await privateSegment();
    const attached = await shm.attachSysv(segment.id, { readOnly: true });
    onTestFinished(() => attached.close());
    for (const each of [segment, attached]) {
      const yieldCpu = (each as unknown as Record<typeof segmentYieldSymbol, unknown>)[segmentYieldSymbol];
      expect(typeof yieldCpu).toBe('function');
      expect((yieldCpu as () => unknown)()).toBeUndefined();
    }
  });

  it('a pending wait does not block the event loop', async () => {
    const segment = await privateSegment();
    const order: string[] = [];
    const waiting = segment.wait(0, 0).then((outcome) => order.push(`wait ${outcome}`));
    await sleep(20);
    order.push('timer');
    // The waiter thread may not have reached the kernel yet on a loaded machine: notify until the
    // kernel reports that it woke exactly one waiter (a real notifier would change the value first).
    let woken = 0;
    for (let tries = 0; woken === 0 && tries < 400; tries++) {
      woken = segment.notify(0);
      if (woken === 0) await sleep(5);
    }
    expect(woken).toBe(1);
    await waiting;
    expect(order).toEqual(['timer', 'wait ok']);
  });

  it('a dropped writable segment is unmapped once its buffer is collected', async () => {
    const id = await forgottenSegment(false);
    expect(await attachments(id)).toBe(2);
    for (let i = 0; i < 100 && (await attachments(id)) > 1; i++) {
      gc();
      await sleep(10);
    }
    expect(await attachments(id)).toBe(1);
    expect(backend.diagnostics.openObjects().filter((entry) => entry.includes(String(id)))).toEqual([`System V segment ${id}`]);
  });

  it('a dropped read-only segment is unmapped once collected', async () => {
    const id = await forgottenSegment(true);
    expect(await attachments(id)).toBe(2);
    for (let i = 0; i < 100 && (await attachments(id)) > 1; i++) {
      gc();
      await sleep(10);
    }
    expect(await attachments(id)).toBe(1);
  });

  it("a worker's exit detaches the segments it left attached", async () => {
    const segment = await privateSegment();
    const source =
      `import { createNativeBackend } from ${JSON.stringify(distIndex)};
       import { parentPort, workerData } from 'node:worker_threads';
       const segment = await createNativeBackend().sharedMemory.attachSysv(workerData);
       globalThis.kept = segment;
       parentPort.postMessage('attached');
       // A pending promise alone does not keep a worker alive: a timer does, until terminate().
       setInterval(() => {}, 1000);`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: segment.id });
    onTestFinished(() => void worker.terminate());
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    for (let i = 0; i < 100 && (await attachments(segment.id)) < 2; i++) await sleep(10);
    expect(await attachments(segment.id)).toBe(2);
    await worker.terminate();
    // The worker's environment teardown detaches; give a loaded machine a moment to finish it.
    for (let i = 0; i < 100 && (await attachments(segment.id)) > 1; i++) await sleep(10);
    expect(await attachments(segment.id)).toBe(1);
  });
});
