// The peer of the browser bench: a plain Web Worker (no ipcx). It gets a MessagePort to the other
// worker; as 'echo' it posts every 64-byte message back, as 'pinger' it runs `warmUp` ping-pongs,
// then `roundTrips` per run, and posts the measured runs' µs per round trip to the page.
const PING_BYTES = 64;

self.onmessage = ({ data: { role, port, roundTrips, runs, warmUp } }) => {
  if (role === 'echo') {
    port.onmessage = ({ data }) => port.postMessage(data);
    return;
  }
  const ping = new Uint8Array(PING_BYTES).fill(7);
  const times = [];
  let run = 0;
  let left = warmUp; // run 0 warms up
  let start = performance.now();
  port.onmessage = () => {
    if (--left > 0) {
      port.postMessage(ping);
      return;
    }
    if (run > 0) times.push(((performance.now() - start) * 1000) / roundTrips); // run 0 warms up
    if (++run > runs) {
      self.postMessage(times);
      return;
    }
    left = roundTrips;
    start = performance.now();
    port.postMessage(ping);
  };
  port.postMessage(ping);
};
