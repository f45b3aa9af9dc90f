// Peer of redis.sysv-mq.pingpong: raw LPUSH/BRPOP with the same client library (ioredis), no ipcx.
// Pops from `ping`, pushes the same bytes to `pong`, until a value whose length is not `length`.
import { Redis } from 'ioredis';

const [port, ping, pong, length] = process.argv.slice(2);
const redis = new Redis({ host: '127.0.0.1', port: Number(port) });
for (;;) {
  const [, value] = await redis.brpopBuffer(ping, 0);
  if (value.length !== Number(length)) break;
  await redis.lpush(pong, value);
}
redis.disconnect();
