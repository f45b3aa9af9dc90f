/**
 * The seed's last item: `socketpair`, a full-duplex channel between a parent and its child with no
 * path and no listening. The parent asks five questions; the child answers each on the same socket.
 */
import { defineChild, type StreamSocket } from '@ipcx/core';
import { encodeLine, expectEqual, lines, type ExampleMain } from './example.js';

/** Child side: answer every question line with its square, until EOF. */
export default defineChild<[StreamSocket]>(async ({ args: [socket], pid }) => {
  for await (const question of lines(socket)) {
    const n = question as number;
    await socket.write(encodeLine({ n, square: n * n, pid }));
  }
  await socket.end();
});

/** Parent side. */
export const main: ExampleMain = async (backend) => {
  const [mine, theirs] = await backend.unixSockets.pair('stream');
  try {
    const child = await backend.processes.spawn(import.meta.url, { args: [theirs] });
    await theirs.close();
    for (let n = 1; n <= 5; n++) await mine.write(encodeLine(n));
    await mine.end();
    const answers: Array<{ n: number; square: number; pid: number }> = [];
    for await (const answer of lines(mine)) answers.push(answer as (typeof answers)[number]);
    expectEqual(answers.map((a) => a.square), [1, 4, 9, 16, 25], 'answers');
    expectEqual(await child.exited, { code: 0, signal: null }, 'child exit status');
    return {
      outcome: answers.map((a) => a.square),
      crossings: [
        { from: `parent ${process.pid}`, to: `child ${child.pid}`, what: 'questions 1..5 on one end of a socketpair' },
        { from: `child ${answers[0]?.pid}`, to: `parent ${process.pid}`, what: `answers ${answers.map((a) => a.square).join(',')} on the same socket` },
      ],
    };
  } finally {
    await mine.close();
    await theirs.close();
  }
};
