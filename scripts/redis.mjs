#!/usr/bin/env node
// Finds (and when allowed, installs) redis-server, and starts and stops throwaway servers for tests.
//
// `node scripts/redis.mjs ensure` makes sure `redis-server` and `redis-cli` are on PATH: when they
// are missing and this runs as root with apt-get available (as CI does), it installs Debian's
// `redis-server` and `redis-tools`; otherwise it fails with a message that names the packages.
// Never a silent skip: a test run without Redis fails.
//
// The functions below are imported by the vitest globalSetup of @ipcx/adapter-redis.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Debian packages that hold redis-server and redis-cli. */
export const REDIS_PACKAGES = ['redis-server', 'redis-tools'];

/** Absolute path of `name` on PATH, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    if (existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * Paths of redis-server and redis-cli, installing Debian's packages first when they are missing
 * and this process may (root, apt-get present). Throws with the package names otherwise.
 */
export function ensureRedis({ log = (line) => console.error(line) } = {}) {
  let server = which('redis-server');
  let cli = which('redis-cli');
  if (server && cli) return { server, cli };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = which('apt-get');
  if (!isRoot || !apt) {
    throw new Error(
      `redis-server/redis-cli not found on PATH. The Redis tests need a real server: install Debian's ` +
        `${REDIS_PACKAGES.join(' and ')} packages (apt-get install -y --no-install-recommends ${REDIS_PACKAGES.join(' ')}), ` +
        `or put redis-server and redis-cli (Redis 7 or Valkey) on PATH.` +
        (isRoot ? ' (apt-get is not available here.)' : ' (Installing them automatically needs root.)'),
    );
  }
  log(`[ipcx] redis-server missing: installing Debian's ${REDIS_PACKAGES.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...REDIS_PACKAGES]]) {
    const result = spawnSync(apt, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${result.status ?? result.signal}); install ${REDIS_PACKAGES.join(' ')} by hand`);
  }
  server = which('redis-server');
  cli = which('redis-cli');
  if (!server || !cli) throw new Error(`installed ${REDIS_PACKAGES.join(' ')} but redis-server/redis-cli are still not on PATH`);
  return { server, cli };
}

/** A free TCP port on 127.0.0.1 (the OS picks one; a race with another process is possible but rare). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `redis-cli -p port PING` answers PONG (or throws after `timeoutMs`). */
export async function waitForPing(cli, port, { timeoutMs = 10_000, args = [] } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = spawnSync(cli, ['-p', String(port), ...args, 'PING'], { encoding: 'utf8' });
    if (result.stdout?.trim() === 'PONG') return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${result.stdout}${result.stderr}`);
    await sleep(50);
  }
}

/**
 * A watchdog for a daemon this process started: a small shell loop that ends the server (and
 * removes the folder this call made) once this process is gone, should `stop()` never run. A test
 * file whose tests were all filtered out (`vitest -t ...`) skips its `afterAll`, and its worker,
 * held open by the backend's connections, is killed without an `exit` event; a crash is the same.
 * It checks that the pid is still a redis-server (a fault test may have killed it and the pid be
 * reused) and polls once a second. Returns the watchdog process (killed by `stop()`).
 */
function watchdog(pid, ownedDir) {
  const cleanup = `[ "$(cat /proc/${pid}/comm 2>/dev/null)" = redis-server ] && kill -9 ${pid}${ownedDir === undefined ? '' : `; rm -rf '${ownedDir}'`}`;
  const child = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${cleanup}`], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/**
 * Starts a redis-server as a daemon on a free port in a new temporary folder. `extra` are more
 * command-line settings (e.g. `['--appendonly', 'yes']`; later settings win), `pingArgs` more
 * redis-cli arguments for the readiness PING (e.g. `--tls --cacert ...`, `--user`, `--pass`).
 * Returns `{ port, dir, pid, stop() }`.
 * The server is not a system service: `stop()` ends it by its pid and removes the folder.
 */
export async function startRedis({ extra = [], dir, port, pingArgs = [] } = {}) {
  const { server, cli } = ensureRedis();
  port ??= await freePort();
  const ownDir = dir === undefined;
  dir ??= mkdtempSync(path.join(os.tmpdir(), 'ipcx-redis-'));
  const pidfile = path.join(dir, `redis-${port}.pid`);
  let pid;
  let guard;
  try {
    execFileSync(server, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--daemonize', 'yes', '--pidfile', pidfile, '--logfile', path.join(dir, `redis-${port}.log`), ...extra,
    ]);
    await waitForPing(cli, port, { args: pingArgs });
    pid = Number(readFileSync(pidfile, 'utf8').trim());
    guard = watchdog(pid, ownDir ? dir : undefined);
  } catch (error) {
    // Leave nothing behind: the daemon (if it started) and the folder this call made.
    if (existsSync(pidfile)) await stopPid(Number(readFileSync(pidfile, 'utf8').trim()));
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    dir,
    pid,
    cli,
    server,
    /** Ends the server (SIGTERM, then SIGKILL after 5 s) and, unless `keepDir`, removes its folder. */
    async stop({ keepDir = false } = {}) {
      guard.kill();
      await stopPid(pid);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends SIGTERM to `pid` and waits until it is gone (SIGKILL after `graceMs`). */
export async function stopPid(pid, graceMs = 5000) {
  const alive = () => {
    try {
      // A daemon belongs to init, which may not reap it in a container: a zombie counts as gone.
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive()) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await sleep(20);
  }
}

/**
 * Starts three cluster-enabled servers and joins them into a cluster of three masters with
 * `redis-cli --cluster create`. Returns `{ ports, dir, stop() }`.
 */
export async function startCluster() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ipcx-redis-cluster-'));
  const nodes = [];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      nodes.push(await startRedis({ dir, port, extra: ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000'] }));
    }
    const { cli } = nodes[0];
    execFileSync(cli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'pipe' });
    // Wait until every node reports the cluster as ok.
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      for (;;) {
        const info = spawnSync(cli, ['-p', String(node.port), 'CLUSTER', 'INFO'], { encoding: 'utf8' }).stdout ?? '';
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${node.port} not ok: ${info}`);
        await sleep(100);
      }
    }
  } catch (error) {
    for (const node of nodes) await node.stop({ keepDir: true });
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ports: nodes.map((n) => n.port),
    dir,
    async stop() {
      for (const node of nodes) await node.stop({ keepDir: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const task = process.argv[2] ?? 'ensure';
  if (task === 'ensure') {
    try {
      const { server, cli } = ensureRedis({ log: (line) => console.log(line) });
      console.log(`[ipcx] redis-server: ${server}\n[ipcx] redis-cli: ${cli}`);
      console.log(execFileSync(server, ['--version'], { encoding: 'utf8' }).trim());
    } catch (error) {
      console.error(`[ipcx] ${error.message}`);
      process.exit(1);
    }
  } else {
    console.error('usage: node scripts/redis.mjs ensure');
    process.exit(2);
  }
}
