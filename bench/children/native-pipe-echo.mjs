// Echoes every message from `input` to `output` until EOF (ipcx child, any backend).
export default async function ({ args: [input, output] }) {
  for await (const chunk of input) await output.write(chunk);
}
