// The process stack of `fleetvisor up`, with real child processes.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { expectEventually, processAlive } from '@fleetvisor/testing';
import { Stack } from './stack';

const logger = pino({ level: 'silent' });
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('Stack (real child processes)', () => {
  it('passes every output line on and restarts a component that dies, with backoff', async () => {
    const lines: string[] = [];
    stack = new Stack({ logger, baseEnv: {}, restartBaseMs: 50, restartMaxMs: 200, onLine: (c, l) => lines.push(`${c}: ${l}`) });
    stack.start({ name: 'flaky', file: process.execPath, args: ['-e', 'console.log("up " + process.pid); process.exit(3)'] });
    await expectEventually(() => expect(stack!.status()[0]!.restarts).toBeGreaterThanOrEqual(3), { timeoutMs: 10_000 });
    expect(lines.filter((l) => /^flaky: up \d+$/.test(l)).length).toBeGreaterThanOrEqual(3);
  });

  it('stops with SIGTERM, and SIGKILLs a component that ignores it after the grace', async () => {
    const script = 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)';
    const ready: string[] = [];
    stack = new Stack({ logger, baseEnv: {}, stopGraceMs: 300, onLine: (c) => ready.push(c) });
    stack.start({ name: 'stubborn', file: process.execPath, args: ['-e', script] });
    stack.start({ name: 'polite', file: process.execPath, args: ['-e', 'console.log("ready"); setInterval(() => {}, 1000)'] });
    await expectEventually(() => expect(ready.sort()).toEqual(['polite', 'stubborn']), { timeoutMs: 10_000 });
    const pids = stack.status().map((s) => s.pid!);
    const t0 = Date.now();
    await stack.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(pids.map(processAlive)).toEqual([false, false]);
    expect(stack.status().map((s) => s.restarts)).toEqual([0, 0]);
  });
});
