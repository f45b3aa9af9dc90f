/**
 * The compiled addon, loaded once per environment, with the signatures of its functions.
 * Every errno that leaves the addon becomes an IpcError here, through one factory.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpcError, errnoName, type IpcErrorDetails } from '@ipcx/core';

/** Completion of a blocking wait: errno 0 and the result, or an errno (ECANCELED after cancelWait). */
export type WaitCallback = (errno: number, result: unknown) => void;

/** The functions of the addon. Calls returning `number` give `-errno` on failure unless noted. */
export interface NativeAddon {
  setErrorFactory(factory: (errno: number, syscall: string, path?: string) => Error): void;
  /** The addon's own name for an errno number (errors.cc, from the same table as core's `errnoName`). */
  errnoName(errno: number): string;
  // blocking_wait.cc
  cancelWait(id: number): void;
  /** Waits in flight on waiter threads. */
  activeWaits(): number;
  /** Waiter threads alive, busy or idle (idle ones are kept, boundedly, for later waits). */
  waiterThreads(): number;
  /** sched_yield(): lets a peer that shares this CPU run between the attempts of a spin. */
  yieldCpu(): void;
  // poller.cc
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void): number;
  /**
   * The events pending operations wait for; 0 lets the loop exit. A readable interest stays
   * registered (unref'd) until it fires unwanted, so that a stream read again soon costs no epoll_ctl.
   */
  pollUpdate(id: number, events: number): void;
  pollClose(id: number): void;
  // descriptor.cc
  read(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  write(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  close(fd: number): number;
  shutdown(fd: number, how: number): number;
  describe(fd: number): { kind: 'fifo' | 'socket' | 'file' | 'other'; type: string; access: 'read' | 'write' | 'readwrite'; socketType?: string; socketDomain?: string };
  /** Close-on-exec only: O_NONBLOCK lives on the shared description and is left alone. */
  setCloexec(fd: number): number;
  // pipe.cc (throw IpcError)
  pipe(): [number, number];
  socketpair(type: number): [number, number];
  pipeCapacity(fd: number): number;
  setPipeCapacity(fd: number, bytes: number): number;
  // fifo.cc
  mkfifo(path: string, mode: number): void;
  unlink(path: string): void;
  openFifoNow(path: string, write: boolean): number;
  openFifoWait(path: string, write: boolean, callback: WaitCallback): number;
}

/** libuv poll event bits. */
export const PollEvent = { readable: 1, writable: 2, disconnect: 4 } as const;

const require = createRequire(import.meta.url);
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// node-gyp-build picks a prebuilt binary from prebuilds/ when one matches, else build/Release.
const load = require('node-gyp-build') as (dir: string) => NativeAddon;

/**
 * The addon, loaded for this environment (the main thread or a worker). Each primitive's file
 * declares the functions it uses in an interface of its own and views the addon through it
 * (`addon as unknown as MessageQueueAddon`), so that its signatures live next to their callers.
 */
export const addon: NativeAddon = load(packageRoot);

addon.setErrorFactory((errno, syscall, filePath) => new IpcError(errnoName(errno) as IpcError['code'], { errno, syscall, path: filePath ?? undefined }));

/** The IpcError for a `-errno` returned by an addon call. */
export function errorFromErrno(negativeErrno: number, details: IpcErrorDetails): IpcError {
  const errno = -negativeErrno;
  return new IpcError(errnoName(errno) as IpcError['code'], { ...details, errno });
}
