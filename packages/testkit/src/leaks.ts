/**
 * Leak check after the suites: no object left open in this process, no new named object in the
 * (real or emulated) kernel, and nothing left in the run's temporary folder.
 */
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SuiteContext } from './context.js';

/** Registers the leak check; call it after every suite has been registered. */
export function leakCheck(context: SuiteContext & { readonly tempDir: string }): void {
  let before: readonly string[] = [];
  beforeAll(async () => {
    before = await context.backend().diagnostics.kernelObjects();
  });
  describe('leak check', () => {
    it('leaves no object open, no kernel object and no path behind', async () => {
      expect(context.backend().diagnostics.openObjects()).toEqual([]);
      const after = await context.backend().diagnostics.kernelObjects();
      expect(after.filter((entry) => !before.includes(entry))).toEqual([]);
      expect(readdirSync(context.tempDir)).toEqual([]);
    });
  });
  afterAll(() => {
    rmSync(context.tempDir, { recursive: true, force: true });
  });
}
