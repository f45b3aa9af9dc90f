/** Leak checks for the native backend: open objects of this process and kernel objects. */
import { readFile, readdir } from 'node:fs/promises';
import type { Diagnostics } from '@ipcx/core';
import { recordedPosixQueues } from './ledger.js';
import { posixQueuesLeft } from './posix-message-queue.js';
import { openObjects } from './registry.js';

/**
 * System V objects (from /proc/sysvipc, the source `ipcs` reads), POSIX objects in /dev/shm, and
 * POSIX message queues: those this process created and has not unlinked, and those any ipcx
 * process of this user created, from the ledger (a queue left by a SIGKILLed program included),
 * each probed by name with `mq_open`.
 *
 * Why not list /dev/mqueue: it is often not mounted (it is not on the machines this was built
 * on), and mounting it takes root, or a private mount namespace (`unshare -m`, root again or a
 * user namespace) in a helper process: a privilege and a process per call that a leak check must
 * not need. Queues made by programs other than ipcx are not ipcx's leaks; the ledger names every
 * queue ipcx made, which is what this list is for.
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
  const queues = new Set([...posixQueuesLeft(), ...recordedPosixQueues()]);
  found.push(...queues);
  return found;
}

/** The native backend's {@link Diagnostics}. */
export const nativeDiagnostics: Diagnostics = {
  openObjects,
  kernelObjects,
};
