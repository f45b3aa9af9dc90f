/**
 * The native backend's declaration against what it does (the testkit's manifest suite): every
 * primitive of core's table is declared and works on the real kernel.
 */
import { createNativeBackend } from '@ipcx/adapter-native';
import { registerManifest } from '@ipcx/testkit';

const backend = createNativeBackend();
registerManifest({ name: 'native', create: () => backend, capabilities: backend.capabilities });
