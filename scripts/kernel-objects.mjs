// What the tests and the demo must not leave behind: System V queues, semaphore sets and segments
// (what `ipcs` lists, read from /proc/sysvipc) and POSIX objects in /dev/shm.
import { readFileSync, readdirSync } from 'node:fs';

/** A description of every such object now. */
export function kernelObjects() {
  const found = [];
  for (const [file, label] of [['msg', 'queue'], ['sem', 'semaphore set'], ['shm', 'segment']]) {
    let text = '';
    try {
      text = readFileSync(`/proc/sysvipc/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [key, id] = line.trim().split(/\s+/);
      if (key && id) found.push(`System V ${label} key ${key} id ${id}`);
    }
  }
  try {
    for (const name of readdirSync('/dev/shm')) found.push(`/dev/shm/${name}`);
  } catch {
    // no /dev/shm here
  }
  return found;
}

/**
 * The objects present now that were not in `before`. The kernel is shared with every other
 * program on the machine: an object that appears and goes again meanwhile is not ours, so a leak
 * is one still there a second later.
 */
export async function leftBehind(before) {
  const had = new Set(before);
  let leaked = kernelObjects().filter((entry) => !had.has(entry));
  for (let waited = 0; leaked.length > 0 && waited < 1000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = new Set(kernelObjects());
    leaked = leaked.filter((entry) => now.has(entry));
  }
  return leaked;
}
