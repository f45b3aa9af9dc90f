// The other side of the net-over-a-Unix-socket peer: echoes (pingpong) or, on 'go', sends the
// requested number of bytes in 64 KiB chunks (bulk), honouring backpressure.
import { unlinkSync } from 'node:fs';
import net from 'node:net';

const [socketPath, mode, bulkBytes] = process.argv.slice(2);
const chunk = Buffer.alloc(64 * 1024, 3);
try { unlinkSync(socketPath); } catch {}
const server = net.createServer((socket) => {
  socket.setNoDelay?.(true);
  if (mode === 'pingpong') {
    socket.on('data', (data) => socket.write(data));
    return;
  }
  socket.once('data', () => {
    let left = Number(bulkBytes);
    const pump = () => {
      while (left > 0) {
        left -= chunk.length;
        if (!socket.write(chunk)) return socket.once('drain', pump);
      }
    };
    pump();
  });
  socket.on('error', () => {});
});
server.listen(socketPath, () => process.send('listening'));
process.on('SIGTERM', () => {
  server.close();
  try { unlinkSync(socketPath); } catch {}
  process.exit(0);
});
