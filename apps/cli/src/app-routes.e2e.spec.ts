// `fleetvisor <app command>` is the app itself: one process, so the pid an operator or a supervisor
// started is the service, and kill -9 of it is a crash of the service, not a clean stop of a child.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childPids, expectEventually, processAlive, sharedNatsUrl, testBusNames, testTrust } from '@fleetvisor/testing';
import { environmentWith } from '@fleetvisor/platform';

const BIN = path.resolve(__dirname, '../../../bin/fleetvisor.js');

describe('app commands (compiled, real processes)', () => {
  it('runs the app in the process that was started, with no child process', async () => {
    const bus = testBusNames();
    const cli = spawn(process.execPath, [BIN, 'worker-agent', 'run'], {
      env: environmentWith({ FLEETVISOR_NATS_URL: sharedNatsUrl(), FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot, FLEETVISOR_WORKER_NAME: `launch-${bus.subjectRoot}`, FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile, FLEETVISOR_LOG_FORMAT: 'json' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cli.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    cli.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await expectEventually(() => expect(output).toMatch(/serving agent commands/), { timeoutMs: 30_000 });
      expect(childPids(cli.pid!), 'the agent runs in the started process, not in a child').toEqual([]);
      const logged = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { pid?: number });
      expect(logged.some((l) => l.pid === cli.pid), 'the log lines come from the started pid').toBe(true);
      cli.kill('SIGKILL');
      await expectEventually(() => expect(processAlive(cli.pid!)).toBe(false), { timeoutMs: 10_000 });
    } finally {
      cli.kill('SIGKILL');
    }
  });

  it("hands `--help` of an app's words to the app", async () => {
    const child = spawn(process.execPath, [BIN, 'worker-registry', 'run', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: fleetvisor worker-registry run/);
  });
});
