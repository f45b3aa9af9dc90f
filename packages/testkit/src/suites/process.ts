/**
 * `processes.spawn`: a child runs a module with plain data and ipcx objects in its args, through
 * core only, and reports how it ended.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { onNode } from '../host.js';
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
      // It fails on purpose: its stack trace would only clutter a passing run.
      const child = await processes().spawn(context.child('throw'), { stderr: 'ignore' });
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

    // Node hosts only: a page cannot check a module's file, and its workers take no Node options.
    it.skipIf(!onNode)('rejects a missing entry module at once with ENOENT, as a file URL or an absolute path', async () => {
      const missing = new URL('./no-such-child-module.js', context.child('hold'));
      const expected = { name: 'IpcError', code: 'ENOENT', syscall: 'access', path: fileURLToPath(missing) };
      await expect(processes().spawn(missing)).rejects.toMatchObject(expected);
      await expect(processes().spawn(fileURLToPath(missing))).rejects.toMatchObject(expected);
      await expect(processes().spawn(missing)).rejects.toThrow(`ENOENT: No such file or directory (access, '${fileURLToPath(missing)}', entry module)`);
      // A path no file can have (NUL byte, bad %-escape) is misuse, not a system error.
      await expect(processes().spawn('/no-such\0child.js')).rejects.toThrow(TypeError);
      await expect(processes().spawn('file:///no-such%zzchild.js')).rejects.toThrow(TypeError);
    });

    it.skipIf(!onNode)('starts the child with the Node options of execArgv', async () => {
      const spawnReporting = async (execArgv: string[]) => {
        const [report, writer] = closeAllAfter(await context.backend().pipes.create());
        const child = await processes().spawn(context.child('report-exec-argv'), { args: [writer], execArgv });
        await writer.close();
        const reported = JSON.parse(text(await readToEnd(report))!) as string[];
        expect(await child.exited).toEqual({ code: 0, signal: null });
        return reported;
      };
      expect(await spawnReporting(['--no-warnings'])).toEqual(['--no-warnings']);
      // A process-wide option: an OS child gets it; a worker thread takes only per-thread options
      // (V8's heap size belongs to the process) and spawn refuses it. Never silently ignored.
      const heap = await spawnReporting(['--max-old-space-size=123']).catch((error: unknown) => error);
      if (context.hasFeature('os-processes') || !(heap instanceof Error)) expect(heap).toContain('--max-old-space-size=123');
      else expect(heap).toBeInstanceOf(TypeError);
      await expect(processes().spawn(context.child('hold'), { execArgv: '--no-warnings' as never })).rejects.toThrow(TypeError);
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
