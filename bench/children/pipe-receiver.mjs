// The receiving side of a bulk transfer (ipcx child, any backend): reads `input` until EOF into
// one reused buffer (readInto). The clock starts after the first chunk, so the sender's start-up
// is not counted. Writes `<nanoseconds> <bytes timed> <bytes received>` to `result` and closes it.
export default async function ({ args: [input, bufferBytes, result] }) {
  const buffer = new Uint8Array(bufferBytes);
  let received = await input.readInto(buffer);
  const start = process.hrtime.bigint();
  let timed = 0;
  for (;;) {
    const n = await input.readInto(buffer);
    if (n === 0) break;
    timed += n;
  }
  const ns = process.hrtime.bigint() - start;
  received += timed;
  await result.write(`${ns} ${timed} ${received}`);
  await result.close();
}
