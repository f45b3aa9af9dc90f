#!/usr/bin/env node
// `npm run bench [-- --quick] [--json FILE] [--filter TEXT]`
//
// Runs every case (ipcx and its peers, in this one invocation so that ratios hold on a noisy
// machine): per case one warm-up run, then several measured runs; prints median, min and max,
// then the speed targets as ratios of medians.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { summarize } from './lib.mjs';
import { nativeCases } from './cases-native.mjs';
import { peerCases } from './cases-peers.mjs';
import { workerCases } from './cases-worker.mjs';
import { multiprocessingCases, multiprocessingTargets } from './cases-multiprocessing.mjs';

/**
 * @typedef {{ roundTrips: number, bulkBytes: number }} BenchParams
 * @typedef {{ measure(): Promise<number>, teardown(): Promise<void> | void }} BenchSession
 * @typedef {{ name: string, unit: 'us' | 'GB/s' | 'values/s' | 'tasks/s', skip?: string, setup(params: BenchParams): Promise<BenchSession> }} BenchCase
 */

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const jsonIndex = argv.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? argv[jsonIndex + 1] : undefined;
const filterIndex = argv.indexOf('--filter');
const filter = filterIndex >= 0 ? argv[filterIndex + 1] : undefined;

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
  ...['native.pipe.pingpong', 'native.unix-stream.pingpong', 'native.sysv-mq.pingpong', 'native.posix-mq.pingpong', 'native.sysv-sem.pingpong', 'native.shm-futex.pingpong'].map((name) => [name, 'peer.python-mp-pipe.pingpong', 1]),
  ...multiprocessingTargets,
];

async function main() {
  const cases = [...nativeCases, ...workerCases, ...peerCases, ...multiprocessingCases].filter((c) => !filter || c.name.includes(filter));
  const results = [];
  console.log(`ipcx bench${quick ? ' (quick)' : ''}: ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}, ${runs} runs per case after a warm-up`);
  for (const benchCase of cases) {
    if (benchCase.skip) {
      console.log(`  skip ${benchCase.name}: ${benchCase.skip}`);
      continue;
    }
    const session = await benchCase.setup(params);
    try {
      await session.measure(); // warm-up
      const values = [];
      for (let i = 0; i < runs; i++) values.push(await session.measure());
      const { median, min, max } = summarize(values);
      results.push({ name: benchCase.name, unit: benchCase.unit, median, min, max, runs });
      console.log(`  ${benchCase.name.padEnd(34)} ${format(median).padStart(9)} ${benchCase.unit.padEnd(4)} (min ${format(min)}, max ${format(max)})`);
    } finally {
      await session.teardown();
    }
  }
  printTargets(results);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ results }, null, 2) + '\n');
}

function format(value) {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function printTargets(results) {
  const byName = new Map(results.map((r) => [r.name, r]));
  const lines = [];
  for (const [mine, peer, factor] of TARGETS) {
    const a = byName.get(mine);
    const b = byName.get(peer);
    if (!a || !b) continue;
    const ratio = a.unit === 'us' ? b.median / a.median : a.median / b.median;
    lines.push(`  ${ratio >= factor ? 'met ' : 'MISS'} ${mine} vs ${peer}: ${ratio.toFixed(2)}x (target ${factor}x)`);
  }
  if (lines.length > 0) console.log(`targets (ratios of medians):\n${lines.join('\n')}`);
}

await main();
// Children and workers are gone; exit even if a peer left a handle open.
process.exit(0);
