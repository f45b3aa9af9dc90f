// The conformance suites of @ipcx/testkit for this package, on the native backend (OS processes).
import { createNativeBackend } from '@ipcx/adapter-native';
import { registerMultiprocessingSuites } from '@ipcx/testkit/multiprocessing';

registerMultiprocessingSuites(createNativeBackend());
