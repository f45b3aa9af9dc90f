/** Leak checks for the native backend: open objects of this process and kernel objects. */
import { readFile, readdir } from 'node:fs/promises';
import type { Diagnostics } from '@ipcx/core';
import { posixQueuesLeft } from './posix-message-queue.js';
import { openObjects } from './registry.js';

/**
 * System V objects (from /proc/sysvipc, the source `ipcs` reads), POSIX objects in /dev/shm, and
 * the POSIX message queues this process created and has not unlinked (probed by name, since
 * /dev/mqueue may not be mounted).
 */
async function kernelObjects(): Promise<string[]> {
  const found: string[] = [];
  for (const [file, label] of [['msg', 'sysv message queue'], ['sem', 'sysv semaphore set'], ['shm', 'sysv segment']] as const) {
    const text = await readFile(`/proc/sysvipc/${file}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [key, id] = line.trim().split(/\s+/);
      if (key !== undefined && id !== undefined && key !== '') found.push(`${label} key ${key} id ${id}`);
    }
  }
  for (const name of await readdir('/dev/shm').catch(() => [] as string[])) found.push(`/dev/shm/${name}`);
  found.push(...posixQueuesLeft());
  return found;
}

/** The native backend's {@link Diagnostics}. */
export const nativeDiagnostics: Diagnostics = {
  openObjects,
  kernelObjects,
};
