// `--busy N`: N processes that each keep one CPU busy for the whole run, to measure under load
// (on a 2-vCPU machine, one busy loop leaves one CPU for the two sides of a ping-pong).
import { spawn } from 'node:child_process';

// The loop checks its parent every ~50 ms, so it ends by itself even if the harness is killed
// with SIGKILL and cannot stop it (a plain `for(;;){}` would run on forever).
const LOOP = `const parent = process.ppid;
for (;;) { const until = Date.now() + 50; while (Date.now() < until); if (process.ppid !== parent) process.exit(0); }`;

/**
 * Starts `count` busy loops. Returns a function that stops them (also called on exit).
 * @param {number} count
 */
export function startBusyLoops(count) {
  const children = [];
  for (let i = 0; i < count; i++) {
    children.push(spawn(process.execPath, ['-e', LOOP], { stdio: 'ignore' }));
  }
  const stop = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', stop);
  return stop;
}
