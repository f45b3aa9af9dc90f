#!/usr/bin/env node
// `npm run bench [-- --quick] [--json FILE] [--report DIR] [--busy N] [--filter TEXT] [--browser]`
//
// Runs every case (ipcx and its peers, in this one invocation so that ratios hold on a noisy
// machine): per case one warm-up run, then several measured runs; prints median, min and max,
// then the speed targets as ratios of medians. `--busy N` runs N busy loops beside it (the
// header says how many), `--report DIR` writes the JSON and SVG charts (bench/report.mjs).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startBusyLoops } from './busy.mjs';
import { summarize } from './lib.mjs';
import { Progress } from './progress.mjs';
import { writeReport } from './report.mjs';
import { nativeCases } from './cases-native.mjs';
import { peerCases } from './cases-peers.mjs';
import { workerCases } from './cases-worker.mjs';
import { redisCases } from './cases-redis.mjs';
import { multiprocessingCases, multiprocessingTargets } from './cases-multiprocessing.mjs';
import { BROWSER_TARGETS, BROWSER_WARM_UP, runBrowserBench } from './browser.mjs';

/**
 * @typedef {{ roundTrips: number, bulkBytes: number }} BenchParams
 * @typedef {{ measure(): Promise<number>, teardown(): Promise<void> | void }} BenchSession
 * @typedef {{ name: string, unit: 'us' | 'GB/s' | 'msg/s' | 'values/s' | 'tasks/s', skip?: string, setup(params: BenchParams): Promise<BenchSession> }} BenchCase
 */

const USAGE = `usage: npm run bench -- [options]
  --quick          fewer round trips and runs (a check that the harness works)
  --filter TEXT    only the cases whose name contains TEXT (several: TEXT,TEXT,...)
  --busy N         run N busy loops (one CPU each) beside the cases, to measure under load
  --json FILE      write the results as JSON
  --report DIR     write the results and SVG charts into DIR (bench-idle.json or bench-busy-N.json;
                   an idle and a busy run in one DIR also give compare-busy-N.svg)
  --browser        only the browser cases: ipcx between Web Workers vs postMessage, in headless
                   Chromium (bench/browser.mjs; needs Debian's chromium package)
  --help           this text`;

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    filter: { type: 'string' },
    busy: { type: 'string', default: '0' },
    json: { type: 'string' },
    report: { type: 'string' },
    browser: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
/** True if a case named `name` is selected by `--filter` (any of its comma-separated parts). */
const selected = (name) => !options.filter || options.filter.split(',').some((part) => name.includes(part));
const quick = options.quick;
const busy = Number(options.busy);
if (!Number.isInteger(busy) || busy < 0 || busy > 64) {
  console.error(`--busy takes a whole number of busy loops (0-64), not ${options.busy}\n${USAGE}`);
  process.exit(2);
}

const params = quick ? { roundTrips: 2_000, bulkBytes: 32 << 20 } : { roundTrips: 20_000, bulkBytes: 256 << 20 };
const runs = quick ? 3 : 7;

/** Lower is better for µs, higher for every other unit (GB/s, values/s, tasks/s). `faster(a, b)`: how many times a beats b. */
const TARGETS = [
  ['worker.pipe.pingpong', 'peer.messageport.pingpong', 20],
  ['worker.pipe.bulk', 'peer.postmessage-transfer.bulk', 1.5],
  ['native.shm-futex.pingpong', 'peer.process-send.pingpong', 5],
  ['native.sysv-mq.pingpong', 'peer.process-send.pingpong', 1],
  ['native.posix-mq.pingpong', 'peer.process-send.pingpong', 1],
  ['native.sysv-sem.pingpong', 'peer.process-send.pingpong', 1],
  ['native.pipe.pingpong', 'peer.net-uds.pingpong', 1],
  ['native.unix-stream.pingpong', 'peer.net-uds.pingpong', 1],
  ['native.pipe.bulk', 'peer.net-uds.bulk', 1],
  ['redis.sysv-mq.pingpong', 'peer.bullmq.pingpong', 5],
  // Within 1.5x of raw LPUSH/BRPOP: a ratio of at least 1 / 1.5.
  ['redis.sysv-mq.pingpong', 'peer.redis-list.pingpong', 1 / 1.5],
  ...['native.pipe.pingpong', 'native.unix-stream.pingpong', 'native.sysv-mq.pingpong', 'native.posix-mq.pingpong', 'native.sysv-sem.pingpong', 'native.shm-futex.pingpong'].map((name) => [name, 'peer.python-mp-pipe.pingpong', 1]),
  ...multiprocessingTargets,
];

