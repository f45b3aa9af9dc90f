// Echoes messages of type `pingType` on `queue` back as type `pongType` (System V message queue),
// until a message whose length is not `length` (ipcx child, any backend).
export default async function ({ args: [queue, pingType, pongType, length] }) {
  for (;;) {
    const { data } = await queue.receive({ type: pingType });
    if (data.length !== length) return;
    await queue.send(pongType, data);
  }
}
