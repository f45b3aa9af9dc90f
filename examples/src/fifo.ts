/**
 * The seed's FIFO example: a reader makes a FIFO and reads from it until the writer closes;
 * writers are unrelated processes that know only the path: an ipcx child and, where the backend's
 * objects are the host's own, a shell running `echo "ts" > path`.
 */
import { Feature, defineChild, type IpcBackend } from '@ipcx/core';
import type { Crossing, ExampleMain } from './example.js';
import { expectEqual } from './example.js';

/** Child side: open the FIFO by its path (waiting for the reader) and write one line. */
export default defineChild<[string]>(async ({ backend, args: [path], pid }) => {
  const writer = await backend.fifos.openWriter(path);
  await writer.write(`ts from child ${pid}\n`);
  await writer.close();
});

/** Opens the FIFO for reading (waiting for a writer) and reads until that writer closes. */
async function readOnce(backend: IpcBackend, path: string): Promise<string> {
  const reader = await backend.fifos.openReader(path);
  try {
    let text = '';
    for await (const chunk of reader) text += new TextDecoder().decode(chunk);
    return text;
  } finally {
    await reader.close();
  }
}

/** Parent side. */
export const main: ExampleMain = async (backend, { tempDir }) => {
  const path = `${tempDir}/fifo_pipe`;
  await backend.fifos.create(path, { mode: 0o640 });
  const crossings: Crossing[] = [];
  try {
    const child = await backend.processes.spawn(import.meta.url, { args: [path] });
    const fromChild = await readOnce(backend, path);
    expectEqual(fromChild, `ts from child ${child.pid}\n`, 'line from the child');
    expectEqual(await child.exited, { code: 0, signal: null }, 'child exit status');
    crossings.push({ from: `child ${child.pid}`, to: `parent ${process.pid}`, what: `${JSON.stringify(fromChild)} through FIFO ${path}, then "writer close"` });

    if (backend.capabilities.features.has(Feature.hostInterop)) {
      const { spawn } = await import('node:child_process');
      const shell = spawn('sh', ['-c', `echo "ts" > '${path}'`], { stdio: 'inherit' });
      const fromShell = await readOnce(backend, path);
      expectEqual(fromShell, 'ts\n', 'line from the shell');
      crossings.push({ from: `shell ${shell.pid}`, to: `parent ${process.pid}`, what: `${JSON.stringify(fromShell)} written by echo "ts" > ${path}` });
    }
    // The shell's line is the host's alone; what both backends share is the child's line.
    return { crossings, outcome: fromChild.replace(String(child.pid), '<pid>') };
  } finally {
    await backend.fifos.remove(path);
  }
};
