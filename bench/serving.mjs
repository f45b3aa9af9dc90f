// The harness's side of the children that serve runs (children/serve-runs.mjs): a case starts the
// children it measures with once, and the warm-up run warms them as it warms the peers'
// long-lived threads. Used by the ipcx cases of both backends.
import path from 'node:path';
import { lineReader } from './children/serve-runs.mjs';

/** A child's exit status as text, for errors. */
export const describeExit = ({ code, signal }) => (signal ? `killed by ${signal}` : `exit code ${code}`);

/** Awaits the end of `proc` (started from `entry`); throws unless it exited with code 0. */
export async function checkExit(proc, entry) {
  const status = await proc.exited;
  if (status.code !== 0) throw new Error(`${path.basename(entry.pathname)}: ended with ${describeExit(status)}`);
}

/** Runs every step in order, even after one failed (teardown must release everything), then throws the first failure. */
export async function allSteps(...steps) {
  let failed = false;
  let failure;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!failed) [failed, failure] = [true, error];
    }
  }
  if (failed) throw failure;
}

/**
 * Starts the child `entry` of backend `ipc` (a pinger, a bulk sender or receiver: a child serving
 * runs with children/serve-runs.mjs) once, with `args` plus the reader end of a control pipe and
 * the writer end of a result pipe. `run(count)` commands one run of `count` round trips (or bytes)
 * and resolves with the child's answer line; `close()` ends it (EOF on the control pipe) and checks
 * it exited with code 0. `partner` (optional) is the child it plays against (an echo, a bulk
 * sender: anything with `exited`): if that ends during a run, the run fails instead of waiting for
 * an answer that cannot come. A failed run kills the child.
 */
export async function spawnServing(ipc, entry, args, partner) {
  const name = path.basename(entry.pathname);
  const [controlReader, control] = await ipc.pipes.create();
  const [results, resultWriter] = await ipc.pipes.create();
  let proc;
  try {
    proc = await ipc.processes.spawn(entry, { args: [...args, controlReader, resultWriter] });
  } catch (error) {
    await control.close();
    await results.close();
    throw error;
  } finally {
    // Only the child holds these ends now: its exit closes them, so our reads see EOF then.
    await controlReader.close();
    await resultWriter.close();
  }
  const nextLine = lineReader(results);
  const partnerEnded = partner?.exited.then((status) => {
    throw new Error(`${name}: its partner ended during a run (${describeExit(status)})`);
  });
  partnerEnded?.catch(() => {}); // only a failure while a run waits on it
  let failed = false;
  return {
    /** One run of `count`: the child's answer line. */
    async run(count) {
      try {
        await control.write(`${count}\n`);
        const line = await (partnerEnded === undefined ? nextLine() : Promise.race([nextLine(), partnerEnded]));
        if (line === null) throw new Error(`${name}: ended without answering (${describeExit(await proc.exited)})`);
        return line;
      } catch (error) {
        failed = true;
        proc.kill(); // it may be waiting on its partner forever
        throw error;
      }
    },
    /** Resolves with the child's exit status. */
    exited: proc.exited,
    async close() {
      await allSteps(
        () => control.close(), // EOF ends the child's serve loop
        async () => {
          const status = await proc.exited;
          // After a failed run the child was killed; that run's error is the one to report.
          if (!failed && status.code !== 0) throw new Error(`${name}: ended with ${describeExit(status)}`);
        },
        () => results.close(),
      );
    },
  };
}
