// `fleetvisor <app command>` runs the app as a child process; the child must not outlive a CLI
// process that is killed with SIGKILL (which cannot pass a signal on).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectEventually, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { environmentWith } from '@fleetvisor/platform';

const BIN = path.resolve(__dirname, '../../../bin/fleetvisor.js');

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('appCommand (real processes)', () => {
  it('runs the app in a child process that stops by itself when the CLI is SIGKILLed', async () => {
    const bus = testBusNames();
    const cli = spawn(process.execPath, [BIN, 'worker-agent', 'run'], {
      env: environmentWith({ FLEETVISOR_NATS_URL: sharedNatsUrl(), FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot, FLEETVISOR_WORKER_NAME: `launch-${bus.subjectRoot}`, FLEETVISOR_LOG_FORMAT: 'json' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cli.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    cli.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await expectEventually(() => expect(output).toMatch(/serving agent commands/), { timeoutMs: 30_000 });
      const [app] = childrenOf(cli.pid!);
      expect(app, 'the CLI runs the app as its child').toBeGreaterThan(0);
      cli.kill('SIGKILL');
      await expectEventually(() => expect(alive(app!)).toBe(false), { timeoutMs: 10_000 });
      expect(output).toMatch(/parent process \d+ is gone; stopping/);
    } finally {
      cli.kill('SIGKILL');
      for (const pid of childrenOf(cli.pid!)) process.kill(pid, 'SIGKILL');
    }
  });
});
