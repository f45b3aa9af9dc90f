/**
 * The module that core's `processes.spawn` has a child import to rebuild this package's objects
 * passed in its args (see `transferByModule` in share.ts). Importing the package's entry first
 * registers every object's reviver, whichever of them the child's own code imports.
 */
import './index.js';
import type { IpcBackend } from '@ipcx/core';
import { reviveValue } from './share.js';

/** Rebuilds one object from its `transferByModule` record, whose core objects are revived already. */
export function reviveTransfer(data: unknown, backend: IpcBackend): Promise<unknown> {
  return reviveValue(data, backend);
}
