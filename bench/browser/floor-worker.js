// The browser's floor under the bench (bench/browser/floor.html, no ipcx): the step of
// performance.now() in a cross-origin isolated worker ('clock'), and a 2-worker ping-pong on one
// SharedArrayBuffer cell that parks in Atomics.waitAsync ('ping-wait'/'echo-wait'), sleeps in a
// synchronous Atomics.wait ('ping-sleep'/'echo-sleep', allowed in a Web Worker) or spins on
// Atomics.load ('ping-spin'/'echo-spin'). Posts the µs per round trip (or the clock steps in µs).
self.onmessage = async ({ data: { role, sab, n } }) => {
  const cells = new Int32Array(sab);
  if (role === 'clock') {
    const deltas = new Set(); let last = performance.now();
    for (let i = 0; i < 200000; i++) { const t = performance.now(); if (t !== last) { deltas.add(Math.round((t - last) * 1000)); last = t; } }
    self.postMessage([...deltas].sort((a, b) => a - b).slice(0, 8));
    return;
  }
  // ping-pong on cell 0: pinger waits for odd, echo waits for even values
  const mine = role === 'ping' ? 0 : 1;
  const spin = role.endsWith('spin') || role === 'ping' && n < 0;
  const count = Math.abs(n);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (role.startsWith('ping')) Atomics.store(cells, 0, 2 * i + 1), Atomics.notify(cells, 0);
    const want = role.startsWith('ping') ? 2 * i + 2 : 2 * i + 1;
    if (role.includes('spin')) { while (Atomics.load(cells, 0) !== want); }
    else if (role.includes('sleep')) { for (;;) { const v = Atomics.load(cells, 0); if (v === want) break; Atomics.wait(cells, 0, v); } }
    else { for (;;) { const v = Atomics.load(cells, 0); if (v === want) break; await Atomics.waitAsync(cells, 0, v).value; } }
    if (!role.startsWith('ping')) Atomics.store(cells, 0, 2 * i + 2), Atomics.notify(cells, 0);
  }
  self.postMessage(((performance.now() - t0) * 1000) / count);
};
