import { describe, expect, it } from 'vitest';
import type { ThreadInfo, WorkerSummary } from '@fleetvisor/contracts';
import { formatWorkerInfo, formatWorkerList } from './worker-common';

const NOW = Date.parse('2026-01-02T15:04:10Z');
const worker = (name: string, extra: Partial<WorkerSummary> = {}): WorkerSummary => ({
  name,
  dest: `10.0.0.${name.length}:17890`,
  version: '1.2.0',
  threads: 2,
  empty: 1,
  paused: 0,
  running: 1,
  waiting: 0,
  errors: 0,
  lastPing: '2026-01-02T15:04:05.000Z',
  expired: false,
  draining: false,
  ...extra,
});
const ERROR = 'dial tcp 127.0.0.1:17890: connect: connection refused';

describe('worker list, human table', () => {
  it('marks an unreachable worker beside its name and gives its error under the table', () => {
    const out = formatWorkerList([worker('w-ok'), worker('w-gone', { unreachable: ERROR, running: 0 })], NOW, 600_000);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^Name\s+Dest\s+Version/);
    expect(lines[1]).toMatch(/^w-ok\s+10\.0\.0\.4:17890/);
    expect(lines[1]).not.toContain('UNREACHABLE');
    expect(lines[2]).toMatch(/^w-gone UNREACHABLE\s+10\.0\.0\.6:17890\s+1\.2\.0\s+2\s+1\s+0\s+0\s+0\s+0\s+2026-01-02 15:04:05 \(5s ago\)$/);
    expect(lines.slice(3)).toEqual(['', `w-gone UNREACHABLE: the agent reports, the worker does not answer it: ${ERROR}`, '']);
  });

  it('shows no mark and no note when every worker is reachable', () => {
    const out = formatWorkerList([worker('w-ok', { draining: true })], NOW, 600_000);
    expect(out).not.toContain('UNREACHABLE');
    expect(out.trimEnd().split('\n')).toHaveLength(2);
    expect(out).toMatch(/^w-ok \(draining\)\s/m);
  });
});

describe('worker info, human table', () => {
  const threads: ThreadInfo[] = [{ index: 0, plan: 'sealer', threadState: 'unknown', state: 'PC1Done' }];

  it('says under the head line that the worker is unreachable, with the error', () => {
    const lines = formatWorkerInfo(worker('w-gone', { unreachable: ERROR }), threads).split('\n');
    expect(lines[0]).toBe('w-gone  10.0.0.6:17890  version 1.2.0  2 threads');
    expect(lines[1]).toBe(`UNREACHABLE: the agent reports, the worker does not answer it: ${ERROR}`);
    expect(lines[2]).toMatch(/^Index\s+Loc/);
    expect(lines[3]).toMatch(/^0\s+-\s+-\s+sealer\s+false\s+-\s+PC1Done \(unknown\)/);
  });

  it('an unreachable worker without threads recorded still says so', () => {
    expect(formatWorkerInfo(worker('w-gone', { unreachable: ERROR, threads: 0 }), [])).toBe(
      `w-gone  10.0.0.6:17890  version 1.2.0  0 threads\nUNREACHABLE: the agent reports, the worker does not answer it: ${ERROR}\nno threads\n`,
    );
  });

  it('a reachable worker has its head line alone', () => {
    expect(formatWorkerInfo(worker('w-ok'), threads).split('\n')[1]).toMatch(/^Index\s+Loc/);
  });
});
