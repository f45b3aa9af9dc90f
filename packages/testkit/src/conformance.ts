import { beforeAll, describe } from 'vitest';
import type { IpcBackend } from '@ipcx/core';
import { createSuiteContext, type ConformanceOptions } from './context.js';
import { leakCheck } from './leaks.js';
import { duplexPipeSuite } from './suites/duplex-pipe.js';
import { pipeSuite } from './suites/pipe.js';
import { fifoSuite } from './suites/fifo.js';
import { socketSuite } from './suites/socket.js';
import { messageQueueSuite } from './suites/message-queue.js';
import { posixMessageQueueSuite } from './suites/posix-message-queue.js';
import { semaphoreSuite } from './suites/semaphore.js';
import { posixSemaphoreSuite } from './suites/posix-semaphore.js';
import { sharedMemorySuite } from './suites/shared-memory.js';
import { fileLockSuite } from './suites/file-lock.js';
import { processSuite } from './suites/process.js';

/**
 * Registers every conformance suite against a backend, then the leak check, inside
 * `describe('<name> conformance')`. Suites of primitives the backend does not declare are skipped.
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
    pipeSuite(context);
    duplexPipeSuite(context);
    fifoSuite(context);
    socketSuite(context);
    messageQueueSuite(context);
    posixMessageQueueSuite(context);
    semaphoreSuite(context);
    posixSemaphoreSuite(context);
    sharedMemorySuite(context);
    fileLockSuite(context);
    processSuite(context);
    leakCheck(context);
  });
}
