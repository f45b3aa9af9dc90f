/**
 * The seed's shared-memory example with @ipcx/multiprocessing, as Python's docs advise: Value and
 * Array rather than raw bytes.
 *
 * Python:
 *   num = Value('d', 0.0); arr = Array('i', range(10))
 *   p = Process(target=f, args=(num, arr)); p.start(); p.join()
 *   print(num.value, arr[:])   # 3.1415927 [0, -1, -2, ...]
 */
import { SharedArray, Value, defineChild, spawn } from '@ipcx/multiprocessing';
import { expectEqual, type ExampleMain } from './example.js';

/** Child side: Python's `f(n, a)`. */
export default defineChild<[Value<'d'>, SharedArray<'i'>]>(async ({ args: [num, arr] }) => {
  num.value = 3.1415927;
  for (let i = 0; i < arr.length; i++) arr.set(i, -arr.get(i));
});

/** Parent side. */
export const main: ExampleMain = async (backend) => {
  const num = await Value.create(backend, 'd', 0);
  const arr = await SharedArray.create(backend, 'i', Array.from({ length: 10 }, (_, i) => i));
  try {
    const p = await spawn(backend, import.meta.url, [num, arr]);
    expectEqual(await p.join(), { code: 0, signal: null }, 'child exit status');
    const outcome = { num: num.value, arr: arr.toArray() };
    expectEqual(outcome.arr, [0, -1, -2, -3, -4, -5, -6, -7, -8, -9], 'the array after the child');
    return {
      crossings: [{ from: `child ${p.pid}`, to: `parent ${process.pid}`, what: `num.value = ${outcome.num}; arr negated in place: ${JSON.stringify(outcome.arr)}` }],
      outcome,
    };
  } finally {
    await arr.close();
    await num.close();
  }
};
