#!/usr/bin/env node
/**
 * The `ipcx` command: lists and removes the kernel objects and files that ipcx created on this
 * machine (from the ledger, see ledger.ts), in particular those left by a program that was killed
 * (SIGKILL, OOM killer, power loss of a container) before it could remove them.
 *
 *   ipcx ls [--json]                 what ipcx made that still exists, with its creator alive or dead
 *   ipcx clean [--dry-run] [--json]  removes those whose creator is dead
 *
 * `clean` never touches an object that ipcx did not make (it only acts on ledger entries), nor one
 * whose identity no longer matches its entry (the same key, name or path made again by someone
 * else): it then drops the stale entry and leaves the object alone.
 */
import { parseArgs } from 'node:util';
import { creatorAlive, dropEntry, probe, readLedger, removeObject, sysvSnapshot, type FoundEntry, type LedgerKind, type Probe } from './ledger.js';
import { errnoName } from '@ipcx/core';

const HELP = `Usage: ipcx <command> [options]

Lists and removes the IPC objects that ipcx created on this machine, as recorded by the
@ipcx/adapter-native backend in its ledger (one per user; IPCX_LEDGER_DIR overrides its place).

Commands:
  ls       List the objects ipcx made that still exist: kind, key/name/path, id,
           creator pid and whether it is alive, mode, size, age.
  clean    Remove the objects whose creator is dead. Objects not made by ipcx are never
           touched, nor one re-made by someone else under the same key, name or path
           (its stale ledger entry is dropped instead).

Options:
  --json      Print JSON instead of a table.
  --dry-run   (clean) Print what would be removed; remove nothing.
  --pid PID   Only objects made by this process id (repeatable).
  --all-users (root) Every user's ledger, not only root's own.
  -h, --help  Print this help.

Exit status: 0 on success, 1 if clean could not remove an object, 2 on a usage error.`;

/** One object as `ipcx ls --json` prints it. */
interface Listed {
  readonly kind: LedgerKind;
  /** The key (`0x...`, as ipcs prints it), the POSIX name or the path. */
  readonly name: string;
  readonly id: number | null;
  readonly pid: number;
  readonly creator: 'alive' | 'dead';
  /** Permission bits (e.g. 384 = 0o600); null when they cannot be read. */
  readonly mode: number | null;
  readonly size: number | null;
  readonly sizeUnit: 'bytes' | 'messages' | 'semaphores' | null;
  /** Creation time, ISO 8601, and age in seconds. */
  readonly created: string;
  readonly ageSeconds: number;
  /** 'present', or 'unverifiable' when this user may not inspect it (it is then never removed). */
  readonly state: 'present' | 'unverifiable';
  /** The creator's user id. */
  readonly uid: number;
}

function describe(found: FoundEntry, now: Probe, at: number): Listed {
  const { entry } = found;
  return {
    kind: entry.kind,
    name: entry.name,
    id: entry.id ?? null,
    pid: entry.pid,
    creator: creatorAlive(entry) ? 'alive' : 'dead',
    mode: now.mode ?? null,
    size: now.size ?? null,
    sizeUnit: now.sizeUnit ?? null,
    created: new Date(entry.created).toISOString(),
    ageSeconds: Math.max(0, Math.round((at - entry.created) / 1000)),
    state: now.state === 'unverifiable' ? 'unverifiable' : 'present',
    uid: entry.uid,
  };
}

/** Every entry with what its object is now. */
/** Which entries a command looks at. */
interface Selection {
  readonly pids: ReadonlySet<number> | null;
  readonly allUsers: boolean;
}

