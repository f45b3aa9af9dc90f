// ipcx children of the browser bench (module Web Workers started by `processes.spawn`):
// - 'pipe-echo': reads 64-byte pings from one pipe and writes each back on another, until EOF.
// - 'pipe-pinger': a warm-up run of `warmUp` ping-pongs through the echo, then `runs` runs of `roundTrips`;
//   writes the measured runs' µs per round trip.
// - 'sem-echo': on a set of two, waits on 0 and posts 1, `total` times.
// - 'sem-pinger': posts 0 and waits on 1, `warmUp` times, then `roundTrips` times per run; writes the
//   measured runs' µs per round trip.
import { defineChild } from '@ipcx/core';

const PING_BYTES = 64;

export default defineChild(async ({ args: [role, ...args] }) => {
  if (role === 'pipe-echo') {
    const [input, output] = args;
    const buffer = new Uint8Array(PING_BYTES);
    for (;;) {
      let got = 0;
      while (got < PING_BYTES) {
        const n = await input.readInto(buffer.subarray(got));
        if (n === 0) return;
        got += n;
      }
      await output.write(buffer);
    }
  }
  if (role === 'pipe-pinger') {
    const [output, input, roundTrips, runs, warmUp, report] = args;
    const ping = new Uint8Array(PING_BYTES).fill(7);
    const buffer = new Uint8Array(PING_BYTES);
    const times = [];
    for (let run = 0; run <= runs; run++) {
      const start = performance.now();
      for (let i = 0, n = run === 0 ? warmUp : roundTrips; i < n; i++) {
        await output.write(ping);
        let got = 0;
        while (got < PING_BYTES) got += await input.readInto(buffer.subarray(got));
      }
      if (run > 0) times.push(((performance.now() - start) * 1000) / roundTrips); // run 0 warms up
    }
    await report.write(JSON.stringify(times));
    return;
  }
  if (role === 'sem-echo') {
    const [set, total] = args;
    for (let i = 0; i < total; i++) {
      await set.wait(0);
      set.post(1);
    }
    return;
  }
  if (role === 'sem-pinger') {
    const [set, roundTrips, runs, warmUp, report] = args;
    const times = [];
    for (let run = 0; run <= runs; run++) {
      const start = performance.now();
      for (let i = 0, n = run === 0 ? warmUp : roundTrips; i < n; i++) {
        set.post(0);
        await set.wait(1);
      }
      if (run > 0) times.push(((performance.now() - start) * 1000) / roundTrips);
    }
    await report.write(JSON.stringify(times));
    return;
  }
  throw new Error(`unknown role ${role}`);
});
