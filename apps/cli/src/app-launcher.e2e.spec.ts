// `fleetvisor <app command>` runs the app as a child process; the child must not outlive a CLI
// process that is killed with SIGKILL (which cannot pass a signal on).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childPids, expectEventually, processAlive, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { environmentWith } from '@fleetvisor/platform';

const BIN = path.resolve(__dirname, '../../../bin/fleetvisor.js');

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
      const [app] = childPids(cli.pid!);
      expect(app, 'the CLI runs the app as its child').toBeGreaterThan(0);
      cli.kill('SIGKILL');
      await expectEventually(() => expect(processAlive(app!)).toBe(false), { timeoutMs: 10_000 });
      expect(output).toMatch(/parent process \d+ is gone; stopping/);
    } finally {
      cli.kill('SIGKILL');
      for (const pid of childPids(cli.pid!)) process.kill(pid, 'SIGKILL');
    }
  });
});
