/**
 * Security settings reach the client: an ACL user limited to its application's prefix works with
 * its password and gets EACCES (Redis' NOPERM) outside it or with a wrong password; TLS with a CA
 * the test makes (openssl) carries every connection, the synchronous bridge's included; a client
 * id that would break the records it names is refused.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedisBackend, type RedisBackendOptions } from '@ipcx/adapter-redis';
import { IPC_PRIVATE } from '@ipcx/core';
import { uniquePrefix } from './helpers.js';
import { freePort, startRedis } from './redis-server.js';

function backend(options: RedisBackendOptions) {
  const made = createRedisBackend(options);
  onTestFinished(() => made.close());
  return made;
}

describe('redis security', () => {
  it('refuses a client id that would break the records it names (a space, a ":", empty, too long) with a TypeError', () => {
    const connection = { host: '127.0.0.1', port: 1, lazyConnect: true };
    for (const clientId of ['my client', 'a:1', '', 'x'.repeat(65), 7 as unknown as string]) {
      expect(() => createRedisBackend({ connection, clientId }), String(clientId)).toThrow(TypeError);
    }
  });

  it('connects as an ACL user confined to its prefix; other prefixes and a wrong password give EACCES', { timeout: 60_000 }, async () => {
    const prefix = uniquePrefix('acl');
    // The ACL the README recommends: the prefix's keys and channels, and the commands ipcx uses.
    const acl = ['app', 'on', '>s3cret', `~{${prefix}:*`, `~${prefix}:*`, `&{${prefix}:*`, '+@all', '-@dangerous', '+info'];
    const server = await startRedis({ extra: ['--user', ...acl, '--user', 'default', 'off'], pingArgs: ['--user', 'app', '--pass', 's3cret', '--no-auth-warning'] });
    onTestFinished(() => server.stop());
    const app = backend({ connection: { host: '127.0.0.1', port: server.port, username: 'app', password: 's3cret' }, prefix });
    const queue = await app.messageQueues.open(IPC_PRIVATE);
    await queue.send(1, 'allowed');
    expect(Buffer.from((await queue.receive()).data).toString()).toBe('allowed');
    const set = await app.semaphores.open('private', { size: 1 });
    set.post(0);
    expect(set.value(0)).toBe(1);
    await set.remove();
    await set.close();
    await queue.remove();
    await queue.close();
    const outside = backend({ connection: { host: '127.0.0.1', port: server.port, username: 'app', password: 's3cret' }, prefix: `${prefix}-other` });
    await expect(outside.messageQueues.open(IPC_PRIVATE)).rejects.toMatchObject({ name: 'IpcError', code: 'EACCES' });
    const wrong = backend({ connection: { host: '127.0.0.1', port: server.port, username: 'app', password: 'nope', maxRetriesPerRequest: 0 }, prefix });
    await expect(wrong.messageQueues.open(IPC_PRIVATE)).rejects.toMatchObject({ name: 'IpcError', code: expect.stringMatching(/^(EACCES|ECONNRESET)$/) });
  });

  it('talks TLS with the CA it is given, the synchronous bridge too', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const server = await (async () => {
      const dir = (await import('node:fs')).mkdtempSync(path.join((await import('node:os')).tmpdir(), 'ipcx-redis-tls-'));
      const file = (name: string) => path.join(dir, name);
      const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=ipcx test CA', '-keyout', file('ca.key'), '-out', file('ca.crt'));
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
      (await import('node:fs')).writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
      openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', file('ext.cnf'), '-out', file('server.crt'));
      return startRedis({
        dir,
        port,
        extra: ['--port', '0', '--tls-port', String(port), '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'), '--tls-ca-cert-file', file('ca.crt'), '--tls-auth-clients', 'no'],
        pingArgs: ['--tls', '--cacert', file('ca.crt')],
      });
    })();
    onTestFinished(() => server.stop());
    const ca = readFileSync(path.join(server.dir, 'ca.crt'));
    const secure = backend({ connection: { host: '127.0.0.1', port, tls: { ca } }, prefix: uniquePrefix('tls') });
    const set = await secure.semaphores.open('private', { size: 1 });
    set.setValue(0, 2);
    await set.wait(0, 2);
    expect(set.values()).toEqual([0]);
    await set.remove();
    await set.close();
    // Without the CA the certificate is refused: no silent plain-text fallback.
    const untrusted = backend({ connection: { host: '127.0.0.1', port, tls: {}, maxRetriesPerRequest: 0 }, prefix: uniquePrefix('tls') });
    await expect(untrusted.messageQueues.open(IPC_PRIVATE)).rejects.toMatchObject({ name: 'IpcError' });
  });
});
