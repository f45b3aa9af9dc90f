/**
 * Orphans: what a SIGKILLed program made through ipcx is found by `ipcx ls` and removed by
 * `ipcx clean`, run as the real command (node_modules/.bin/ipcx) after the program is gone, while
 * objects that ipcx did not make (ipcmk's, same kinds and mode) and objects whose creator is alive
 * are left alone, and an object re-made by someone else under a recorded name is never touched.
 *
 * The creators are plain Node processes started with child_process (not ipcx's processes.spawn:
 * nothing of ipcx may run on their behalf once they are killed). Each test gives the children and
 * the command a ledger directory of its own (IPCX_LEDGER_DIR), so that `ipcx clean` here can never
 * remove objects of other test runs on the machine; one test uses the default directory and
 * removes only what its own child made.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createNativeBackend } from '@ipcx/adapter-native';

const here = path.dirname(fileURLToPath(import.meta.url));
const distIndex = pathToFileURL(path.resolve(here, '../dist/index.js')).href;
/** The command as a user gets it: the bin link the workspace install made. */
const ipcxBin = path.resolve(here, '../../../node_modules/.bin/ipcx');
const run = promisify(execFile);
const backend = createNativeBackend();

interface Listed {
  kind: string;
  name: string;
  id: number | null;
  pid: number;
  creator: 'alive' | 'dead';
  mode: number | null;
  size: number | null;
  state: string;
  ageSeconds: number;
}

interface CleanAction {
  action: string;
  kind: string;
  name: string;
  id: number | null;
  pid: number;
  reason?: string;
}

/** What a creator child made, as it reports it. */
interface Made {
  pid: number;
  msq: number;
  sem: number;
  semKey: number;
  shm: number;
  pmq: string;
  psem: string;
  pshm: string;
  fifo: string;
  socket: string;
  file: string;
}

const ALL_KINDS = ['sysv-message-queue', 'sysv-semaphore-set', 'sysv-segment', 'posix-message-queue', 'posix-semaphore', 'posix-segment', 'fifo', 'unix-socket', 'file-mapping'];

/** The creator: makes one object of every kind through ipcx, prints what it made, then waits to be killed. */
const CREATOR = `
import { createNativeBackend } from ${JSON.stringify(distIndex)};
const [dir, tag, semKey] = process.argv.slice(2);
const ipc = createNativeBackend();
const msq = await ipc.messageQueues.open(0);
await msq.send(1, 'left behind');
const sem = await ipc.semaphores.open(Number(semKey), { size: 2, create: true, exclusive: true });
const shm = await ipc.sharedMemory.openSysv('private', { size: 4096 });
const pmq = '/ipcx-orphan-' + tag + '-q';
await ipc.posixMessageQueues.open(pmq, { create: true, exclusive: true, access: 'readwrite' });
const psem = '/ipcx-orphan-' + tag + '-s';
await ipc.posixSemaphores.open(psem, { create: true, exclusive: true, initial: 1 });
const pshm = '/ipcx-orphan-' + tag + '-m';
await ipc.sharedMemory.openPosix(pshm, { create: true, exclusive: true, size: 8192 });
const fifo = dir + '/fifo';
await ipc.fifos.create(fifo);
const socket = dir + '/socket';
await ipc.unixSockets.listen(socket);
const file = dir + '/mapped';
await ipc.sharedMemory.mapFile(file, { create: true, size: 1000 });
process.stdout.write(JSON.stringify({ pid: process.pid, msq: msq.id, sem: sem.id, semKey: Number(semKey), shm: shm.id, pmq, psem, pshm, fifo, socket, file }) + '\\n');
setInterval(() => {}, 60_000);
`;

let serial = 0;

/** A fresh folder (0700) with a ledger directory inside; both removed after the test. */
function workspace(): { dir: string; ledger: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync('/tmp/ipcx-orphans-');
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const ledger = path.join(dir, 'ledger');
  writeFileSync(path.join(dir, 'creator.mjs'), CREATOR);
  return { dir, ledger, env: { ...process.env, IPCX_LEDGER_DIR: ledger } };
}

