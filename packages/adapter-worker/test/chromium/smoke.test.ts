import { createWorkerBackend } from '@ipcx/adapter-worker';
import { expect, it } from 'vitest';

it('chromium: smoke', async () => {
  expect(globalThis.crossOriginIsolated).toBe(true);
  const backend = createWorkerBackend();
  const [a, b] = await backend.pipes.createDuplex();
  const child = await backend.processes.spawn(new URL('../../../testkit/dist/children/echo.js', import.meta.url), { args: [b] });
  await b.close();
  await a.write(new TextEncoder().encode('hello'));
  await a.end();
  const chunks = [];
  for await (const c of a) chunks.push(...c);
  console.log('pid', child.pid, new TextDecoder().decode(new Uint8Array(chunks)), await child.exited);
  await a.close();
});
