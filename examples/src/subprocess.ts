/**
 * An ordinary program with ipcx pipes as its stdin and stdout, as Python's subprocess does:
 *
 * ```python
 * p = subprocess.Popen(['sort'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
 * out, _ = p.communicate(b'pear\napple\nfig\n')
 * ```
 *
 * `sort` is not ipcx and not Node: it reads fd 0 and writes fd 1 with plain blocking calls, and
 * finds nothing else open. Native backend only (`executables` feature): the worker backend's
 * objects are no OS descriptors.
 */
import type { ExampleMain } from './example.js';
import { expectEqual } from './example.js';

const words = ['pear', 'apple', 'fig', 'banana', 'cherry'];

/** Parent side: feeds `sort` through one pipe and reads its answer from another. */
export const main: ExampleMain = async (backend) => {
  const [stdinReader, stdinWriter] = await backend.pipes.create();
  const [stdoutReader, stdoutWriter] = await backend.pipes.create();
  try {
    const sort = await backend.processes.spawnExecutable('sort', { descriptors: { 0: stdinReader, 1: stdoutWriter } });
    // sort has its own copies; ours must go, or sort never reads EOF and we never do.
    await stdinReader.close();
    await stdoutWriter.close();
    const reading = (async () => {
      let text = '';
      for await (const chunk of stdoutReader) text += Buffer.from(chunk).toString();
      return text;
    })();
    await stdinWriter.write(words.map((word) => `${word}\n`).join(''));
    await stdinWriter.close();
    const sorted = (await reading).trimEnd().split('\n');
    expectEqual(sorted, [...words].sort(), 'what sort wrote');
    expectEqual(await sort.exited, { code: 0, signal: null }, 'sort exit status');
    return {
      crossings: [
        { from: `parent ${process.pid}`, to: `sort ${sort.pid}`, what: `${words.length} lines on its stdin (an ipcx pipe at fd 0), then EOF` },
        { from: `sort ${sort.pid}`, to: `parent ${process.pid}`, what: `${JSON.stringify(sorted)} on its stdout (an ipcx pipe at fd 1)` },
      ],
      outcome: sorted,
    };
  } finally {
    for (const end of [stdinReader, stdinWriter, stdoutReader, stdoutWriter]) await end.close();
  }
};