/** Starts a creator in `dir` (a folder of its own for its paths), returns what it made; killed after the test. */
async function startCreator(script: string, dir: string, env: NodeJS.ProcessEnv, user?: { uid: number; gid: number }): Promise<{ child: ChildProcess; made: Made }> {
  const tag = `${process.pid}-${++serial}`;
  const semKey = 0x0a000000 | ((process.pid & 0xfff) << 12) | (serial & 0xfff);
  const child = spawn(process.execPath, [script, dir, tag, String(semKey)], { env, stdio: ['ignore', 'pipe', 'inherit'], ...user });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const newline = text.indexOf('\n');
      if (newline >= 0) resolve(text.slice(0, newline));
    });
    child.once('exit', (code, signal) => reject(new Error(`creator exited (${code ?? signal}) before reporting`)));
  });
  const made = JSON.parse(line) as Made;
  // Whatever happens to the test, nothing the creator made stays behind (ipcrm/unlink of what is left).
  onTestFinished(() => removeLeftovers(made));
  return { child, made };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Ids in /proc/sysvipc/<file> (what ipcs reads). */
function sysvIds(file: 'msg' | 'sem' | 'shm'): number[] {
  return readFileSync(`/proc/sysvipc/${file}`, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[1])
    .filter((id): id is string => id !== undefined && id !== '')
    .map(Number);
}

