import { describe, expect, it } from 'vitest';
import {
  AbortError,
  Errno,
  IpcError,
  checkInteger,
  checkWaitOptions,
  errnoName,
  isIpcError,
  packTransferables,
  toBytes,
  transferSymbol,
  unpackTransferables,
} from '@ipcx/core';

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
    expect(() => toBytes('data', 5)).toThrow(TypeError);
    expect(toBytes('data', 'é')).toEqual(new Uint8Array([0xc3, 0xa9]));
    expect(checkWaitOptions(undefined)).toBe(Infinity);
    expect(checkWaitOptions({ timeout: 5 })).toBe(5);
    expect(() => checkWaitOptions({ timeout: -1 })).toThrow(RangeError);
    expect(() => checkWaitOptions({ signal: {} as AbortSignal })).toThrow(TypeError);
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
});
