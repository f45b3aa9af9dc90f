// The shortest path through the browser host: a cross-origin isolated page, a duplex pipe, a
// child module Web Worker that echoes, EOF, the child's exit status and pid.
import { createWorkerBackend } from '@ipcx/adapter-worker';
import { expect, it } from 'vitest';

it('chromium: a page spawns an echo child in a Web Worker and reads back what it wrote', async () => {
  expect(globalThis.crossOriginIsolated).toBe(true);
  const backend = createWorkerBackend({ memoryBytes: 1 << 20 });
  const [mine, theirs] = await backend.pipes.createDuplex();
  const child = await backend.processes.spawn(new URL('../../../testkit/dist/children/echo.js', import.meta.url), { args: [theirs] });
  await theirs.close();
  await mine.write(new TextEncoder().encode('hello from the page'));
  await mine.end();
  let echoed = '';
  for await (const chunk of mine) echoed += new TextDecoder().decode(chunk);
  await mine.close();
  expect(echoed).toBe('hello from the page');
  expect(await child.exited).toEqual({ code: 0, signal: null });
  // The page is pid 1; a child's pid is its kernel owner number.
  expect(child.pid).toBeGreaterThan(1);
  expect(backend.diagnostics.openObjects()).toEqual([]);
});

it('chromium: await using ends a running child; its ends are reaped with it (EOF)', async () => {
  const backend = createWorkerBackend({ memoryBytes: 1 << 20 });
  const [reader, writer] = await backend.pipes.create();
  let exited: Promise<unknown>;
  {
    await using child = await backend.processes.spawn(new URL('../../../testkit/dist/children/hold.js', import.meta.url), { args: [60_000, writer] });
    exited = child.exited;
    await writer.close();
    // The child holds the only writer left: no EOF while it runs.
    await expect(reader.read({ timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  }
  // Disposed: terminated (code 1, no signal named) and reaped before `exited` settled.
  expect(await exited).toEqual({ code: 1, signal: null });
  expect(await reader.read({ timeout: 5_000 })).toBeNull();
  await reader.close();
  expect(backend.diagnostics.openObjects()).toEqual([]);
});
