/**
 * The seed's first example: a parent sends five messages down a pipe to its child, which reads
 * until EOF (once every writer has closed) and answers with what it got.
 *
 * Python: `out_pipe, in_pipe = Pipe(); Process(target=sub_process, args=(out_pipe, in_pipe))`.
 */
import { defineChild, type PipeReader, type PipeWriter } from '@ipcx/core';
import { encodeLine, expectEqual, lines, type Crossing, type ExampleMain, parentPid } from './example.js';

/** Child side: read messages until EOF, then report them on the answer pipe. */
export default defineChild<[PipeReader, PipeWriter]>(async ({ args: [messages, answer], pid }) => {
  const received: unknown[] = [];
  for await (const message of lines(messages)) received.push(message);
  await answer.write(encodeLine({ pid, received }));
});

/** Parent side. */
export const main: ExampleMain = async (backend) => {
  const [messageReader, messageWriter] = await backend.pipes.create();
  const [answerReader, answerWriter] = await backend.pipes.create();
  try {
    const child = await backend.processes.spawn(import.meta.url, { args: [messageReader, answerWriter] });
    // As in the seed: close the ends this process does not use, or EOF would never come.
    await messageReader.close();
    await answerWriter.close();
    const sent = [0, 1, 2, 3, 4];
    for (const i of sent) await messageWriter.write(encodeLine(i));
    await messageWriter.close();
    let reply: { pid: number; received: number[] } | undefined;
    for await (const line of lines(answerReader)) reply = line as typeof reply;
    if (reply === undefined) throw new Error('the child sent no answer');
    expectEqual(reply.received, sent, 'messages the child read');
    expectEqual(await child.exited, { code: 0, signal: null }, 'child exit status');
    const crossings: Crossing[] = [
      { from: `parent ${parentPid}`, to: `child ${child.pid}`, what: `5 messages ${JSON.stringify(sent)} through a pipe, then EOF` },
      { from: `child ${reply.pid}`, to: `parent ${parentPid}`, what: `the list it read, ${JSON.stringify(reply.received)}, through a second pipe` },
    ];
    return { crossings, outcome: reply.received };
  } finally {
    for (const end of [messageReader, messageWriter, answerReader, answerWriter]) await end.close();
  }
};
