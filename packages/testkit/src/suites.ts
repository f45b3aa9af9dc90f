/**
 * The conformance suites keyed by the primitive they check (the names of core's primitive table),
 * and each primitive's probe for the manifest suite. A new primitive adds its suite file's two
 * exports here; the types make a row of the table without a suite or a probe a compile error.
 */
import type { PrimitiveName } from '@ipcx/core';
import type { SuiteContext } from './context.js';
import { duplexPipeProbe, duplexPipeSuite } from './suites/duplex-pipe.js';
import { eventfdProbe, eventfdSuite } from './suites/eventfd.js';
import { fifoProbe, fifoSuite } from './suites/fifo.js';
import { fileLockProbe, fileLockSuite } from './suites/file-lock.js';
import { messageQueueProbe, messageQueueSuite } from './suites/message-queue.js';
import { pipeProbe, pipeSuite } from './suites/pipe.js';
import { posixMessageQueueProbe, posixMessageQueueSuite } from './suites/posix-message-queue.js';
import { posixSemaphoreProbe, posixSemaphoreSuite } from './suites/posix-semaphore.js';
import { processSuite } from './suites/process.js';
import { semaphoreProbe, semaphoreSuite } from './suites/semaphore.js';
import { sharedMemoryProbe, sharedMemorySuite } from './suites/shared-memory.js';
import { networkSocketProbe, networkSocketSuite, unixSocketProbe, unixSocketSuite } from './suites/socket.js';

/** A conformance suite: registers its `describe` (skipped when the backend lacks the primitive). */
export type Suite = (context: SuiteContext) => void;

/**
 * One small real use of a primitive through the backend under test, removing what it made: it
 * resolves when the primitive works and rejects with the backend's error otherwise (`ENOSYS`
 * where the backend does not implement it).
 */
export type Probe = (context: SuiteContext) => Promise<void>;

/**
 * Every conformance suite by primitive, in the order {@link registerConformance} runs them, and
 * `processes` (every backend has it) last.
 */
export const conformanceSuites: { readonly [P in PrimitiveName]: Suite } & { readonly processes: Suite } = {
  pipe: pipeSuite,
  'duplex-pipe': duplexPipeSuite,
  fifo: fifoSuite,
  'unix-socket': unixSocketSuite,
  'network-socket': networkSocketSuite,
  'message-queue': messageQueueSuite,
  'posix-message-queue': posixMessageQueueSuite,
  semaphore: semaphoreSuite,
  'posix-semaphore': posixSemaphoreSuite,
  'shared-memory': sharedMemorySuite,
  'file-lock': fileLockSuite,
  eventfd: eventfdSuite,
  processes: processSuite,
};

/** Every primitive's probe, for {@link manifestSuite}. */
export const primitiveProbes: { readonly [P in PrimitiveName]: Probe } = {
  pipe: pipeProbe,
  'duplex-pipe': duplexPipeProbe,
  fifo: fifoProbe,
  'unix-socket': unixSocketProbe,
  'network-socket': networkSocketProbe,
  'message-queue': messageQueueProbe,
  'posix-message-queue': posixMessageQueueProbe,
  semaphore: semaphoreProbe,
  'posix-semaphore': posixSemaphoreProbe,
  'shared-memory': sharedMemoryProbe,
  'file-lock': fileLockProbe,
  eventfd: eventfdProbe,
};
