/**
 * The manifest suite: what a backend declares is checked against what it does, primitive by
 * primitive over core's table. A declared primitive must work (its probe succeeds); an undeclared
 * one must reject with `ENOSYS` (not half-work, not crash, not answer another code). The backend's
 * own `capabilities` must be the ones it was registered with, so the check is of its declaration.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isIpcError, primitiveNames, type IpcBackend } from '@ipcx/core';
import { createSuiteContext, type ConformanceOptions, type SuiteContext } from './context.js';
import { leakCheck } from './leaks.js';
import { primitiveProbes } from './suites.js';

/** Registers the manifest's cases for `context` (one per primitive of core's table). */
export function manifestSuite(context: SuiteContext): void {
  describe('manifest', () => {
    it('reports the capabilities it was registered with', () => {
      const declared = context.backend().capabilities;
      expect([...declared.primitives].sort()).toEqual([...context.capabilities.primitives].sort());
      expect([...declared.features].sort()).toEqual([...context.capabilities.features].sort());
    });

    for (const primitive of primitiveNames) {
      if (context.has(primitive)) {
        it(`declares ${primitive}, which works`, async () => {
          await primitiveProbes[primitive](context);
        });
      } else {
        it(`does not declare ${primitive}, which rejects with ENOSYS`, async () => {
          const outcome = await primitiveProbes[primitive](context).then(
            () => 'worked',
            (error: unknown) => error,
          );
          expect(isIpcError(outcome, 'ENOSYS'), `expected IpcError ENOSYS, got ${String(outcome)}`).toBe(true);
        });
      }
    }
  });
}

/**
 * Registers the manifest suite against a backend, then the leak check (the probes remove what
 * they make), inside `describe('<name> manifest')`. `capabilities` is what the backend declares.
 */
export function registerManifest(options: ConformanceOptions): void {
  describe(`${options.name} manifest`, () => {
    let backend: IpcBackend | undefined;
    const context = createSuiteContext(options, () => {
      if (backend === undefined) throw new Error('the backend is only available inside tests');
      return backend;
    });
    beforeAll(async () => {
      backend = await options.create();
    });
    manifestSuite(context);
    leakCheck(context);
  });
}
