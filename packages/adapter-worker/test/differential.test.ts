/**
 * The kernel is the oracle: random sequences of operations run on the native backend (real kernel
 * objects) and on the worker backend (the emulation), step by step, and must give the same
 * results and error codes. Primitives the worker does not declare yet are skipped.
 */
import { createNativeBackend } from '@ipcx/adapter-native';
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { registerDifferential } from '@ipcx/testkit';

registerDifferential({
  name: 'native vs worker differential',
  reference: () => createNativeBackend(),
  candidate: () => createWorkerBackend(),
});
