/**
 * `processes.spawn`: a child runs a module with plain data and ipcx objects in its args, through
 * core only, and reports how it ended.
 */
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { closeAllAfter, readToEnd, text } from '../util.js';

export function processSuite(context: SuiteContext): void {
  describe('processes', () => {
    const processes = () => context.backend().processes;

    it('passes plain data and ipcx objects to the child, which runs through core', async () => {
      const [report, writer] = closeAllAfter(await context.backend().pipes.create());
      const data = [42, 'text', { nested: { list: [1, 2, 3] } }, new Uint8Array([0, 255, 7]), null, true];
      const child = await processes().spawn(context.child('report-args'), { args: [writer, ...data] });
      await writer.close();
      const summary = JSON.parse(text(await readToEnd(report))!) as Record<string, unknown>;
      expect(summary).toEqual({
        data: [42, 'text', { nested: { list: [1, 2, 3] } }, { bytes: [0, 255, 7] }, null, true],
        isChild: true,
        backend: context.backend().name,
        sameContext: true,
      });
      expect(await child.exited).toEqual({ code: 0, signal: null });
    });

    it('reports exit code 1 when the child throws', async () => {
      const child = await processes().spawn(context.child('throw'));
      expect((await child.exited).code).toBe(1);
      expect(child.kill()).toBe(false);
    });

    it('kills a child', async () => {
      const child = await processes().spawn(context.child('hold'), { args: [60_000] });
      expect(child.pid).toBeGreaterThan(0);
      expect(child.kill('SIGKILL')).toBe(true);
      const status = await child.exited;
      if (context.hasFeature('os-processes')) expect(status).toEqual({ code: null, signal: 'SIGKILL' });
      else expect(status.code).not.toBe(0);
    });

    it('rejects a bad entry or bad options with TypeError', async () => {
      await expect(processes().spawn('relative/path.js')).rejects.toBeInstanceOf(TypeError);
      await expect(processes().spawn(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(processes().spawn(context.child('hold'), { args: 'nope' as never })).rejects.toBeInstanceOf(TypeError);
    });

    it('reports a missing entry module as a failed child', async () => {
      const child = await processes().spawn(new URL('./no-such-child-module.js', context.child('hold')));
      expect((await child.exited).code).toBe(1);
    });

    it('runs an executable with ipcx pipes at chosen descriptors where the backend has executables, ENOSYS elsewhere', async () => {
      const [stdinReader, stdinWriter] = closeAllAfter(await context.backend().pipes.create());
      const [stdoutReader, stdoutWriter] = closeAllAfter(await context.backend().pipes.create());
      const options = { args: ['a-z', 'A-Z'], descriptors: { 0: stdinReader, 1: stdoutWriter } };
      if (!context.hasFeature('executables')) {
        await expect(processes().spawnExecutable('tr', options)).rejects.toMatchObject({ code: 'ENOSYS' });
        // Each pipe end of this backend tells it has no OS descriptor.
        expect(stdinReader.fd).toBeUndefined();
        return;
      }
      expect(stdinReader.fd).toBeGreaterThanOrEqual(0);
      const child = await processes().spawnExecutable('tr', options);
      await stdinReader.close();
      await stdoutWriter.close();
      expect(stdinReader.fd).toBe(-1);
      await stdinWriter.write('shout\n');
      await stdinWriter.close();
      expect(text(await readToEnd(stdoutReader))).toBe('SHOUT\n');
      expect(await child.exited).toEqual({ code: 0, signal: null });
    });

    it('rejects bad spawnExecutable arguments with TypeError/RangeError on every backend', async () => {
      await expect(processes().spawnExecutable('')).rejects.toThrow(RangeError);
      await expect(processes().spawnExecutable('tr', { args: ['a\0b'] })).rejects.toThrow(TypeError);
      await expect(processes().spawnExecutable('tr', { env: { 'A=B': 'x' } })).rejects.toThrow(TypeError);
      await expect(processes().spawnExecutable('tr', { descriptors: { 3: {} as never } })).rejects.toThrow(TypeError);
      await expect(processes().spawnExecutable('tr', { descriptors: { 100000: 'ignore' } })).rejects.toThrow(RangeError);
    });
  });
}