/** Whether the POSIX queue `name` exists (there is no /dev/mqueue here: ask mq_open). */
async function posixQueueExists(name: string): Promise<boolean> {
  try {
    await (await backend.posixMessageQueues.open(name, { access: 'read' })).close();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

function pathExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Every object of `made` that still exists, by kind. */
async function stillThere(made: Made): Promise<string[]> {
  const there: string[] = [];
  if (sysvIds('msg').includes(made.msq)) there.push('sysv-message-queue');
  if (sysvIds('sem').includes(made.sem)) there.push('sysv-semaphore-set');
  if (sysvIds('shm').includes(made.shm)) there.push('sysv-segment');
  if (await posixQueueExists(made.pmq)) there.push('posix-message-queue');
  if (existsSync(`/dev/shm/sem.${made.psem.slice(1)}`)) there.push('posix-semaphore');
  if (existsSync(`/dev/shm/${made.pshm.slice(1)}`)) there.push('posix-segment');
  if (pathExists(made.fifo)) there.push('fifo');
  if (pathExists(made.socket)) there.push('unix-socket');
  if (pathExists(made.file)) there.push('file-mapping');
  return there.sort();
}

async function removeLeftovers(made: Made): Promise<void> {
  const quietly = (action: () => unknown) => {
    try {
      action();
    } catch {
      // Already gone.
    }
  };
  for (const [flag, id, file] of [['-q', made.msq, 'msg'], ['-s', made.sem, 'sem'], ['-m', made.shm, 'shm']] as const) {
    if (sysvIds(file).includes(id)) quietly(() => execFileSync('ipcrm', [flag, String(id)]));
  }
  await backend.posixMessageQueues.unlink(made.pmq).catch(() => {});
  await backend.posixSemaphores.unlink(made.psem).catch(() => {});
  await backend.sharedMemory.unlinkPosix(made.pshm).catch(() => {});
  for (const file of [made.fifo, made.socket, made.file]) quietly(() => rmSync(file, { force: true }));
}

/** Objects made by ipcmk (not by ipcx): a queue and a segment of mode 0600 like ipcx's, and a set. */
function ipcmkObjects(): { msq: number; sem: number; shm: number } {
  const made = {
    msq: Number(/Message queue id: (\d+)/.exec(execFileSync('ipcmk', ['-Q', '-p', '0600'], { encoding: 'utf8' }))?.[1]),
    sem: Number(/Semaphore id: (\d+)/.exec(execFileSync('ipcmk', ['-S', '1', '-p', '0600'], { encoding: 'utf8' }))?.[1]),
    shm: Number(/Shared memory id: (\d+)/.exec(execFileSync('ipcmk', ['-M', '4096', '-p', '0600'], { encoding: 'utf8' }))?.[1]),
  };
  onTestFinished(() => {
    for (const [flag, id, file] of [['-q', made.msq, 'msg'], ['-s', made.sem, 'sem'], ['-m', made.shm, 'shm']] as const) {
      if (Number.isInteger(id) && sysvIds(file).includes(id)) execFileSync('ipcrm', [flag, String(id)]);
    }
  });
  expect(Object.values(made).every(Number.isInteger)).toBe(true);
  return made;
}

async function ipcx(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const { stdout } = await run(ipcxBin, args, { env, encoding: 'utf8' });
  return stdout;
}

async function listed(env: NodeJS.ProcessEnv): Promise<{ objects: Listed[]; stale: number }> {
  return JSON.parse(await ipcx(env, 'ls', '--json')) as { objects: Listed[]; stale: number };
}

async function cleaned(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CleanAction[]> {
  return (JSON.parse(await ipcx(env, 'clean', '--json', ...args)) as { actions: CleanAction[] }).actions;
}

describe('orphans: ipcx ls and ipcx clean', { timeout: 120_000 }, () => {
  it('lists every kind a SIGKILLed program made as orphaned, and clean removes exactly those: not ipcmk objects, not a live creator\'s', async () => {
    const { dir, env } = workspace();
    const script = path.join(dir, 'creator.mjs');
    mkdirSync(path.join(dir, 'dead'));
    mkdirSync(path.join(dir, 'alive'));
    const dead = await startCreator(script, path.join(dir, 'dead'), env);
    const alive = await startCreator(script, path.join(dir, 'alive'), env);
    const foreign = ipcmkObjects();
    await kill(dead.child);
    expect(await stillThere(dead.made)).toEqual([...ALL_KINDS].sort());

    const { objects } = await listed(env);
    const orphans = objects.filter((item) => item.pid === dead.made.pid);
    expect(orphans.map((item) => item.kind).sort()).toEqual([...ALL_KINDS].sort());
    for (const item of orphans) expect(item).toMatchObject({ creator: 'dead', state: 'present' });
    expect(orphans.find((item) => item.kind === 'sysv-message-queue')).toMatchObject({ id: dead.made.msq, name: '0x00000000', mode: 0o600, size: 11 });
    expect(orphans.find((item) => item.kind === 'sysv-semaphore-set')).toMatchObject({ id: dead.made.sem, name: `0x${dead.made.semKey.toString(16).padStart(8, '0')}`, size: 2 });
    expect(orphans.find((item) => item.kind === 'sysv-segment')).toMatchObject({ id: dead.made.shm, size: 4096 });
    expect(orphans.find((item) => item.kind === 'posix-segment')).toMatchObject({ name: dead.made.pshm, size: 8192 });
    expect(orphans.find((item) => item.kind === 'fifo')).toMatchObject({ name: dead.made.fifo, id: null });
    expect(orphans.find((item) => item.kind === 'file-mapping')).toMatchObject({ name: dead.made.file, size: 1000 });
    const living = objects.filter((item) => item.pid === alive.made.pid);
    expect(living).toHaveLength(ALL_KINDS.length);
    for (const item of living) expect(item.creator).toBe('alive');
    // ipcmk's objects exist, with the same kinds and mode, and are not ipcx's: not listed.
    const listedIds = new Set(objects.map((item) => item.id));
    for (const id of Object.values(foreign)) expect(listedIds.has(id)).toBe(false);
    expect(objects).toHaveLength(2 * ALL_KINDS.length);

    // The table form names the same objects.
    const text = await ipcx(env, 'ls');
    expect(text).toMatch(/^KIND\s+KEY\/NAME\/PATH\s+ID\s+PID\s+CREATOR\s+MODE\s+SIZE\s+AGE/);
    expect(text).toContain(`${dead.made.msq}`);
    expect(text.split('\n').filter((line) => /\bdead\b/.test(line))).toHaveLength(ALL_KINDS.length);

    // --dry-run says what it would remove and removes nothing.
    const planned = await cleaned(env, '--dry-run');
    expect(planned.filter((action) => action.action === 'would-remove').map((action) => action.pid)).toEqual(Array(ALL_KINDS.length).fill(dead.made.pid));
    expect(await stillThere(dead.made)).toEqual([...ALL_KINDS].sort());
    expect((await listed(env)).objects).toHaveLength(2 * ALL_KINDS.length);

    const actions = await cleaned(env);
    const removed = actions.filter((action) => action.action === 'removed');
    expect(removed.map((action) => action.kind).sort()).toEqual([...ALL_KINDS].sort());
    expect(removed.every((action) => action.pid === dead.made.pid)).toBe(true);
    expect(actions.filter((action) => action.action === 'kept-alive').every((action) => action.pid === alive.made.pid)).toBe(true);
    expect(actions.filter((action) => action.action === 'kept-alive')).toHaveLength(ALL_KINDS.length);
    // Gone from the kernel and the file system (ipcs' source, /dev/shm, the paths, mq_open).
    expect(await stillThere(dead.made)).toEqual([]);
    // The live creator's objects and ipcmk's are all still there.
    expect(await stillThere(alive.made)).toEqual([...ALL_KINDS].sort());
    expect(sysvIds('msg')).toContain(foreign.msq);
    expect(sysvIds('sem')).toContain(foreign.sem);
    expect(sysvIds('shm')).toContain(foreign.shm);
    const after = (await listed(env)).objects;
    expect(after.every((item) => item.pid === alive.made.pid)).toBe(true);

    // Once the second creator is killed too, its objects are orphans and clean removes them.
    await kill(alive.child);
    expect((await listed(env)).objects.every((item) => item.creator === 'dead')).toBe(true);
    expect((await cleaned(env)).filter((action) => action.action === 'removed')).toHaveLength(ALL_KINDS.length);
    expect(await stillThere(alive.made)).toEqual([]);
    expect(await listed(env)).toEqual({ objects: [], stale: 0 });
    expect(sysvIds('msg')).toContain(foreign.msq);
  });

  it('never touches an object re-made by someone else under a recorded name or path; drops the stale entry instead', async () => {
    const { dir, env } = workspace();
    const { child, made } = await startCreator(path.join(dir, 'creator.mjs'), dir, env);
    await kill(child);
    // Someone else removes three of the orphans and makes new objects of the same kind and name.
    rmSync(made.fifo);
    execFileSync('mkfifo', ['-m', '600', made.fifo]);
    rmSync(`/dev/shm/${made.pshm.slice(1)}`);
    writeFileSync(`/dev/shm/${made.pshm.slice(1)}`, 'not ipcx', { mode: 0o600 });
    execFileSync('ipcrm', ['-s', String(made.sem)]);
    const remade = await backend.semaphores.open(made.semKey, { size: 2, create: true, exclusive: true, mode: 0o600 });
    onTestFinished(async () => {
      await remade.remove().catch(() => {});
      await remade.close();
    });
    const { objects, stale } = await listed(env);
    expect(objects.map((item) => item.kind).sort()).toEqual(ALL_KINDS.filter((kind) => !['fifo', 'posix-segment', 'sysv-semaphore-set'].includes(kind)).sort());
    expect(stale).toBe(3);
    const actions = await cleaned(env);
    const dropped = actions.filter((action) => action.action === 'dropped-stale');
    expect(dropped.map((action) => `${action.kind}:${action.reason}`).sort()).toEqual(['fifo:replaced', 'posix-segment:replaced', 'sysv-semaphore-set:gone']);
    expect(actions.filter((action) => action.action === 'removed')).toHaveLength(ALL_KINDS.length - 3);
    // The new objects are untouched.
    expect(lstatSync(made.fifo).isFIFO()).toBe(true);
    expect(readFileSync(`/dev/shm/${made.pshm.slice(1)}`, 'utf8')).toBe('not ipcx');
    expect(sysvIds('sem')).toContain(remade.id);
    expect(await listed(env)).toEqual({ objects: [], stale: 0 });
    rmSync(made.fifo);
    rmSync(`/dev/shm/${made.pshm.slice(1)}`);
  });

  it('uses the default per-user ledger; removing through ipcx from another process drops the entry', async () => {
    const { dir } = workspace();
    const env = { ...process.env };
    delete env.IPCX_LEDGER_DIR;
    // This process uses the default ledger too for this test (npm test gives the run a ledger
    // folder of its own through IPCX_LEDGER_DIR, which the ledger reads at each call).
    const runLedger = process.env.IPCX_LEDGER_DIR;
    delete process.env.IPCX_LEDGER_DIR;
    onTestFinished(() => {
      if (runLedger !== undefined) process.env.IPCX_LEDGER_DIR = runLedger;
    });
    const { child, made } = await startCreator(path.join(dir, 'creator.mjs'), dir, env);
    await kill(child);
    const mine = (await listed(env)).objects.filter((item) => item.pid === made.pid);
    expect(mine.map((item) => item.kind).sort()).toEqual([...ALL_KINDS].sort());
    expect(mine.every((item) => item.creator === 'dead')).toBe(true);
    // The leak check's view: the dead creator's POSIX queue is listed although /dev/mqueue is not
    // mounted and this process never opened it (found through the ledger).
    expect(await backend.diagnostics.kernelObjects()).toContain(`posix message queue ${made.pmq}`);
    // This process removes them through ipcx (the private queue by its id: no handle survived its
    // creator); each removal drops the ledger entry that the dead creator wrote.
    const queue = await backend.messageQueues.openById(made.msq);
    await queue.remove();
    await queue.close();
    const set = await backend.semaphores.openById(made.sem);
    await set.remove();
    await set.close();
    await backend.sharedMemory.removeSysv(made.shm);
    await backend.posixMessageQueues.unlink(made.pmq);
    expect(await backend.diagnostics.kernelObjects()).not.toContain(`posix message queue ${made.pmq}`);
    await backend.posixSemaphores.unlink(made.psem);
    await backend.sharedMemory.unlinkPosix(made.pshm);
    await backend.fifos.remove(made.fifo);
    expect((await listed(env)).objects.filter((item) => item.pid === made.pid).map((item) => item.kind).sort()).toEqual(['file-mapping', 'unix-socket']);
    // A socket file or a mapped file of a dead process has no ipcx call of its own: the command
    // removes them, limited to this creator (the default ledger may hold other programs' objects).
    const actions = JSON.parse(await ipcx(env, 'clean', '--json', '--pid', String(made.pid))) as { actions: CleanAction[] };
    expect(actions.actions.map((action) => `${action.action}:${action.kind}`).sort()).toEqual(['removed:file-mapping', 'removed:unix-socket']);
    expect(await stillThere(made)).toEqual([]);
    expect(await listed({ ...env })).toMatchObject({ objects: expect.not.arrayContaining([expect.objectContaining({ pid: made.pid })]) });
  });

  it('never uses a ledger directory that others can write: the object is still made, a warning says it is not recorded', async () => {
    const { dir } = workspace();
    const open = path.join(dir, 'open-ledger');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const env = { ...process.env, IPCX_LEDGER_DIR: open };
    const script = `import { createNativeBackend } from ${JSON.stringify(distIndex)};
const queue = await createNativeBackend().messageQueues.open(0);
await queue.send(1, 'made anyway');
process.stdout.write(String(queue.id));`;
    const child = await run(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    const id = Number(child.stdout);
    onTestFinished(() => {
      if (sysvIds('msg').includes(id)) execFileSync('ipcrm', ['-q', String(id)]);
    });
    expect(sysvIds('msg')).toContain(id);
    expect(child.stderr).toMatch(/\[IPCX_LEDGER\].*could not record/);
    expect(readdirSync(open)).toEqual([]);
    // An entry planted there (by anyone: the folder is open to all) is not read either.
    const planted = { version: 1, kind: 'sysv-message-queue', name: '0x00000000', id, key: 0, identity: { id, key: 0, cuid: process.getuid!() }, pid: 999999, pidStart: '1', bootId: 'x', uid: 0, created: Date.now() };
    writeFileSync(path.join(open, `sysv-message-queue-${id}.json`), JSON.stringify(planted));
    expect(await listed(env)).toEqual({ objects: [], stale: 0 });
    expect((await cleaned(env)).length).toBe(0);
    expect(sysvIds('msg')).toContain(id);
  });

  it.skipIf(process.getuid?.() !== 0)('as root, --all-users lists and cleans what a SIGKILLed program of another user made', async () => {
    const { dir } = workspace();
    const nobody = 65534;
    // The creator runs as nobody: its folder (and the way to it) must be open to it.
    chmodSync(dir, 0o711);
    const own = path.join(dir, 'nobody');
    mkdirSync(own);
    chownSync(own, nobody, nobody);
    const script = path.join(own, 'creator.mjs');
    writeFileSync(script, CREATOR);
    chmodSync(script, 0o644);
    const env = { ...process.env };
    delete env.IPCX_LEDGER_DIR;
    delete env.XDG_RUNTIME_DIR;
    const { child, made } = await startCreator(script, own, env, { uid: nobody, gid: nobody });
    // nobody's ledger folder is left only if something else of nobody's is recorded in it.
    onTestFinished(() => {
      for (const folder of [`/tmp/ipcx-${nobody}/ledger`, `/tmp/ipcx-${nobody}`]) {
        try {
          rmdirSync(folder);
        } catch {
          return;
        }
      }
    });
    await kill(child);
    // Its entries are in nobody's own ledger, which root's plain `ls` does not read.
    expect(lstatSync(`/tmp/ipcx-${nobody}/ledger`)).toMatchObject({ uid: nobody, mode: expect.any(Number) });
    expect(lstatSync(`/tmp/ipcx-${nobody}/ledger`).mode & 0o777).toBe(0o700);
    expect((await listed(env)).objects.filter((item) => item.pid === made.pid)).toEqual([]);
    const all = JSON.parse(await ipcx(env, 'ls', '--all-users', '--json')) as { objects: Array<Listed & { uid: number }> };
    const theirs = all.objects.filter((item) => item.pid === made.pid);
    expect(theirs.map((item) => item.kind).sort()).toEqual([...ALL_KINDS].sort());
    for (const item of theirs) expect(item).toMatchObject({ uid: nobody, creator: 'dead', state: 'present' });
    const actions = JSON.parse(await ipcx(env, 'clean', '--all-users', '--json', '--pid', String(made.pid))) as { actions: CleanAction[] };
    expect(actions.actions.filter((action) => action.action === 'removed')).toHaveLength(ALL_KINDS.length);
    expect(await stillThere(made)).toEqual([]);
    expect((JSON.parse(await ipcx(env, 'ls', '--all-users', '--json', '--pid', String(made.pid))) as { objects: unknown[] }).objects).toEqual([]);
  });

  it('records in this process too, makes its ledger folder again when a cleaner removed it, and drops entries on removal', async () => {
    const { ledger } = workspace();
    const saved = process.env.IPCX_LEDGER_DIR;
    process.env.IPCX_LEDGER_DIR = ledger;
    onTestFinished(() => {
      if (saved === undefined) delete process.env.IPCX_LEDGER_DIR;
      else process.env.IPCX_LEDGER_DIR = saved;
    });
    const first = await backend.messageQueues.open(0);
    onTestFinished(() => backend.messageQueues.removeById(first.id).catch(() => {}));
    expect(readdirSync(ledger)).toEqual([`sysv-message-queue-${first.id}.json`]);
    expect(lstatSync(ledger).mode & 0o777).toBe(0o700);
    rmSync(ledger, { recursive: true });
    const second = await backend.messageQueues.open(0);
    onTestFinished(() => backend.messageQueues.removeById(second.id).catch(() => {}));
    expect(readdirSync(ledger)).toEqual([`sysv-message-queue-${second.id}.json`]);
    // Opening an existing queue, even with create, records nothing: only its creator does.
    const key = 0x0b000000 | (process.pid & 0xffff);
    const made = await backend.messageQueues.open(key, { create: true, exclusive: true });
    const again = await backend.messageQueues.open(key, { create: true });
    expect(again.id).toBe(made.id);
    expect(readdirSync(ledger).sort()).toEqual([`sysv-message-queue-${made.id}.json`, `sysv-message-queue-${second.id}.json`].sort());
    await again.remove();
    await Promise.all([made.close(), again.close()]);
    await backend.messageQueues.removeById(second.id);
    await first.close();
    await second.close();
    expect(readdirSync(ledger)).toEqual([]);
  });

  it('prints help, and refuses unknown commands and options with exit status 2', async () => {
    const { env } = workspace();
    expect(await ipcx(env, '--help')).toMatch(/^Usage: ipcx <command>/);
    const asUser = process.getuid?.() === 0 ? [] : [['ls', '--all-users']];
    for (const args of [['frobnicate'], ['ls', '--bogus'], [], ['ls', '--dry-run'], ['ls', 'extra'], ['clean', '--pid', 'x'], ...asUser]) {
      await expect(run(ipcxBin, args, { env })).rejects.toMatchObject({ code: 2 });
    }
  });
});
