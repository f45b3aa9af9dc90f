/**
 * Leak check after the suites: no object left open in this process, no new named object in the
 * (real or emulated) kernel, and nothing left in the run's temporary folder.
 */
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpcBackend } from '@ipcx/core';
import type { SuiteContext } from './context.js';
import { onNode } from './host.js';

/**
 * Kernel objects present now that were not before the suites. The kernel is shared with every
 * other process on the machine: an object that another program made and removes meanwhile is not
 * ours, so a candidate must still be there a second later to count as a leak (a real leak stays).
 */
export async function newKernelObjects(context: SuiteContext, before: readonly string[]): Promise<string[]> {
  return newKernelObjectsOf(context.backend(), before);
}

/** {@link newKernelObjects} of any backend (the differential tests check two). */
export async function newKernelObjectsOf(backend: IpcBackend, before: readonly string[]): Promise<string[]> {
  let candidates = (await backend.diagnostics.kernelObjects()).filter((entry) => !before.includes(entry));
  for (let waited = 0; candidates.length > 0 && waited < 1000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await backend.diagnostics.kernelObjects();
    candidates = candidates.filter((entry) => now.includes(entry));
  }
  return candidates;
}

/**
 * Registers the leak check; call it after every suite has been registered, outside any `describe`
 * (its snapshot of the kernel is taken before the file's first test). `label` names its block.
 */
export function leakCheck(context: SuiteContext & { readonly tempDir: string }, label = 'leak check'): void {
  let before: readonly string[] = [];
  beforeAll(async () => {
    before = await context.backend().diagnostics.kernelObjects();
  });
  describe(label, () => {
    it('leaves no object open, no kernel object and no path behind', async () => {
      expect(context.backend().diagnostics.openObjects()).toEqual([]);
      expect(await newKernelObjects(context, before)).toEqual([]);
      // The run's folder is on disk in Node only (in a page, paths live in the emulated kernel).
      if (onNode) expect(readdirSync(context.tempDir)).toEqual([]);
    });
  });
  afterAll(() => {
    if (onNode) rmSync(context.tempDir, { recursive: true, force: true });
  });
}
