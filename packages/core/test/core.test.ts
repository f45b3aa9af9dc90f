import { describe, expect, it } from 'vitest';
import {
  AbortError,
  Errno,
  IpcError,
  errnoName,
  isIpcError,
  moduleTransferSymbol,
  packTransferables,
  transferSymbol,
  unpackTransferables,
  type IpcBackend,
} from '@ipcx/core';
// Not on the public entry: only runChildMain calls it.
import { reviveModuleTransfers } from '../dist/transfer.js';
import { checkBytes, checkInteger, checkProcessSpawn, checkWaitOptions } from '@ipcx/core/backend';

describe('IpcError', () => {
  it('carries the errno name, number and syscall as data', () => {
    const error = new IpcError('ENOMSG', { syscall: 'msgrcv', key: 42 });
    expect(error).toMatchObject({ name: 'IpcError', code: 'ENOMSG', errno: 42, syscall: 'msgrcv', key: 42 });
    expect(error.message).toBe('ENOMSG: No message of desired type (msgrcv, key 0x0000002a)');
    expect(isIpcError(error, 'ENOMSG')).toBe(true);
    expect(isIpcError(error, 'EAGAIN')).toBe(false);
    expect(errnoName(Errno.EIDRM)).toBe('EIDRM');
    expect(errnoName(9999)).toBe('E9999');
  });

  it('AbortError looks like Node’s', () => {
    expect(new AbortError()).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });
});

describe('validation', () => {
  it('tells TypeError from RangeError', () => {
    expect(() => checkInteger('n', '1', 0, 9)).toThrow(TypeError);
    expect(() => checkInteger('n', 1.5, 0, 9)).toThrow(RangeError);
    expect(() => checkInteger('n', 10, 0, 9)).toThrow(RangeError);
    expect(checkInteger('n', 9, 0, 9)).toBe(9);
    expect(() => checkBytes('data', 5)).toThrow(TypeError);
    expect(checkBytes('data', 'é')).toEqual(new Uint8Array([0xc3, 0xa9]));
    expect(checkWaitOptions(undefined)).toBe(Infinity);
    expect(checkWaitOptions({ timeout: 5 })).toBe(5);
    // -0 comes back as 0 (a mode of -0 reaching Node's fs aborted the process; found by the fuzzer).
    expect(Object.is(checkInteger('mode', -0, 0, 0o777), 0)).toBe(true);
    // Timers cannot hold more than 2^31 - 1 ms (Node cuts a longer delay to 1 ms): no timeout then.
    expect(checkWaitOptions({ timeout: 2 ** 31 - 1 })).toBe(2 ** 31 - 1);
    expect(checkWaitOptions({ timeout: 2 ** 31 })).toBe(Infinity);
    expect(checkWaitOptions({ timeout: Number.MAX_VALUE })).toBe(Infinity);
    expect(() => checkWaitOptions({ timeout: -1 })).toThrow(RangeError);
    expect(() => checkWaitOptions({ signal: {} as AbortSignal })).toThrow(TypeError);
  });
});

describe('spawn arguments', () => {
  it('refuses what structured cloning cannot carry with a TypeError, before any backend is involved', () => {
    const path = (entry: string) => `file://${entry}`;
    expect(() => checkProcessSpawn('/x.js', { args: [() => {}] }, path)).toThrow(TypeError);
    expect(() => checkProcessSpawn('/x.js', { args: [{ deep: [Symbol('s')] }] }, path)).toThrow(/options.args must hold only ipcx objects/);
    // ipcx objects travel their own way (their methods are never cloned), and cycles are fine.
    const object = { close: () => undefined, [transferSymbol]: () => ({ kind: 'x' }) };
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic.self = cyclic;
    expect(checkProcessSpawn('/x.js', { args: [object, { inner: object }, cyclic, new Uint8Array(2)] }, path).args).toHaveLength(4);
  });

  it('checks execArgv and stderr, with defaults', () => {
    const path = (entry: string) => `file://${entry}`;
    expect(checkProcessSpawn('/x.js', {}, path)).toMatchObject({ entry: 'file:///x.js', execArgv: [], stderr: 'inherit' });
    expect(checkProcessSpawn('/x.js', { execArgv: ['--max-old-space-size=64'], stderr: 'ignore' }, path)).toMatchObject({ execArgv: ['--max-old-space-size=64'], stderr: 'ignore' });
    expect(() => checkProcessSpawn('/x.js', { execArgv: '--inspect' }, path)).toThrow(/options.execArgv must be an array/);
    expect(() => checkProcessSpawn('/x.js', { execArgv: [42] }, path)).toThrow(TypeError);
    expect(() => checkProcessSpawn('/x.js', { execArgv: ['--a\0b'] }, path)).toThrow(/NUL/);
    expect(() => checkProcessSpawn('/x.js', { stderr: 'pipe' }, path)).toThrow(/options.stderr must be 'inherit' or 'ignore'/);
  });
});

describe('transferables', () => {
  it('replaces objects by markers and revives them in place', () => {
    const object = { [transferSymbol]: () => ({ kind: 'thing', data: 7, handles: [3] }) };
    const { packed, records } = packTransferables([1, { inner: [object, 'x'] }, object]);
    expect(records).toEqual([
      { kind: 'thing', data: 7, handles: [3] },
      { kind: 'thing', data: 7, handles: [3] },
    ]);
    expect(JSON.parse(JSON.stringify(packed))).toEqual(packed);
    const revived = unpackTransferables(packed, (index) => `revived ${index}`);
    expect(revived).toEqual([1, { inner: ['revived 0', 'x'] }, 'revived 1']);
  });

  it("packs a library's object by module, its core objects as records, and the child's import rebuilds it", async () => {
    const part = { [transferSymbol]: () => ({ kind: 'pipe-writer', handles: [5] }) };
    // The module a child would import: its reviveTransfer gets the data with core objects revived.
    const module = `data:text/javascript,${encodeURIComponent('export const reviveTransfer = (data, backend) => ({ rebuilt: data, by: backend.name });')}`;
    const library = { [moduleTransferSymbol]: () => ({ module, data: { size: 3, parts: [part] } }) };
    const { packed, records } = packTransferables([{ queue: library }, 'plain']);
    expect(records).toEqual([{ kind: 'pipe-writer', handles: [5] }]);
    expect(JSON.parse(JSON.stringify(packed))).toEqual(packed);
    const unpacked = unpackTransferables(packed, () => 'writer');
    const backend = { name: 'test' } as IpcBackend;
    expect(await reviveModuleTransfers(unpacked, backend)).toEqual([{ queue: { rebuilt: { size: 3, parts: ['writer'] }, by: 'test' } }, 'plain']);
    // Args without such objects come back as they were (the same array).
    const plain = [1, { a: [2] }];
    expect(await reviveModuleTransfers(plain, backend)).toBe(plain);
    // A module without the export, or one that does not load, is a TypeError naming it.
    const without = packTransferables([{ [moduleTransferSymbol]: () => ({ module: 'data:text/javascript,export const x = 1;', data: null }) }]).packed;
    await expect(reviveModuleTransfers(without, backend)).rejects.toThrow(/exports no reviveTransfer/);
    const missing = packTransferables([{ [moduleTransferSymbol]: () => ({ module: 'file:///nonexistent/ipcx-revive.js', data: null }) }]).packed;
    await expect(reviveModuleTransfers(missing, backend)).rejects.toThrow(TypeError);
  });
});
