/**
 * Children as threads over the same kernel memory: `worker_threads` Workers in Node, module Web
 * Workers in a browser. This file is host-neutral; the host (`host-node.ts`, `host-browser.ts`)
 * starts the thread.
 *
 * Each child gets an owner id in the kernel. The ipcx objects in `args` are inherited the kernel's
 * way: each handle is duplicated to the child's owner (`handle_dup`) before the worker starts, and
 * the child revives objects from those handle numbers. When the worker ends, however it ends, the
 * parent reaps its owner (`owner_release`): every handle it still held is closed, so readers waiting
 * on a pipe whose last writer it held read EOF and writers to a pipe whose only reader it held get
 * EPIPE, and its SEM_UNDO adjustments are applied.
 *
 * A child's own children (and theirs) end with it: the host terminates a worker's workers with its
 * thread, so their reaper, which would run in the child's event loop, never runs. The kernel records
 * who created each owner (assembly/owner.ts), and the same two calls cover the whole subtree:
 * `owner_stop` before `kill()` terminates (no descendant is cut off inside a critical section) and
 * `owner_release` on exit (what any of them held is released, the deepest first). A child that ends
 * by itself stops its descendants first (`stopDescendants` in child-main.ts).
 */
import { IpcError, packTransferables, type ChildProcess, type SpawnExecutableOptions, type ExitStatus, type Processes, type SpawnOptions, type TransferRecord } from '@ipcx/core';
import { checkProcessSpawn, checkProcessSpawnExecutable } from '@ipcx/core/backend';
import type { ChildSpec, HostedChild, WorkerHost } from './host.js';
import { kernelError, type Kernel } from './kernel.js';
import { KernelErrno, Layout } from './layout.js';
import { newStorePort } from './shared-memory.js';

export type { ChildSpec } from './host.js';

/** How long `kill()` waits for a worker (and its descendants) to leave the kernel's critical sections before it terminates it anyway. */
export const STOP_WAIT_MS = 1000;

/** A running worker child. */
class WorkerChildProcess implements ChildProcess {
  readonly exited: Promise<ExitStatus>;
  private ended = false;
  private killedBy: NodeJS.Signals | undefined;
  private stopping = false;

  constructor(
    private readonly child: HostedChild,
    reap: () => Promise<void>,
    /**
     * Marks the worker's owner and its descendants as stopping: how many kernel locks they still
     * hold or spin for, -EINTR (call again), or another negative number once reaped.
     */
    private readonly stopOwner: () => number,
  ) {
    this.exited = child.ended.then((code) => {
      this.ended = true;
      // Killed with a named signal: reported as a process killed by that signal would be.
      const status: ExitStatus = this.killedBy === undefined ? { code, signal: null } : { code: null, signal: this.killedBy };
      // Reap before resolving: whoever awaits `exited` sees the child's ends closed.
      return reap()
        .catch(() => {})
        .then(() => status);
    });
  }

  /** The worker's emulated pid: its thread id in Node, its kernel owner id in a browser. Queues record it as the worker's pid. */
  get pid(): number {
    return this.child.pid;
  }

  /**
   * Terminates the worker; false if it had ended. Its ends are released on exit. The thread is
   * terminated once it is outside the kernel's critical sections (see terminateOutsideKernel), so
   * an operation it completed stays completed and one it was in the middle of leaves no half-done
   * state; until then every kernel call it makes answers "call again". A thread receives
   * no signal, but one named here is reported by `exited` as the cause (`{ code: null, signal }`),
   * as for a process it killed; without one, `exited` gives code 1.
   */
  kill(signal?: NodeJS.Signals): boolean {
    if (this.ended) return false;
    this.killedBy ??= signal;
    if (!this.stopping) {
      this.stopping = true;
      void this.terminateOutsideKernel();
    }
    return true;
  }

  /**
   * Terminates the worker once neither it nor any of its descendants holds a kernel lock.
   * `owner_stop` makes every later lock of theirs fail (they only see "call again") and says how
   * many they hold or spin for: terminating the worker, which ends its own workers too, inside a
   * critical section would leave the kernel's lists half updated (see ownerStop in
   * assembly/owner.ts: that is how a message came to be delivered twice). Sections are short and
   * never wait, so this polls a few times; a worker stuck past STOP_WAIT_MS is terminated anyway
   * and its locks are broken when it is reaped, as before.
   */
  private async terminateOutsideKernel(): Promise<void> {
    const deadline = performance.now() + STOP_WAIT_MS;
    // `ended`: once the worker exited, its owner is reaped and may belong to a new worker.
    while (!this.ended && performance.now() < deadline) {
      const locks = this.stopOwner();
      // -EINTR: the kernel lock was busy as its descendants were to be marked; ask again.
      if (locks === 0 || (locks < 0 && locks !== -KernelErrno.EINTR)) break;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    this.child.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill();
    await this.exited;
  }
}

/** The worker backend's {@link Processes}: children are threads over the same kernel, started by the host. */
export class WorkerProcesses implements Processes {
  /** A factory whose children share `kernel`, started by `host`. */
  constructor(
    private readonly kernel: Kernel,
    private readonly host: WorkerHost,
  ) {}

