// Writes `bytes` bytes to `writer` in chunks of `chunk` bytes (ipcx child, any backend).
export default async function ({ args: [writer, bytes, chunk] }) {
  const data = new Uint8Array(chunk).fill(5);
  for (let sent = 0; sent < bytes; sent += chunk) await writer.write(data);
}
