// Echoes every message from POSIX message queue `input` to `output`, until a message whose length
// is not `length` (ipcx child, any backend).
export default async function ({ args: [input, output, length] }) {
  for (;;) {
    const { data } = await input.receive();
    if (data.length !== length) return;
    await output.send(data);
  }
}
