import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTime, readPidRecord, stillRunning, watchProcess, type PidRecord } from './process-identity';

const root = mkdtempSync(path.join(tmpdir(), 'fv-proc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fake /proc/<pid> with a stat line (field 22 = start) and a command line. */
function fakeProc(pid: number, comm: string, state: string, start: string, args: string[]): void {
  const d = path.join(root, String(pid));
  mkdirSync(d, { recursive: true });
  // fields 3..21 then 22 (starttime) and a few more
  const fields = [state, ...Array.from({ length: 18 }, (_, i) => String(i + 1)), start, '4096', '99'];
  writeFileSync(path.join(d, 'stat'), `${pid} (${comm}) ${fields.join(' ')}\n`);
  writeFileSync(path.join(d, 'cmdline'), args.join('\0') + '\0');
}

const record = (o: Partial<PidRecord> = {}): PidRecord => ({ pid: 41, startTime: '777', binaryPath: '/h/.fleetvisor/upgrades/v0.2.0/lavap', version: '0.2.0', startedAt: '2026-12-07T10:00:00.000Z', runnerPid: 1, ...o });

describe('process identity', () => {
  it('reads field 22 of /proc/<pid>/stat, also when the command name holds spaces and parentheses', () => {
    fakeProc(41, 'lavap (x) y', 'S', '777', ['/usr/bin/node', '/h/.fleetvisor/upgrades/v0.2.0/lavap', 'rpcprovider']);
    expect(processStartTime(41, root)).toBe('777');
    expect(processStartTime(9999, root)).toBeUndefined();
  });

  it('matches the real /proc of this process', () => {
    const t = processStartTime(process.pid);
    expect(t).toMatch(/^\d+$/);
  });

  it('a zombie has no start time to match: it is not running', () => {
    fakeProc(42, 'lavap', 'Z', '778', []);
    expect(processStartTime(42, root)).toBeUndefined();
  });

  it('the same pid with another start time (a recycled pid) or another binary is not the recorded process', () => {
    fakeProc(41, 'lavap', 'S', '777', ['/usr/bin/node', '/h/.fleetvisor/upgrades/v0.2.0/lavap', 'rpcprovider']);
    expect(stillRunning(record(), root)).toBe(true);
    expect(stillRunning(record({ startTime: '776' }), root)).toBe(false);
    expect(stillRunning(record({ binaryPath: '/h/.fleetvisor/upgrades/v0.1.0/lavap' }), root)).toBe(false);
    expect(stillRunning(record({ pid: 43 }), root)).toBe(false);
  });

  it('reads pid files, an older runner\'s without a start time too (never adoptable), and refuses garbage', () => {
    const f = path.join(root, 'a.pid');
    writeFileSync(f, JSON.stringify(record()));
    expect(readPidRecord(f)).toEqual(record());
    writeFileSync(f, JSON.stringify({ pid: 41, binaryPath: '/x/lavap', startedAt: '2026-12-07T10:00:00.000Z' }));
    expect(readPidRecord(f)).toMatchObject({ pid: 41, startTime: '', binaryPath: '/x/lavap' });
    writeFileSync(f, '{"pid":"41"}');
    expect(readPidRecord(f)).toBeUndefined();
    writeFileSync(f, 'not json');
    expect(readPidRecord(f)).toBeUndefined();
    expect(readPidRecord(path.join(root, 'none.pid'))).toBeUndefined();
  });

  it('watching a process that is not our child: gone when its start time changes (a recycled pid) or it disappears; hurried once signalled', async () => {
    fakeProc(51, 'lavap', 'S', '900', ['/x/lavap']);
    const gone = new Promise<void>((resolve) => watchProcess(51, '900', { idleMs: 5, hurriedMs: 5 }, resolve, root));
    fakeProc(51, 'other', 'S', '901', ['/bin/sleep']); // the pid now names another process
    await gone;

    fakeProc(52, 'lavap', 'S', '902', ['/x/lavap']);
    let seen = false;
    // A long idle interval: only hurry() makes the exit seen within this test's time.
    const watch = watchProcess(52, '902', { idleMs: 60_000, hurriedMs: 5 }, () => (seen = true), root);
    const hurried = new Promise<void>((resolve) => {
      const w = watchProcess(52, '902', { idleMs: 60_000, hurriedMs: 5 }, resolve, root);
      rmSync(path.join(root, '52'), { recursive: true });
      w.hurry();
    });
    await hurried;
    expect(seen).toBe(false); // the un-hurried watch has not looked yet
    watch.stop();
  });
});
