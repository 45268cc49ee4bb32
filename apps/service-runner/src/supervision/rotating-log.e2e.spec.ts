// Per-service log rotation with a real supervised child (`fleetvisor wrap`): the child's output
// goes to logs/<name>.log, which rolls over at FLEETVISOR_RUNNER_LOG_MAX_BYTES into .1 … .N
// (FLEETVISOR_RUNNER_LOG_FILES); the oldest output is dropped, nothing else is lost or reordered.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor, inheritedEnvironment } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const dir = mkdtempSync(path.join(tmpdir(), 'fv-rotate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = {
  PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
  FLEETVISOR_NATS_URL: 'nats://127.0.0.1:1',
  FLEETVISOR_HOST: 'rotate-host',
  FLEETVISOR_LOG_FORMAT: 'json',
  FLEETVISOR_RUNNER_LOG_MAX_BYTES: '1024',
  FLEETVISOR_RUNNER_LOG_FILES: '2',
};
const LINES = 120;

describe('per-service log rotation', () => {
  it('rolls logs/<name>.log over at the size limit, keeps N files, drops only the oldest output', async () => {
    // 120 numbered lines of 40 bytes (4800 bytes), written one by one, then idle.
    const chatty = path.join(dir, 'chatty.sh');
    writeFileSync(chatty, `#!/bin/sh\ni=1\nwhile [ $i -le ${LINES} ]; do printf 'line %04d of the chatty child.........\\n' $i; i=$((i+1)); sleep 0.005; done\nexec sleep 600\n`);
    chmodSync(chatty, 0o755);
    const child = spawn(process.execPath, [CLI, 'wrap', '--directory', dir, '--name', 'chatty', '--cmd', chatty], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const logs = path.join(dir, '.fleetvisor', 'logs');
    const file = (suffix: string) => path.join(logs, `chatty.log${suffix}`);
    try {
      await waitFor(() => existsSync(file('')) && readFileSync(file(''), 'utf8').includes(`line ${String(LINES).padStart(4, '0')}`), { timeoutMs: 30_000, message: out });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(existsSync(file('.1'))).toBe(true);
    expect(existsSync(file('.2'))).toBe(true);
    expect(existsSync(file('.3'))).toBe(false);
    for (const s of ['', '.1', '.2']) expect(statSync(file(s)).size).toBeLessThanOrEqual(1024);
    // Oldest to newest, the kept files hold one unbroken run of lines ending with the last one.
    const kept = ['.2', '.1', ''].map((s) => readFileSync(file(s), 'utf8')).join('');
    const numbers = [...kept.matchAll(/^line (\d{4}) of the chatty child/gm)].map((m) => Number(m[1]));
    expect(numbers.at(-1)).toBe(LINES);
    expect(numbers[0]).toBeGreaterThan(1); // the oldest output was rotated away
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => numbers[0]! + i));
    expect(numbers.length).toBeGreaterThanOrEqual(Math.floor((2 * 1024) / 40));
  }, 60_000);
});