  /**
   * Always rejects with `ENOSYS` (after checking its arguments like every backend): a worker
   * backend's objects are no OS descriptors, so no program outside it can be given them. This
   * backend does not declare the `executables` feature.
   */
  async spawnExecutable(file: string, options?: SpawnExecutableOptions): Promise<ChildProcess> {
    checkProcessSpawnExecutable(file, options);
    throw new IpcError('ENOSYS', { syscall: 'execve', object: 'worker backend', message: 'ENOSYS: the worker backend cannot run executables (its objects are no OS descriptors)' });
  }

  /**
   * Starts a worker running `entry`'s default export with `args` (ipcx objects of this backend
   * revived on the other side, plain data cloned). `entry` is a file URL or an absolute path in
   * Node; in a browser, any absolute URL (or an absolute path on the page's origin) of a module.
   * `env` is ignored (a worker shares the process); `user` becomes the child's emulated identity
   * (uid/gid), which the kernel's permission checks use; without it the child has this thread's
   * identity. uid 0 passes every check, as root does. Rejects with `EAGAIN` when the kernel's
   * owner table is full, and in Node with `ENOENT` when the entry file does not exist. In Node a
   * non-empty `execArgv` becomes the Worker's (else it inherits this thread's): Node takes only
   * per-thread options there (`--import`, `--no-warnings`, ...) and refuses V8 and process-wide
   * ones (`--max-old-space-size`, `--stack-size`), which reject with a TypeError; a browser has no
   * Node options and ignores it. `stderr: 'ignore'` drops the worker's stderr in Node (a browser
   * worker's console is the page's).
   */
  async spawn<A extends readonly unknown[]>(entry: string | URL, options?: SpawnOptions<A>): Promise<ChildProcess> {
    const { host } = this;
    const { entry: url, args, user, execArgv, stderr } = checkProcessSpawn<A>(entry, options, (path) => host.absoluteEntryUrl(path));
    host.checkEntry(url);
    const { kernel } = this;
    const { packed, records } = packTransferables(args ?? []);
    const owner = await kernel.callAsync(() => kernel.calls.owner_create(Layout.SCRATCH_BYTES));
    if (owner < 0) throw kernelError(owner, { syscall: 'clone', object: 'worker' });
    // The child acts as `user` if given, else as this thread does (as a forked process would).
    kernel.calls.owner_set_identity(owner, user?.uid ?? kernel.calls.current_uid(), user?.gid ?? kernel.calls.current_gid());
    const reap = async () => {
      await descendantsGone(kernel, host, owner);
      // The child and every descendant (owner.ts): their threads are gone.
      const result = await kernel.callAsync(() => kernel.calls.owner_release(owner));
      if (result < 0) throw kernelError(result, { syscall: 'exit', object: 'worker' });
    };
    let child: HostedChild;
    try {
      const childRecords: TransferRecord[] = [];
      for (const record of records) {
        if ((record.data as { kernel?: unknown } | undefined)?.kernel !== kernel.id) {
          throw new TypeError(`options.args holds a ${record.kind} that does not belong to this worker backend's kernel`);
        }
        const handles: number[] = [];
        for (const handle of record.handles ?? []) {
          const copy = await kernel.callAsync(() => kernel.calls.handle_dup(handle, owner));
          if (copy < 0) throw kernelError(copy, { syscall: 'dup', object: record.kind });
          handles.push(copy);
        }
        childRecords.push({ ...record, handles });
      }
      const spec: ChildSpec = {
        module: kernel.module,
        memory: kernel.memory,
        kernel: kernel.id,
        owner,
        serial: kernel.calls.owner_serial(owner),
        pid: host.childPid(owner),
        entry: url,
        packed,
        records: childRecords,
        ...(host.portToStore ? { storePort: newStorePort(kernel) } : {}),
      };
      child = await host.start(spec, { execArgv, stderr });
    } catch (error) {
      await reap();
      throw error;
    }
    return new WorkerChildProcess(child, reap, () => kernel.calls.owner_stop(owner));
  }
}

/**
 * Resolves once the threads of every descendant of `owner` (a child whose thread is gone) are gone
 * too, as far as the host can tell, so that reaping them cannot pull state from under a thread
 * that still runs. Node ends and joins a worker's own workers before its thread ends, so there is
 * nothing to wait for (the host has no `threadGone`); a browser ends a Web Worker's workers with
 * its context, but not at once, and says when each one's context is gone.
 */
async function descendantsGone(kernel: Kernel, host: WorkerHost, owner: number): Promise<void> {
  if (host.threadGone === undefined) return;
  // Stopped first (whatever path ended the child): no descendant may create another from here on.
  // Only -EINTR matters (retried); the lock counts do not, their threads are being ended anyway.
  await kernel.callAsync(() => Math.min(0, kernel.calls.owner_stop(owner)));
  const { calls } = kernel;
  for (let next = await kernel.callAsync(() => calls.owner_next_descendant(owner, 0)); next > 0; next = await kernel.callAsync(() => calls.owner_next_descendant(owner, next))) {
    await host.threadGone(kernel.id, next, calls.owner_serial(next));
  }
}
