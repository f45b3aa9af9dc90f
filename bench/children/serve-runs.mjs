// Not a child itself: the loop shared by the persistent measuring children (pingers, the bulk
// receiver) and the
// line reading both sides of that exchange use. A measuring child is started once per case and
// commanded per run over two ipcx pipes, so the harness's warm-up run warms its JIT and caches as
// it warms the peers' long-lived measuring threads.

/**
 * Returns a function that resolves with the next '\n'-terminated line of `reader` (without the
 * '\n'), or null at EOF. A line may arrive split across reads: bytes accumulate until the '\n'.
 * Throws if EOF cuts a line short.
 */
export function lineReader(reader) {
  const buffer = new Uint8Array(256);
  const decoder = new TextDecoder();
  let pending = '';
  return async function nextLine() {
    for (;;) {
      const end = pending.indexOf('\n');
      if (end >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        return line;
      }
      const n = await reader.readInto(buffer);
      if (n === 0) {
        pending += decoder.decode();
        if (pending !== '') throw new Error(`serve-runs: EOF inside a line (${JSON.stringify(pending)})`);
        return null;
      }
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  };
}

/**
 * Serves runs until EOF on `control`: each command is a line holding a count (the round trips or
 * bytes of one run); `runOnce(count)` performs them and resolves with the answer: the nanoseconds
 * they took (a bigint), or a line of text (the bulk receiver's `<ns> <bytes timed>`), which goes
 * back on `result` as one line. Closes `result` when done, so a parent waiting
 * for an answer reads EOF (rather than waiting forever) if this child fails.
 */
export async function serveRuns(control, result, runOnce) {
  const nextLine = lineReader(control);
  try {
    for (let line = await nextLine(); line !== null; line = await nextLine()) {
      const count = Number(line);
      if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`serve-runs: bad command ${JSON.stringify(line)}`);
      const ns = await runOnce(count);
      await result.write(`${ns}\n`);
    }
  } finally {
    await result.close();
  }
}
