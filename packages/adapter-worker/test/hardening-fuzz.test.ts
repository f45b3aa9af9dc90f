/**
 * The hardening fuzzer on the worker backend, whose emulated kernel and workers live inside the
 * fuzzing child process: a crash there fails this test instead of killing the runner.
 * `IPCX_FC_SEED`, `IPCX_FC_PATH`, `IPCX_FUZZ_RUNS`, `IPCX_FUZZ_EXCLUDE`: see the testkit README.
 */
import { createRequire } from 'node:module';
import { registerHardening } from '@ipcx/testkit';

registerHardening({
  name: 'worker',
  // About 21,800 calls: ~30 s on two cores under some load.
  runs: 5000,
  backend: { module: createRequire(import.meta.url).resolve('@ipcx/adapter-worker'), export: 'createWorkerBackend' },
});
