/**
 * The seed's semaphore example: `Semaphore(3)` shared by five child processes. Each child enters,
 * acquires, holds for a while, releases. At most three hold it at once; the other two wait until
 * a unit is released. Here it is a System V semaphore set of one semaphore with value 3, taken
 * with SEM_UNDO so that a child that dies while holding a unit gives it back.
 *
 * The children report "enter", "acquire" and "release" as lines on one pipe (each line is one
 * write far below PIPE_BUF, so lines from different children never mix).
 */
import { defineChild, type PipeWriter, type SemaphoreSet } from '@ipcx/core';
import { expectEqual, lines, type ExampleMain, parentPid } from './example.js';

const CHILDREN = 5;
const UNITS = 3;
const HOLD_MS = 60;

/** Child side: enter, acquire one unit, hold it, release it; report each step. */
export default defineChild<[SemaphoreSet, PipeWriter, number]>(async ({ args: [semaphores, report, child] }) => {
  const say = (event: string) => report.write(JSON.stringify({ child, event }) + '\n');
  await say('enter');
  await semaphores.wait(0, 1, { undo: true });
  await say('acquire');
  await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  await say('release');
  semaphores.post(0, 1, { undo: true });
});

/** Parent side. */
export const main: ExampleMain = async (backend) => {
  const semaphores = await backend.semaphores.open('private', { size: 1, create: true, mode: 0o600 });
  const [reportReader, reportWriter] = await backend.pipes.create();
  try {
    semaphores.setValue(0, UNITS);
    const children = [];
    for (let child = 1; child <= CHILDREN; child++) {
      children.push(await backend.processes.spawn(import.meta.url, { args: [semaphores, reportWriter, child] }));
    }
    await reportWriter.close();
    const events: string[] = [];
    let holding = 0;
    let mostHolding = 0;
    for await (const line of lines(reportReader)) {
      const { child, event } = line as { child: number; event: string };
      events.push(`${child}:${event}`);
      if (event === 'acquire') mostHolding = Math.max(mostHolding, ++holding);
      if (event === 'release') holding--;
    }
    for (const child of children) expectEqual(await child.exited, { code: 0, signal: null }, 'child exit status');
    expectEqual(events.filter((e) => e.endsWith(':acquire')).length, CHILDREN, 'children that acquired');
    if (mostHolding > UNITS) throw new Error(`${mostHolding} children held the semaphore at once (limit ${UNITS})`);
    expectEqual(semaphores.value(0), UNITS, 'value after every child released');
    return {
      outcome: { acquired: events.filter((e) => e.endsWith(':acquire')).length, atMost: UNITS, finalValue: UNITS },
      crossings: [
        { from: `${CHILDREN} children ${children.map((c) => c.pid).join(',')}`, to: `semaphore set ${semaphores.id}`, what: `wait/post of one unit each (SEM_UNDO); at most ${mostHolding} of ${UNITS} units held at once` },
        { from: 'the children', to: `parent ${parentPid}`, what: `${events.length} lines on one pipe: ${events.slice(0, 8).join(' ')} ...` },
      ],
    };
  } finally {
    await reportReader.close();
    await reportWriter.close();
    await semaphores.remove();
    await semaphores.close();
  }
};
