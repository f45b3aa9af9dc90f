/**
 * `registerHardening`: the fuzzer as a vitest test. The fuzzing runs in a child process, so that a
 * crash (abort, SIGSEGV, SIGBUS, an uncaught exception, running out of memory) fails the test
 * instead of killing the runner; the parent reads the child's journal, reports, replays a crash's
 * call alone, and removes whatever the child left in the kernel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BackendSpec, ChildConfig, SweepList } from './protocol.js';
import type { Finding, JournalRecord, Summary, Timing } from './runner.js';

/** The seed unless `IPCX_FC_SEED` or `seed` says otherwise: fixed, so CI runs are reproducible. */
export const DEFAULT_FUZZ_SEED = 20_261_206;
/** Scenarios per run unless `IPCX_FUZZ_RUNS` or `runs` says otherwise. */
export const DEFAULT_FUZZ_RUNS = 3000;
/** Default timing of calls (see {@link Timing}). */
export const DEFAULT_TIMING: Timing = { abortMs: 10, rescueMs: 40, hangMs: 5000 };

/** Options of {@link registerHardening}. */
export interface HardeningOptions {
  /** Shown in the test's name and the summary line, e.g. `'native'`. */
  readonly name: string;
  /** Where the child finds the backend (it makes its own: the fuzzing happens there). */
  readonly backend: BackendSpec;
  /** Scenarios (`IPCX_FUZZ_RUNS` overrides it); default {@link DEFAULT_FUZZ_RUNS}. */
  readonly runs?: number;
  /** fast-check seed (`IPCX_FC_SEED` overrides it); default {@link DEFAULT_FUZZ_SEED}. */
  readonly seed?: number;
  /** Known-issue tags to leave out, added to `IPCX_FUZZ_EXCLUDE` (comma-separated). */
  readonly exclude?: readonly string[];
  /** Most actions per scenario (default 8). */
  readonly maxActions?: number;
  /** Call timing (default {@link DEFAULT_TIMING}; `IPCX_FUZZ_HANG_MS` sets `hangMs`). */
  readonly timing?: Partial<Timing>;
  /** Test timeout in milliseconds (default 240 000). */
  readonly timeout?: number;
  /** Only these kinds (titles, e.g. `'messageQueue'`); default all, or `IPCX_FUZZ_KINDS`. */
  readonly kinds?: readonly string[];
  /** `false`: ignore the `IPCX_*` variables (a self-test that must run as written). Default true. */
  readonly environment?: boolean;
}

