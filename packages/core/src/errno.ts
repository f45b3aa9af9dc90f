/*
 * The one errno table of ipcx: every backend reports failures by these names, so that code written
 * against `@ipcx/core` tests `err.code === 'EAGAIN'` whatever backend it runs on; the native addon
 * passes bare numbers and this table names them. The numbers are Linux's own, so an emulating
 * backend reports the same `errno` that the native one would. The texts are glibc's `strerror`
 * texts (taken from the C library when the table was written), so messages read as a C or Python
 * program's would. The table itself is packages/core/errno.tsv, from which scripts/errno.mjs writes
 * errno-table.ts (here), the addon's native/errno_table.h and the worker kernel's assembly/errno.ts.
 */
import { ERRNO_TABLE } from './errno-table.js';

/** The name of an errno value that ipcx reports, e.g. `'EAGAIN'`. */
export type ErrnoName = keyof typeof ERRNO_TABLE;

/** errno numbers by name: `Errno.EAGAIN === 11`. */
export const Errno = Object.freeze(
  Object.fromEntries(Object.entries(ERRNO_TABLE).map(([name, [value]]) => [name, value])),
) as { readonly [Name in ErrnoName]: (typeof ERRNO_TABLE)[Name][0] };

const namesByNumber = new Map<number, ErrnoName>(
  Object.entries(ERRNO_TABLE).map(([name, [value]]) => [value, name as ErrnoName]),
);

/**
 * The errno name for a Linux errno number, or `'E' + number` for one outside the table (the one
 * fallback; the addon's `ErrnoName` in native/errors.cc falls back the same way).
 */
export function errnoName(errno: number): string {
  return namesByNumber.get(errno) ?? `E${errno}`;
}

/**
 * The system's text for an errno name, as `strerror` gives it (`'No message of desired type'` for
 * `ENOMSG`), or `'Unknown error N'` as glibc says for a number outside the table.
 */
export function errnoMessage(code: string): string {
  const entry = (ERRNO_TABLE as Record<string, readonly [number, string] | undefined>)[code];
  return entry ? entry[1] : `Unknown error ${code.startsWith('E') ? code.slice(1) : code}`;
}
