import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';
import { registerConformance } from '@ipcx/testkit';

const backend = createNativeBackend();

/** This process's descriptors that lead to pipes, sockets or FIFOs (what ipcx objects hold). */
function ipcDescriptors(): string[] {
  const found: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (/^(pipe|socket):/.test(target) || target.includes('ipcx-')) found.push(`${fd} -> ${target}`);
    } catch {
      // the descriptor readdir itself used, already closed
    }
  }
  return found;
}

let before: string[] = [];
beforeAll(() => {
  before = ipcDescriptors();
});

registerConformance({ name: 'native', create: () => backend, capabilities: backend.capabilities });

afterAll(() => {
  // Beyond the kit's own leak check (objects the backend tracks): no descriptor is left at all.
  expect(ipcDescriptors().filter((entry) => !before.includes(entry))).toEqual([]);
});
