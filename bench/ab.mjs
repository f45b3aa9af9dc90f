#!/usr/bin/env node
// `node bench/ab.mjs [--busy N] [--round-trips N] [--bulk-mib N] CASE...`: the named cases of this checkout, each
// a warm-up and 3 measured runs, on one line of medians (with the load at the start). For A/B
// comparisons on a shared machine: run it from two checkouts in turn, several times, and compare
// lines next to each other (docs/BENCHMARKS.md, "The wait policy under load").
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startBusyLoops } from './busy.mjs';
import { multiprocessingCases } from './cases-multiprocessing.mjs';
import { nativeCases } from './cases-native.mjs';
import { peerCases } from './cases-peers.mjs';
import { workerCases } from './cases-worker.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { busy: { type: 'string', default: '0' }, 'round-trips': { type: 'string', default: '2000' }, 'bulk-mib': { type: 'string', default: '1' } },
});
const all = [...nativeCases, ...peerCases, ...workerCases, ...multiprocessingCases];
const unknown = positionals.filter((name) => !all.some((c) => c.name === name));
if (positionals.length === 0 || unknown.length > 0) {
  console.error(`usage: node bench/ab.mjs [--busy N] [--round-trips N] [--bulk-mib N] CASE...${unknown.length > 0 ? `\nunknown: ${unknown.join(', ')}` : ''}`);
  process.exit(2);
}
const load = os.loadavg()[0].toFixed(2);
const stop = startBusyLoops(Number(values.busy));
const out = [];
for (const name of positionals) {
  const benchCase = all.find((c) => c.name === name);
  if (benchCase.skip) {
    out.push(`${name}=skipped`);
    continue;
  }
  const session = await benchCase.setup({ roundTrips: Number(values['round-trips']), bulkBytes: Number(values['bulk-mib']) << 20 });
  await session.measure();
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await session.measure());
  await session.teardown();
  runs.sort((a, b) => a - b);
  out.push(`${name}=${runs[1].toPrecision(3)}`);
}
stop();
console.log(`load=${load} busy=${values.busy} ${out.join(' ')}`);
process.exit(0);
