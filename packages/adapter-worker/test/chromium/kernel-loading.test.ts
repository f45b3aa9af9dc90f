// How a page gets the kernel: `kernel.wasm` fetched from beside the package's modules and compiled
// while it streams when the server says application/wasm, or from its bytes when it does not (a
// plain static server's application/octet-stream). Blob URLs carry the content type they are
// given, so both answers come from a real fetch in the page.
import { describe, expect, it, onTestFinished } from 'vitest';
import { compileKernelFrom } from '../../dist/host-browser.js';

const shipped = new URL('../../dist/kernel.wasm', import.meta.url);

describe('chromium: kernel loading', () => {
  for (const type of ['application/wasm', 'application/octet-stream', '']) {
    it(`chromium: compiles kernel.wasm served as '${type}' and lays out a kernel with it`, async () => {
      const bytes = await (await fetch(shipped)).arrayBuffer();
      const url = URL.createObjectURL(new Blob([bytes], { type }));
      onTestFinished(() => URL.revokeObjectURL(url));
      const module = await compileKernelFrom(new URL(url));
      const memory = new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true });
      const calls = new WebAssembly.Instance(module, { env: { memory } }).exports as { kernel_init(bytes: number): number; objects_live(): number };
      expect(calls.kernel_init(16 * 65536)).toBe(0);
      expect(calls.objects_live()).toBe(0);
    });
  }

  it('chromium: names the URL and the HTTP status when kernel.wasm cannot be fetched', async () => {
    const missing = new URL('./no-such-kernel.wasm', shipped);
    await expect(compileKernelFrom(missing)).rejects.toThrow(`cannot load the kernel from ${missing.href}: HTTP 404`);
  });
});
