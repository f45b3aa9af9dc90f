/**
 * The demo's command line (`npm run demo -- ...`), run as users run it: a Node process on
 * demo/dist/demo.js whose output and exit code are read.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const demo = fileURLToPath(new URL('../dist/demo.js', import.meta.url));

/** Runs the demo with `args`; its exit code and output. */
function runDemo(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demo, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('demo command line', () => {
  it('--help lists every example by name with its title, the di-app included, and runs nothing', async () => {
    const run = await runDemo('--help');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run demo -- /);
    for (const [name, title] of [
      ['pipe', 'pipe: parent -> child, EOF when the writer closes'],
      ['unix-datagram', 'Unix datagram socket: boundaries kept, replies to the sender'],
      ['di-app', 'the dependency-injected app'],
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${name} +${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    }
    expect(run.stdout).not.toContain('== native backend ==');
  });

  it('runs one example on the chosen backend', async () => {
    const run = await runDemo('pipe', '--backend', 'worker');
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('== worker backend ==');
    expect(run.stdout).not.toContain('== native backend ==');
    expect(run.stdout).toMatch(/^ {2}PASS pipe: /m);
    expect(run.stdout).toContain('all examples passed');
  });

  it('exits 2 with a message for an unknown example, backend or option', async () => {
    for (const [args, message] of [
      [['nope'], "unknown example 'nope'"],
      [['--backend', 'nope'], "unknown backend 'nope'"],
      [['--bogus'], "Unknown option '--bogus'"],
    ] as const) {
      const run = await runDemo(...args);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe('');
    }
  });
});
