/**
 * The hardening fuzzer on the native backend: every member of every factory and object, with
 * hostile arguments, in a child process (a crash fails this test instead of killing the runner).
 * `IPCX_FC_SEED`, `IPCX_FC_PATH`, `IPCX_FUZZ_RUNS`, `IPCX_FUZZ_EXCLUDE`: see the testkit README.
 */
import { createRequire } from 'node:module';
import { registerHardening } from '@ipcx/testkit';

registerHardening({
  name: 'native',
  // about 22,000 calls, ~30 s on two idle cores.
  runs: 5000,
  backend: { module: createRequire(import.meta.url).resolve('@ipcx/adapter-native'), export: 'createNativeBackend' },
});