/** Floors on a case's own median (higher is better). */
const ABSOLUTE_TARGETS = [['redis.sysv-mq.throughput', 50_000]];

async function main() {
  const cases = (options.browser ? [] : [...nativeCases, ...workerCases, ...redisCases, ...peerCases, ...multiprocessingCases]).filter((c) => selected(c.name));
  const results = [];
  // The load is read before the busy loops start: it says what else the machine was doing.
  const load = os.loadavg();
  const stopBusy = busy > 0 ? startBusyLoops(busy) : () => {};
  const meta = {
    date: new Date().toISOString(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim(),
    node: process.version, load, busy, quick, runs,
  };
  console.log(`ipcx bench${quick ? ' (quick)' : ''}: ${meta.cpus} CPUs, load ${load.map((l) => l.toFixed(2)).join(' ')}, ` +
    `busy loops ${busy}, Node ${process.version}, ${runs} runs per case after a warm-up`);
  const progress = new Progress(cases.length, runs);
  try {
    if (options.browser) {
      // One page run in headless Chromium measures all three browser cases.
      // A tenth of Node's round trips: a parked exchange in a page costs tens of µs to ms per round trip.
      // The warm-up is longer (the same for the three cases): see BROWSER_WARM_UP.
      const browser = await runBrowserBench({ roundTrips: params.roundTrips / 10, runs, warmUp: quick ? params.roundTrips / 10 : BROWSER_WARM_UP });
      meta.browser = browser.userAgent;
      console.log(`  browser: ${browser.userAgent}`);
      for (const result of browser.results) {
        if (!selected(result.name)) continue;
        results.push(result);
        progress.log(`  ${result.name.padEnd(34)} ${format(result.median).padStart(9)} ${result.unit.padEnd(4)} (min ${format(result.min)}, max ${format(result.max)})`);
      }
    }
    for (const benchCase of cases) {
      progress.startCase(benchCase.name);
      if (benchCase.skip) {
        progress.skipCase();
        progress.log(`  skip ${benchCase.name}: ${benchCase.skip}`);
        continue;
      }
      const session = await benchCase.setup(params);
      try {
        await session.measure(); // warm-up
        progress.runDone(0);
        const values = [];
        for (let i = 0; i < runs; i++) {
          values.push(await session.measure());
          progress.runDone(i + 1);
        }
        const { median, min, max } = summarize(values);
        results.push({ name: benchCase.name, unit: benchCase.unit, median, min, max, runs });
        progress.log(`  ${benchCase.name.padEnd(34)} ${format(median).padStart(9)} ${benchCase.unit.padEnd(4)} (min ${format(min)}, max ${format(max)})`);
      } finally {
        await session.teardown();
      }
    }
  } finally {
    progress.finish();
    stopBusy();
  }
  printTargets(results);
  const run = { meta, results };
  if (options.json) writeFileSync(options.json, JSON.stringify(run, null, 2) + '\n');
  if (options.report) for (const file of writeReport(options.report, run)) console.log(`wrote ${file}`);
}

function format(value) {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function printTargets(results) {
  const byName = new Map(results.map((r) => [r.name, r]));
  const lines = [];
  for (const [mine, peer, factor] of [...TARGETS, ...BROWSER_TARGETS]) {
    const a = byName.get(mine);
    const b = byName.get(peer);
    if (!a || !b) continue;
    const ratio = a.unit === 'us' ? b.median / a.median : a.median / b.median;
    lines.push(`  ${ratio >= factor ? 'met ' : 'MISS'} ${mine} vs ${peer}: ${ratio.toFixed(2)}x (target ${factor}x)`);
  }
  for (const [name, floor] of ABSOLUTE_TARGETS) {
    const result = byName.get(name);
    if (result) lines.push(`  ${result.median >= floor ? 'met ' : 'MISS'} ${name}: ${format(result.median)} ${result.unit} (target >= ${floor})`);
  }
  if (lines.length > 0) console.log(`targets (ratios of medians):\n${lines.join('\n')}`);
}

await main();
// Children and workers are gone; exit even if a peer left a handle open.
process.exit(0);
