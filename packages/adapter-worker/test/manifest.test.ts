/**
 * Declarations against behaviour (the testkit's manifest suite) on the worker backend, and on a
 * backend built the way a third party would build one: from one slice (the worker's pipes) and
 * processes, every other factory of core's table left out. That one is still a whole
 * `IpcBackend`: its undeclared primitives reject with ENOSYS (manifest), and the kit's suites pass
 * on it unchanged (those of its primitives run, the others are skipped by its capabilities).
 */
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { Feature, type IpcBackend } from '@ipcx/core';
import { defineBackend, fromSlices } from '@ipcx/core/backend';
import { primitiveProbes, registerConformance, registerManifest, type SuiteContext } from '@ipcx/testkit';
import { describe, expect, it } from 'vitest';
import { nodeHost } from '../dist/host-node.js';
import { Kernel } from '../dist/kernel.js';
import { DEFAULT_MEMORY_BYTES } from '../dist/layout.js';
import { messageQueueSlice } from '../dist/message-queue.js';
import { pipeSlice } from '../dist/pipe.js';
import { WorkerProcesses } from '../dist/process.js';

const worker = createWorkerBackend();
registerManifest({ name: 'worker', create: () => worker, capabilities: worker.capabilities });

const kernel = Kernel.create(DEFAULT_MEMORY_BYTES);
const pipesOnly: IpcBackend = defineBackend({
  // Its children run the worker backend over the same kernel (WorkerProcesses), which reports
  // this name to them; the kit's process suite checks parent and child agree.
  name: 'worker',
  ...fromSlices([pipeSlice], kernel, [Feature.abstractSockets]),
  processes: new WorkerProcesses(kernel, nodeHost),
  diagnostics: { openObjects: () => [...kernel.open].map((object) => object.describe()), kernelObjects: async () => [...kernel.namedObjects()] },
});

describe('a backend of one slice', () => {
  it('declares the primitives of its slice and has every factory of the table', () => {
    expect([...pipesOnly.capabilities.primitives]).toEqual(['pipe', 'duplex-pipe']);
    expect(typeof pipesOnly.messageQueues.open).toBe('function');
    expect(typeof pipesOnly.fileLocks.open).toBe('function');
  });

  it('is caught by the manifest when it has a factory it does not declare: the probe works instead of ENOSYS', async () => {
    // What the manifest's "does not declare message-queue" case would meet on such a backend.
    const undeclared = defineBackend({ ...pipesOnly, messageQueues: messageQueueSlice.create(kernel) });
    expect(undeclared.capabilities.primitives.has('message-queue')).toBe(false);
    const context = { backend: () => undeclared } as unknown as SuiteContext;
    await expect(primitiveProbes['message-queue'](context)).resolves.toBeUndefined();
    await expect(primitiveProbes['message-queue']({ backend: () => pipesOnly } as unknown as SuiteContext)).rejects.toMatchObject({ code: 'ENOSYS' });
  });
});

registerManifest({ name: 'pipes-only', create: () => pipesOnly, capabilities: pipesOnly.capabilities });
registerConformance({ name: 'pipes-only', create: () => pipesOnly, capabilities: pipesOnly.capabilities });
