import { beforeAll, describe } from 'vitest';
import type { IpcBackend } from '@ipcx/core';
import { createSuiteContext, type ConformanceOptions } from './context.js';
import { leakCheck } from './leaks.js';
import { conformanceSuites } from './suites.js';

/**
 * Registers every conformance suite against a backend, then the leak check, inside
 * `describe('<name> conformance')`: every suite of {@link conformanceSuites}, in its order. Suites of
 * primitives the backend does not declare are skipped.
 */
export function registerConformance(options: ConformanceOptions): void {
  describe(`${options.name} conformance`, () => {
    let backend: IpcBackend | undefined;
    const context = createSuiteContext(options, () => {
      if (backend === undefined) throw new Error('the backend is only available inside tests');
      return backend;
    });
    beforeAll(async () => {
      backend = await options.create();
    });
    for (const suite of Object.values(conformanceSuites)) suite(context);
    leakCheck(context);
  });
}