/** What one child run gave. */
interface ChildRun {
  readonly records: JournalRecord[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly pid: number;
  readonly stderr: string;
  /** Killed by the parent's watchdog: the journal stopped growing (an event loop blocked). */
  readonly stalled: boolean;
}

/** The fuzzing child's script (a function, not a constant: importing the kit must not touch Node's url module, so it also loads in a browser page). */
const childScript = (): string => path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');
const holdEntry = new URL('../children/hold.js', import.meta.url).href;

function fromEnvironment(name: string, environment: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = environment[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer, received ${JSON.stringify(text)}`);
  return value;
}

/** Runs the child with `config` until it exits, or until its journal stops growing for `stallMs`. */
function runChild(config: ChildConfig, stallMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript()], {
      env: { ...process.env, IPCX_HARDENING: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const keep = (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-6000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let lastSize = -1;
    let lastChange = Date.now();
    let stalled = false;
    const watchdog = setInterval(() => {
      const size = existsSync(config.journal) ? statSync(config.journal).size : 0;
      if (size !== lastSize) {
        lastSize = size;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > (size === 0 ? STARTUP_MS : stallMs)) {
        stalled = true;
        child.kill('SIGKILL');
      }
    }, 500);
    child.once('error', (error) => {
      clearInterval(watchdog);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearInterval(watchdog);
      const text = existsSync(config.journal) ? readFileSync(config.journal, 'utf8') : '';
      const records: JournalRecord[] = [];
      for (const line of text.split('\n')) {
        if (line === '') continue;
        try {
          records.push(JSON.parse(line) as JournalRecord);
        } catch {
          // the last line of a child that died while writing it
        }
      }
      resolve({ records, code, signal, pid: child.pid ?? -1, stderr, stalled });
    });
  });
}

/** The last record of type `t`. */
function last<T extends JournalRecord['t']>(records: readonly JournalRecord[], t: T): Extract<JournalRecord, { t: T }> | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i]!.t === t) return records[i] as Extract<JournalRecord, { t: T }>;
  return undefined;
}

/** System V objects in the kernel now, from /proc/sysvipc (what `ipcs` reads). */
function sysvObjects(): Array<{ type: 'msg' | 'sem' | 'shm'; key: number; id: number; cpid: number }> {
  const found: Array<{ type: 'msg' | 'sem' | 'shm'; key: number; id: number; cpid: number }> = [];
  for (const type of ['msg', 'sem', 'shm'] as const) {
    let text = '';
    try {
      text = readFileSync(`/proc/sysvipc/${type}`, 'utf8');
    } catch {
      continue;
    }
    const [header = '', ...lines] = text.split('\n');
    const columns = header.trim().split(/\s+/);
    const cpidColumn = columns.indexOf('cpid');
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 2) continue;
      found.push({ type, key: Number(fields[0]) >>> 0, id: Number(fields[1]), cpid: cpidColumn >= 0 ? Number(fields[cpidColumn]) : 0 });
    }
  }
  return found;
}

/** What a run left in the host's kernel: journaled ids, the run's keys, segments its processes created, its POSIX names. */
function leftovers(made: SweepList, pids: readonly number[], prefix: string): string[] {
  const found: string[] = [];
  for (const object of sysvObjects()) {
    const journaled = (made[object.type] as readonly number[]).includes(object.id);
    if (journaled || made.keys.includes(object.key) || (object.type === 'shm' && pids.includes(object.cpid))) {
      found.push(`System V ${object.type} id ${object.id} key 0x${object.key.toString(16)}`);
    }
  }
  const shm = existsSync('/dev/shm') ? readdirSync('/dev/shm') : [];
  for (const entry of shm) if (entry.includes(prefix)) found.push(`/dev/shm/${entry}`);
  return found;
}

/** Counts and describes what a run (and its crash, if any) found. */
interface Verdict {
  readonly calls: number;
  readonly crashes: number;
  readonly hangs: number;
  readonly wrongKinds: number;
  readonly accepted: number;
  readonly earlyTimeouts: number;
  readonly report: string[];
}

function findingText(finding: Finding): string {
  return `${finding.kind}: ${finding.call}\n    ${finding.detail}\n    in run ${finding.run}: ${finding.scenario.replace(/\n/g, '\n    ')}`;
}

/** What {@link runHardening} found. */
export interface HardeningResult {
  /** The summary line, e.g. `fuzz native: 21937 calls, 0 crashes, ...`. */
  readonly line: string;
  readonly calls: number;
  readonly crashes: number;
  readonly hangs: number;
  readonly wrongKinds: number;
  readonly accepted: number;
  readonly earlyTimeouts: number;
  /** The findings, the shrunk scenario or the crash, and how to replay them. */
  readonly report: readonly string[];
  /** Kernel objects the run made that are still there after the parent's sweep (should be none). */
  readonly leaks: readonly string[];
}

/**
 * Runs the fuzzer once, in a child process, and returns what it found (without asserting). On a
 * crash or a blocked event loop it replays the call the child was making alone; whatever
 * happened, it removes what the child left in the host's kernel. Reads the `IPCX_*` variables.
 */
export async function runHardening(options: HardeningOptions): Promise<HardeningResult> {
  // The environment wins, so that a failure is replayed (or a longer run made) without editing code.
  const env = options.environment === false ? {} : process.env;
  const runs = fromEnvironment('IPCX_FUZZ_RUNS', env) ?? options.runs ?? DEFAULT_FUZZ_RUNS;
  const seed = fromEnvironment('IPCX_FC_SEED', env) ?? options.seed ?? DEFAULT_FUZZ_SEED;
  const replayPath = env.IPCX_FC_PATH || undefined;
  const exclude = [...(options.exclude ?? []), ...(env.IPCX_FUZZ_EXCLUDE ?? '').split(',').filter((tag) => tag !== '')];
  const hangMs = fromEnvironment('IPCX_FUZZ_HANG_MS', env);
  const timing: Timing = { ...DEFAULT_TIMING, ...options.timing, ...(hangMs !== undefined ? { hangMs } : {}) };
  const keepGoing = env.IPCX_FUZZ_KEEP_GOING === '1';
  const kinds = options.kinds ?? (env.IPCX_FUZZ_KINDS ? env.IPCX_FUZZ_KINDS.split(',') : undefined);

  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'ipcx-fuzz-'));
  const prefix = `ipcxfz${process.pid}x${Date.now() % 100000}`;
  // Keys in the upper half (negative as key_t), so both spellings of a key are the run's own.
  const base = (0x90000000 + ((process.pid & 0xffff) << 8) + (Date.now() & 0xf) * 16) >>> 0;
  const keys = [0, 1, 2, 3].map((i) => base + i);
  const config = (extra: Partial<ChildConfig>): ChildConfig => ({
    mode: 'fuzz',
    backend: options.backend,
    journal: path.join(tempDir, `journal-${Math.random().toString(36).slice(2)}.jsonl`),
    tempDir,
    prefix,
    keys,
    childEntry: holdEntry,
    seed,
    runs,
    ...(replayPath !== undefined ? { path: replayPath } : {}),
    exclude,
    ...(kinds !== undefined ? { kinds } : {}),
    keepGoing,
    maxActions: options.maxActions ?? 8,
    timing,
    ...extra,
  });
  const stallMs = timing.hangMs * STALL_FACTOR;
  const started = Date.now();
  const childRuns: ChildRun[] = [];
  try {
    const main = await runChild(config({}), stallMs);
    childRuns.push(main);
    const verdict = judge(main, seed, exclude, kinds);
    // A crash: does the call the child was making crash alone (on a fresh object, after the
    // closes that came before it)? That is the reproducer.
    const scenario = last(main.records, 'scenario');
    const call = last(main.records, 'call');
    if ((verdict.crashes > 0 || main.stalled) && scenario !== undefined && call !== undefined) {
      const alone = await runChild(config({ path: String(scenario.run), onlyAction: call.action, keepGoing: true }), stallMs);
      childRuns.push(alone);
      const crashedAgain = last(alone.records, 'summary') === undefined;
      verdict.report.push(
        crashedAgain
          ? `  reproducer: that call alone ${alone.stalled ? 'blocks' : 'crashes'} too (${describeEnd(alone)}): replay with IPCX_FC_SEED=${seed} IPCX_FC_PATH=${scenario.run}`
          : `  that call alone did not crash: the scenario's earlier calls matter (replay with IPCX_FC_SEED=${seed} IPCX_FC_PATH=${scenario.run})`,
      );
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const line =
      `fuzz ${options.name}: ${verdict.calls} calls, ${verdict.crashes} crashes, ${verdict.hangs} hangs, ` +
      `${verdict.wrongKinds} wrong error kinds, ${verdict.accepted} accepted invalid arguments, ${verdict.earlyTimeouts} early timeouts, seed ${seed} (${seconds} s` +
      `${exclude.length > 0 ? `, excluded: ${exclude.join(',')}` : ''})`;
    // Whatever happened, nothing the run made may stay in the kernel.
    const leaks = await sweepLeftovers(childRuns, config, prefix, keys);
    return { line, ...verdict, leaks };
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * Registers, inside `describe('<name> hardening')`, the fuzzer test: a seeded fast-check run over
 * every member of every factory and object of the backend, in a child process, which must end
 * with no crash, no hang, no wrong kind of error, no accepted invalid argument and no early
 * timeout, and leave nothing in the kernel. It prints a summary line with the calls made and the
 * seed; a failure prints the shrunk scenario (or, for a crash, the call the child was making and
 * whether that call crashes alone) and how to replay it (`IPCX_FC_SEED`, `IPCX_FC_PATH`).
 */
export function registerHardening(options: HardeningOptions): void {
  describe(`${options.name} hardening`, () => {
    it('fuzzer: every member of every factory and object, hostile arguments, use after close, close while pending', { timeout: options.timeout ?? 240_000 }, async () => {
      const result = await runHardening(options);
      console.log([result.line, ...result.report].join('\n'));
      expect(result.leaks, 'kernel objects the fuzzer made and could not remove').toEqual([]);
      const { crashes, hangs, wrongKinds, accepted, earlyTimeouts } = result;
      expect({ crashes, hangs, wrongKinds, accepted, earlyTimeouts }, result.report.join('\n')).toEqual({ crashes: 0, hangs: 0, wrongKinds: 0, accepted: 0, earlyTimeouts: 0 });
      expect(result.calls, 'the fuzzer made no calls').toBeGreaterThan(0);
    });
  });
}

/** How long a child may take to load its backend before it writes its first journal line. */
const STARTUP_MS = 60_000;

/** The journal not growing for this many hang times means the child's event loop stopped. */
const STALL_FACTOR = 4;

function describeEnd(run: ChildRun): string {
  if (run.stalled) return 'its event loop stopped: the parent killed it';
  if (run.signal !== null) return `killed by ${run.signal}`;
  return `exit code ${run.code}`;
}

/** Reads the outcome of the main run. */
function judge(run: ChildRun, seed: number, exclude: readonly string[], kinds: readonly string[] | undefined): Verdict {
  const summary: Summary | undefined = last(run.records, 'summary')?.summary;
  const findings = run.records.filter((record): record is Extract<JournalRecord, { t: 'finding' }> => record.t === 'finding').map((record) => record.finding);
  const count = (kind: Finding['kind']) => findings.filter((finding) => finding.kind === kind).length;
  const report: string[] = [];
  const replay = `IPCX_FC_SEED=${seed}${exclude.length > 0 ? ` IPCX_FUZZ_EXCLUDE=${exclude.join(',')}` : ''}${kinds !== undefined ? ` IPCX_FUZZ_KINDS=${kinds.join(',')}` : ''}`;
  if (summary === undefined && run.stalled) {
    // Not a crash: the event loop stopped (a call blocked it), so the parent killed the child.
    const call = last(run.records, 'call');
    const scenario = last(run.records, 'scenario');
    report.push(`hang: the fuzzing child's event loop stopped (no progress for ${Math.round(STALL_FACTOR)}× the hang time): the parent killed it`);
    if (call !== undefined) report.push(`  while calling: ${call.text}`);
    if (call !== undefined && call.tags.length > 0) report.push(`  (a known issue: ${call.tags.join(', ')}; IPCX_FUZZ_EXCLUDE=${call.tags.join(',')} leaves it out)`);
    if (scenario !== undefined) report.push(`  in run ${scenario.run}: ${scenario.text.replace(/\n/g, '\n  ')}`, `  replay: ${replay} IPCX_FC_PATH=${scenario.run}`);
    for (const finding of findings.slice(0, 10)) report.push(findingText(finding));
    const calls = run.records.filter((record) => record.t === 'call').length;
    return { calls, crashes: 0, hangs: count('hang') + 1, wrongKinds: count('wrong-kind'), accepted: count('accepted'), earlyTimeouts: count('early-timeout'), report };
  }
  if (summary === undefined) {
    const scenario = last(run.records, 'scenario');
    const call = last(run.records, 'call');
    const uncaught = last(run.records, 'uncaught');
    const how = run.code === 0 ? 'ended without a verdict (exit code 0: its event loop ran dry while a call was pending)' : `died (${describeEnd(run)})`;
    report.push(`crash: the fuzzing child ${how}${uncaught !== undefined ? `\n  ${uncaught.error.split('\n').slice(0, 6).join('\n  ')}` : ''}`);
    if (call !== undefined) report.push(`  while calling: ${call.text}`);
    if (call !== undefined && call.tags.length > 0) report.push(`  (a known issue: ${call.tags.join(', ')}; IPCX_FUZZ_EXCLUDE=${call.tags.join(',')} leaves it out)`);
    if (scenario !== undefined) report.push(`  in run ${scenario.run}: ${scenario.text.replace(/\n/g, '\n  ')}`, `  replay: ${replay} IPCX_FC_PATH=${scenario.run}`);
    const tail = run.stderr.trim().split('\n').slice(-8).join('\n    ');
    if (tail !== '') report.push(`  its last output:\n    ${tail}`);
    for (const finding of findings.slice(0, 10)) report.push(findingText(finding));
    const calls = run.records.filter((record) => record.t === 'call').length;
    return { calls, crashes: 1, hangs: count('hang'), wrongKinds: count('wrong-kind'), accepted: count('accepted'), earlyTimeouts: count('early-timeout'), report };
  }
  for (const finding of summary.findings.slice(0, 20)) report.push(findingText(finding));
  if (summary.failure !== undefined) {
    report.push(`shrunk (${summary.failure.shrinks} times): ${summary.failure.text.replace(/\n/g, '\n  ')}`, `replay: ${replay} IPCX_FC_PATH=${summary.failure.path}`);
  }
  const slowest = Object.entries(summary.timeByKind).sort(([, a], [, b]) => b - a).slice(0, 6);
  if (process.env.IPCX_FUZZ_TIMES === '1') {
    report.push(`time by kind: ${slowest.map(([title, ms]) => `${title} ${(ms / 1000).toFixed(1)} s`).join(', ')}; kernel objects at the end: ${summary.kernelObjectsAfter?.length}: ${summary.kernelObjectsAfter?.slice(0, 12).join('; ')}`);
  }
  if (summary.rescued > 0) report.push(`(${summary.rescued} calls that waited with no signal were ended by closing their object)`);
  if (summary.openAfter.length > 0) report.push(`objects still open in the child after every scenario: ${summary.openAfter.slice(0, 10).join('; ')}`);
  return { calls: summary.calls, crashes: 0, hangs: summary.hangs, wrongKinds: summary.wrongKinds, accepted: summary.accepted, earlyTimeouts: summary.earlyTimeouts, report };
}

/**
 * Removes what the runs left in the host's kernel (after a crash there can be some): the ids
 * they journaled, the run's keys, System V segments their processes created, POSIX names with
 * the run's prefix. Removal goes through the backend, in a child in `sweep` mode; message queues
 * known only by id go through `ipcrm`. Returns what is still there afterwards.
 */
async function sweepLeftovers(runs: readonly ChildRun[], config: (extra: Partial<ChildConfig>) => ChildConfig, prefix: string, keys: readonly number[]): Promise<string[]> {
  const hostKernel = runs.some((run) => run.records.some((record) => record.t === 'backend' && record.features.includes('host-interop')));
  if (!hostKernel) return [];
  const made = { msg: [] as number[], sem: [] as number[], shm: [] as number[] };
  for (const run of runs) {
    for (const record of run.records) if (record.t === 'made' && 'sysv' in record) made[record.sysv].push(record.id);
  }
  const names = new Set<string>();
  for (const run of runs) for (const record of run.records) if (record.t === 'made' && 'posix' in record) names.add(record.name);
  for (const i of [0, 1, 2, 3]) names.add(`/${prefix}-${i}`);
  for (const entry of existsSync('/dev/shm') ? readdirSync('/dev/shm') : []) {
    if (entry.includes(prefix)) names.add(`/${entry.replace(/^sem\./, '')}`);
  }
  const list: SweepList = { ...made, keys, names: [...names] };
  const pids = runs.map((run) => run.pid);
  const before = leftovers(list, pids, prefix);
  if (before.length === 0) return [];
  const shmByCreator = sysvObjects().filter((object) => object.type === 'shm' && pids.includes(object.cpid)).map((object) => object.id);
  await runChild(config({ mode: 'sweep', sweep: { ...list, shm: [...list.shm, ...shmByCreator] } }), 30_000);
  for (const object of sysvObjects()) {
    if (object.type === 'msg' && (list.msg.includes(object.id) || keys.includes(object.key))) spawnSync('ipcrm', ['-q', String(object.id)]);
  }
  const after = leftovers(list, pids, prefix);
  // Private System V queues whose handle a scenario closed before removing them cannot be reopened
  // through ipcx without an open by id; after a crash, whatever the child had made is here too.
  console.log(`[hardening] the parent removed ${before.length - after.length} kernel objects the fuzzing child left: ${before.slice(0, 20).join(', ')}${before.length > 20 ? ', …' : ''}`);
  return after;
}
