// Echoes every chunk from `input` to `output` until EOF, reading into one reused buffer of
// `bufferBytes` (ipcx child, any backend).
export default async function ({ args: [input, output, bufferBytes] }) {
  const buffer = new Uint8Array(bufferBytes);
  for (;;) {
    const n = await input.readInto(buffer);
    if (n === 0) return;
    await output.write(buffer.subarray(0, n));
  }
}
