/**
 * Reviving ipcx objects on the receiving side: in a child from its spawn args, or from
 * descriptors that arrived over a Unix socket (SCM_RIGHTS). Each primitive's file registers the
 * kinds it can revive; every descriptor that is no object ipcx knows becomes a generic
 * descriptor (kind `'descriptor'`, descriptor.ts).
 */
import type { TransferRecord } from '@ipcx/core';
import { addon } from './addon.js';

/** Builds an object from a record whose handles are already descriptors of this process. */
export type Reviver = (record: TransferRecord) => unknown;

const revivers = new Map<string, Reviver>();

/** The kind every descriptor can be revived as (descriptor.ts registers it). */
export const GENERIC_DESCRIPTOR_KIND = 'descriptor';

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
 * SO_TYPE): used for descriptors received over a socket without a record. A FIFO or pipe becomes
 * a pipe end, a Unix socket an ipcx socket of its type; anything else (regular files, memfds,
 * eventfds, devices, TCP or netlink sockets) a generic descriptor.
 */
export function kindOfDescriptor(fd: number): string {
  const info = addon.describe(fd);
  if (info.kind === 'fifo') return info.access === 'write' ? 'pipe-writer' : 'pipe-reader';
  if (info.kind === 'socket' && info.socketDomain === 'unix') {
    if (info.socketType === 'stream') return 'unix-stream-socket';
    if (info.socketType === 'datagram') return 'unix-datagram-socket';
    if (info.socketType === 'seqpacket') return 'unix-seqpacket-socket';
  }
  return GENERIC_DESCRIPTOR_KIND;
}

/**
 * The object for a descriptor that arrived over SCM_RIGHTS: the ipcx object of its kind, else a
 * generic descriptor. `null` (the descriptor closed, never leaked) only if even fstat fails on it.
 */
export function reviveReceived(fd: number): unknown {
  try {
    return revive({ kind: kindOfDescriptor(fd), handles: [fd] });
  } catch {
    try {
      return revive({ kind: GENERIC_DESCRIPTOR_KIND, handles: [fd] });
    } catch {
      addon.close(fd);
      return null;
    }
  }
}
