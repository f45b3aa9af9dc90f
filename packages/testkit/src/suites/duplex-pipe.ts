/** Duplex pipes (socketpair): both ends read and write, like Python's `Pipe(duplex=True)`. */
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { closeAllAfter, readToEnd, text } from '../util.js';

export function duplexPipeSuite(context: SuiteContext): void {
  describe.skipIf(!context.has('duplex-pipe'))('duplex pipe', () => {
    const pipes = () => context.backend().pipes;

    it('talks both ways with a child process', async () => {
      const [mine, theirs] = closeAllAfter(await pipes().createDuplex());
      const child = await context.backend().processes.spawn(context.child('echo'), { args: [theirs] });
      await theirs.close();
      await mine.write('ping 1;');
      expect(text(await mine.read())).toBe('ping 1;');
      await mine.write('ping 2;');
      await mine.end();
      // end() closed only our writing side: the echo of the rest still arrives, then EOF.
      expect(text(await readToEnd(mine))).toBe('ping 2;');
      expect((await child.exited).code).toBe(0);
      // for-await left this duplex end open at EOF (it also writes); a break closes it.
      expect(mine.closed).toBe(false);
      for await (const chunk of mine) expect(chunk).toBeUndefined();
      expect(mine.closed).toBe(false);
    });

    it('reads EOF when the other end closes and EPIPE when writing to a closed end', async () => {
      const [a, b] = closeAllAfter(await pipes().createDuplex());
      await b.write('last words');
      await b.close();
      expect(text(await a.read())).toBe('last words');
      expect(await a.read()).toBeNull();
      await expect(a.write('anyone?')).rejects.toMatchObject({ code: 'EPIPE' });
    });
  });
}

/** The manifest's use of duplex pipes: bytes each way through a new pair. */
export async function duplexPipeProbe(context: SuiteContext): Promise<void> {
  const [a, b] = await context.backend().pipes.createDuplex();
  try {
    await a.write('ping');
    expect(text(await b.read())).toBe('ping');
    await b.write('pong');
    expect(text(await a.read())).toBe('pong');
  } finally {
    await a.close();
    await b.close();
  }
}
