/**
 * Reviving ipcx objects on the receiving side: in a child from its spawn args, or from
 * descriptors that arrived over a Unix socket (SCM_RIGHTS). Each primitive's file registers the
 * kinds it can revive.
 */
import type { TransferRecord } from '@ipcx/core';
import { addon } from './addon.js';

/** Builds an object from a record whose handles are already descriptors of this process. */
export type Reviver = (record: TransferRecord) => unknown;

const revivers = new Map<string, Reviver>();

/** Registers how to revive `kind`. */
export function registerReviver(kind: string, reviver: Reviver): void {
  revivers.set(kind, reviver);
}

/** Revives a record (its handles being this process's descriptors). */
export function revive(record: TransferRecord): unknown {
  const reviver = revivers.get(record.kind);
  if (reviver === undefined) throw new TypeError(`cannot revive an ipcx object of kind '${record.kind}'`);
  return reviver(record);
}

/**
 * The kind of object a bare descriptor is, judged from the kernel's view of it (fstat, fcntl,
 * SO_TYPE): used for descriptors received over a socket without a record.
 */
export function kindOfDescriptor(fd: number): string {
  const info = addon.describe(fd);
  if (info.kind === 'fifo') return info.access === 'write' ? 'pipe-writer' : 'pipe-reader';
  if (info.kind === 'socket' && info.socketDomain === 'unix') {
    if (info.socketType === 'stream') return 'unix-stream-socket';
    if (info.socketType === 'datagram') return 'unix-datagram-socket';
    if (info.socketType === 'seqpacket') return 'unix-seqpacket-socket';
  }
  if (info.kind === 'socket' && info.socketType === 'stream') return 'tcp-socket';
  if (info.kind === 'socket' && info.socketType === 'datagram') return 'udp-socket';
  return 'descriptor';
}
