/**
 * The Lua scripts: their sources live in the package's `lua/` folder (shipped with it), each one
 * prefixed with `lua/lib.lua`. They are registered on a client with ioredis' `defineCommand`,
 * which sends a script's source once per connection and runs it by its SHA1 (`EVALSHA`) after
 * that, loading it again only if the server answers `NOSCRIPT` (after a restart).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** Every script, by file name (without `.lua`), with its number of KEYS. */
export const SCRIPTS = {
  'mq-open': 1,
  'mq-send': 9,
  'mq-unblock': 1,
  'mq-receive': 8,
  'mq-unwait': 3,
  'mq-reap': 3,
  'mq-ack': 1,
  'mq-stat': 1,
  'mq-set': 1,
  'mq-remove': 9,
  'sem-open': 2,
  'sem-operate': 5,
  'sem-unwait': 1,
  'sem-read': 4,
  'sem-write': 4,
  'sem-set': 1,
  'sem-remove': 5,
  'sem-reap': 4,
  'lease-renew': 1,
  'lease-forget': 1,
  'pmq-open': 2,
  'pmq-send': 2,
  'pmq-receive': 2,
  'pmq-attributes': 2,
  'pmq-close': 2,
  'pmq-unlink': 2,
  'pmq-notify': 2,
  'psem-open': 2,
  'psem-wait': 2,
  'psem-post': 2,
  'psem-value': 2,
  'psem-close': 2,
  'psem-unlink': 2,
} as const;

/** A script's name. */
export type ScriptName = keyof typeof SCRIPTS;

const lua = new URL('../lua/', import.meta.url);
let sources: Map<ScriptName, string> | undefined;

/** Each script's full source (lib.lua + the script), read once from the package's `lua/` folder. */
export function scriptSources(): Map<ScriptName, string> {
  if (sources === undefined) {
    const lib = readFileSync(new URL('lib.lua', lua), 'utf8');
    sources = new Map();
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      sources.set(name, `${lib}\n${readFileSync(new URL(`${name}.lua`, lua), 'utf8')}`);
    }
  }
  return sources;
}

const shas = new Map<ScriptName, string>();

/** A script's SHA1, for a raw `EVALSHA` on a connection where ioredis' commands are not defined. */
export function scriptSha(name: ScriptName): string {
  let sha = shas.get(name);
  if (sha === undefined) {
    sha = createHash('sha1').update(scriptSources().get(name)!).digest('hex');
    shas.set(name, sha);
  }
  return sha;
}

/** The ioredis command name of a script: `ipcx_mq_send`. */
export function commandName(name: ScriptName): string {
  return `ipcx_${name.replaceAll('-', '_')}`;
}

/** Registers every script as a custom command on `client`. */
export function defineScripts(client: Redis | Cluster): void {
  for (const [name, source] of scriptSources()) {
    client.defineCommand(commandName(name), { numberOfKeys: SCRIPTS[name], lua: source });
  }
}

/** One argument of a script call. */
export type ScriptArgument = string | number | Buffer | Uint8Array;

/**
 * Runs a script and returns its reply with every bulk string as a Buffer (payloads are bytes).
 * `keys` and `args` go to KEYS and ARGV.
 */
export function runScript(client: Redis | Cluster, name: ScriptName, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown[]> {
  let methodName = methodNames.get(name);
  if (methodName === undefined) {
    methodName = `${commandName(name)}Buffer`;
    methodNames.set(name, methodName);
  }
  const method = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown[]>>)[methodName];
  if (method === undefined) throw new Error(`script ${name} is not defined on this client`);
  // Most calls carry no plain Uint8Array (a message's bytes usually come as a Buffer): no copy of the list then.
  let passed: readonly ScriptArgument[] = args;
  if (args.some((a) => a instanceof Uint8Array && !Buffer.isBuffer(a))) {
    passed = args.map((a) => (a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a));
  }
  return method.call(client, ...keys, ...passed);
}

/** The ioredis method of each script that answers with Buffers (`ipcx_mq_sendBuffer`), built once. */
const methodNames = new Map<ScriptName, string>();
