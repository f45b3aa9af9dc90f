#!/usr/bin/env node
// `node bench/one.mjs CASE [ROUND_TRIPS] [RUNS]`: one case, no warm-up, prints each run. For
// measuring a case under strace -c -f, perf stat or valgrind (syscalls and instructions per round trip).
import { nativeCases } from './cases-native.mjs';
import { multiprocessingCases } from './cases-multiprocessing.mjs';
import { peerCases } from './cases-peers.mjs';

const [name, roundTrips = '10000', runs = '1'] = process.argv.slice(2);
const benchCase = [...nativeCases, ...peerCases, ...multiprocessingCases].find((c) => c.name === name);
if (!benchCase) throw new Error(`no case ${name}`);
const session = await benchCase.setup({ roundTrips: Number(roundTrips), bulkBytes: Number(roundTrips) * 65536 });
for (let i = 0; i < Number(runs); i++) console.log(`${name}: ${(await session.measure()).toFixed(2)} ${benchCase.unit}`);
await session.teardown();
process.exit(0);
