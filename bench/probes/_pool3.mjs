import { createNativeBackend } from '@ipcx/adapter-native';
import { Pool, task } from '@ipcx/multiprocessing';
const native = createNativeBackend();
const pool = await Pool.create(native, { processes: 2 });
const double = task(new URL('file:///work/main/bench/children/mp-tasks.mjs'), 'double');
const items = Array.from({ length: 100000 }, (_, i) => i);
const out = [];
for (let r = 0; r < 20; r++) {
  const f0 = process.resourceUsage().minorPageFault;
  const start = process.hrtime.bigint();
  await pool.map(double, items);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  out.push(`${ms.toFixed(1)}ms/${process.resourceUsage().minorPageFault - f0}pf`);
}
console.log(out.join(' '));
pool.close(); await pool.join();
