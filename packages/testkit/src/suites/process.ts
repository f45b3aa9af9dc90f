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
  });
}
