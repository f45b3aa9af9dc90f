import { createNativeBackend } from '@ipcx/adapter-native';
import { registerMultiprocessingSuites } from './suites/index.js';

registerMultiprocessingSuites(createNativeBackend());