function survey({ pids, allUsers }: Selection): Array<{ found: FoundEntry; now: Probe }> {
  const sysv = sysvSnapshot();
  return readLedger(allUsers)
    .filter((found) => pids === null || pids.has(found.entry.pid))
    // Oldest first, then by kind: a program's objects stay together in the order it made them.
    .sort((a, b) => a.entry.created - b.entry.created || a.entry.kind.localeCompare(b.entry.kind))
    .map((found) => ({ found, now: probe(found.entry, sysv) }));
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

function sizeText(item: Listed): string {
  if (item.size === null) return '-';
  if (item.sizeUnit === 'messages') return `${item.size} msg`;
  if (item.sizeUnit === 'semaphores') return `${item.size} sem`;
  return String(item.size);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
}

function list(json: boolean, selection: Selection): number {
  const at = Date.now();
  const all = survey(selection);
  const objects = all.filter(({ now }) => now.state === 'present' || now.state === 'unverifiable').map(({ found, now }) => describe(found, now, at));
  const stale = all.length - objects.length;
  if (json) {
    process.stdout.write(`${JSON.stringify({ objects, stale }, null, 2)}\n`);
    return 0;
  }
  if (objects.length === 0) process.stdout.write(`No objects made by ipcx exist on this machine${selection.allUsers ? '' : ' (for this user)'}.\n`);
  else {
    const rows = [['KIND', 'KEY/NAME/PATH', 'ID', 'PID', 'CREATOR', 'MODE', 'SIZE', 'AGE', ...(selection.allUsers ? ['UID'] : [])]];
    for (const item of objects) {
      rows.push([
        item.kind,
        item.name,
        item.id === null ? '-' : String(item.id),
        String(item.pid),
        item.creator,
        item.mode === null ? '?' : item.mode.toString(8).padStart(4, '0'),
        sizeText(item),
        age(item.ageSeconds),
        ...(selection.allUsers ? [String(item.uid)] : []),
      ]);
    }
    process.stdout.write(`${table(rows)}\n`);
  }
  if (stale > 0) process.stdout.write(`${stale} stale ledger ${stale === 1 ? 'entry' : 'entries'} (object removed or re-made by someone else); 'ipcx clean' drops them.\n`);
  return 0;
}

/** One action of `ipcx clean`, as `--json` prints it. */
interface Action {
  readonly action: 'removed' | 'would-remove' | 'kept-alive' | 'dropped-stale' | 'would-drop-stale' | 'failed' | 'skipped-unverifiable';
  readonly kind: LedgerKind;
  readonly name: string;
  readonly id: number | null;
  readonly pid: number;
  /** For 'failed': the errno name; for stale entries: 'gone' or 'replaced'. */
  readonly reason?: string;
}

function clean(json: boolean, dryRun: boolean, selection: Selection): number {
  const actions: Action[] = [];
  for (const { found, now } of survey(selection)) {
    const { entry } = found;
    const base = { kind: entry.kind, name: entry.name, id: entry.id ?? null, pid: entry.pid };
    if (now.state === 'gone' || now.state === 'replaced') {
      // The object was removed, or the key/name/path now belongs to another object: never touch
      // that object; the entry alone is stale.
      if (!dryRun) dropEntry(found);
      actions.push({ ...base, action: dryRun ? 'would-drop-stale' : 'dropped-stale', reason: now.state });
      continue;
    }
    if (creatorAlive(entry)) {
      actions.push({ ...base, action: 'kept-alive' });
      continue;
    }
    if (now.state === 'unverifiable') {
      actions.push({ ...base, action: 'skipped-unverifiable' });
      continue;
    }
    if (dryRun) {
      actions.push({ ...base, action: 'would-remove' });
      continue;
    }
    // removeObject checks the identity once more right before the removal.
    const result = removeObject(entry);
    if (result === 0 || result === 'gone' || result === 'replaced') {
      dropEntry(found);
      actions.push(result === 0 ? { ...base, action: 'removed' } : { ...base, action: 'dropped-stale', reason: result });
    } else if (result === 'unverifiable') {
      actions.push({ ...base, action: 'skipped-unverifiable' });
    } else {
      actions.push({ ...base, action: 'failed', reason: errnoName(-result) });
    }
  }
  if (json) process.stdout.write(`${JSON.stringify({ dryRun, actions }, null, 2)}\n`);
  else {
    const label: Record<Action['action'], string> = {
      removed: 'removed',
      'would-remove': 'would remove',
      'kept-alive': 'kept (creator alive)',
      'dropped-stale': 'dropped stale entry',
      'would-drop-stale': 'would drop stale entry',
      failed: 'FAILED to remove',
      'skipped-unverifiable': 'skipped (cannot verify)',
    };
    for (const action of actions) {
      const what = `${action.kind} ${action.name}${action.id === null ? '' : ` id ${action.id}`} (creator ${action.pid})`;
      process.stdout.write(`${label[action.action]}: ${what}${action.reason ? ` [${action.reason}]` : ''}\n`);
    }
    if (actions.length === 0) process.stdout.write('Nothing to clean.\n');
  }
  return actions.some((action) => action.action === 'failed') ? 1 : 0;
}

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        pid: { type: 'string', multiple: true },
        'all-users': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`ipcx: ${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1 || (command !== 'ls' && command !== 'clean')) {
    process.stderr.write(`ipcx: ${command === undefined ? 'missing command' : positionals.length > 1 ? `unexpected argument '${positionals[1]}'` : `unknown command '${command}'`}\n\n${HELP}\n`);
    return 2;
  }
  if (command === 'ls' && values['dry-run']) {
    process.stderr.write("ipcx: --dry-run applies to 'clean' only\n");
    return 2;
  }
  let pids: Set<number> | null = null;
  if (values.pid !== undefined) {
    pids = new Set(values.pid.map(Number));
    const bad = values.pid.find((text) => !/^[1-9]\d*$/.test(text));
    if (bad !== undefined) {
      process.stderr.write(`ipcx: --pid needs a process id, received '${bad}'\n`);
      return 2;
    }
  }
  const allUsers = values['all-users'] === true;
  if (allUsers && process.geteuid?.() !== 0) {
    // Other users' ledgers are closed to us (0700), and so are most of their objects.
    process.stderr.write('ipcx: --all-users needs root\n');
    return 2;
  }
  const selection = { pids, allUsers };
  return command === 'ls' ? list(values.json === true, selection) : clean(values.json === true, values['dry-run'] === true, selection);
}

process.exitCode = main(process.argv.slice(2));

