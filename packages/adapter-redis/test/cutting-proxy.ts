/**
 * A TCP proxy in front of a redis-server that can cut one client's link right after forwarding a
 * request that contains a marker: the server runs the command, its reply never reaches the client
 * (a network blip, an idle-timeout cut, `CLIENT KILL`, between a script's run and its reply).
 */
import net from 'node:net';

export interface CuttingProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** Cuts the link that next forwards a request containing `marker`, once the server has had time to run it. */
  cutAfter(marker: string): void;
  /** Links cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

/** Starts a proxy to `127.0.0.1:targetPort` on a free port. */
export async function startCuttingProxy(targetPort: number): Promise<CuttingProxy> {
  let marker: Buffer | undefined;
  let cuts = 0;
  const links = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    links.add(client).add(upstream);
    let cut = false;
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      upstream.write(chunk);
      if (marker !== undefined && chunk.includes(marker)) {
        marker = undefined;
        cut = true;
        cuts++;
        // The server gets the request and answers; the answer is dropped with the link.
        setTimeout(() => {
          client.destroy();
          upstream.destroy();
        }, 100);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cut) client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        links.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cutAfter(text) {
      marker = Buffer.from(text);
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const socket of links) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
