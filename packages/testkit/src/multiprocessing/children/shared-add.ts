/**
 * Child: `n` atomic adds to an int32 Value, `n` locked `+= 1` on a float64 Value, `n` atomic adds
 * to a struct field; writes its index into its own array element and list slot.
 */
import { defineChild, type SharedArray, type ShareableList, type SharedStruct, type Value } from '@ipcx/multiprocessing';

export default defineChild<[Value<'i'>, Value<'d'>, SharedArray<'int32'>, SharedStruct<{ count: 'int32'; samples: ['float64', 3] }>, ShareableList, number, number]>(
  async ({ args: [counter, total, array, struct, list, index, n] }) => {
    for (let i = 0; i < n; i++) {
      counter.add(1);
      struct.add('count', 1);
      // A read then a write: only the lock makes it safe.
      await total.getLock().acquire();
      try {
        total.value += 1;
      } finally {
        await total.getLock().release();
      }
    }
    array.set(index, index * 10);
    list.set(index, `child ${index}`);
    (struct.field('samples') as Float64Array)[index] = index + 0.5;
  },
);
