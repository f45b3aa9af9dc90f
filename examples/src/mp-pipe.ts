/**
 * The seed's pipe example with @ipcx/multiprocessing: values, not bytes.
 *
 * Python:
 *   parent_conn, child_conn = Pipe()
 *   p = Process(target=f, args=(child_conn,)); p.start()
 *   for i in range(5): parent_conn.send(i)
 *   parent_conn.send(None); print(parent_conn.recv()); p.join()
 */
import { Pipe, defineChild, spawn, type Connection } from '@ipcx/multiprocessing';
import { expectEqual, type ExampleMain } from './example.js';

/** Child side: receive numbers until None (null), send back what arrived with this pid. */
export default defineChild<[Connection]>(async ({ args: [conn], pid }) => {
  const received: number[] = [];
  for (let value = await conn.recv<number | null>(); value !== null; value = await conn.recv<number | null>()) received.push(value);
  await conn.send({ pid, received });
  await conn.close();
});

/** Parent side. */
export const main: ExampleMain = async (backend) => {
  const [parentConn, childConn] = await Pipe(backend);
  try {
    const p = await spawn(backend, import.meta.url, [childConn]);
    await childConn.close();
    const sent = [0, 1, 2, 3, 4];
    for (const i of sent) await parentConn.send(i);
    await parentConn.send(null);
    const reply = await parentConn.recv<{ pid: number; received: number[] }>();
    expectEqual(reply.received, sent, 'values the child received');
    expectEqual(await p.join(), { code: 0, signal: null }, 'child exit status');
    return {
      crossings: [
        { from: `parent ${process.pid}`, to: `child ${p.pid}`, what: `conn.send() of ${JSON.stringify(sent)} and null` },
        { from: `child ${reply.pid}`, to: `parent ${process.pid}`, what: `conn.send() of { received: ${JSON.stringify(reply.received)} }` },
      ],
      outcome: reply.received,
    };
  } finally {
    await parentConn.close();
    await childConn.close();
  }
};
