// Shared-memory echo (ipcx child, any backend). Cell PING holds the parent's sequence number and
// the payload at `pingOffset`; for each new number the child copies the payload to `pongOffset`,
// stores the number in cell PONG and notifies it. Waits (futex) only while the cell is unchanged.
// A sequence number of -1 ends it.
const PING = 0;
const PONG = 1;

export default async function ({ args: [segment, pingOffset, pongOffset, length] }) {
  const cells = new Int32Array(segment.buffer, 0, 2);
  const bytes = new Uint8Array(segment.buffer);
  let seen = 0; // the parent counts from 1; -1 ends
  for (;;) {
    let seq;
    while ((seq = Atomics.load(cells, PING)) === seen) await segment.wait(PING, seen);
    if (seq === -1) return;
    seen = seq;
    bytes.copyWithin(pongOffset, pingOffset, pingOffset + length);
    Atomics.store(cells, PONG, seq);
    segment.notify(PONG);
  }
}
