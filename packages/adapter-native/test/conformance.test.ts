import { createNativeBackend } from '@ipcx/adapter-native';
import { registerConformance } from '@ipcx/testkit';

const backend = createNativeBackend();
registerConformance({ name: 'native', create: () => backend, capabilities: backend.capabilities });
