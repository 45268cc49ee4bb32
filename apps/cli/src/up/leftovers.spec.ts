import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findLeftovers } from './leftovers';

describe('findLeftovers', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function fakeProc(processes: Record<number, string[]>): string {
    const root = mkdtempSync(path.join(tmpdir(), 'fv-proc-'));
    dirs.push(root);
    for (const [pid, args] of Object.entries(processes)) {
      mkdirSync(path.join(root, pid));
      writeFileSync(path.join(root, pid, 'cmdline'), args.join('\0') + '\0');
    }
    mkdirSync(path.join(root, 'self'));
    return root;
  }

  it('finds the processes whose command line names a path under the state directory, not this one', () => {
    const proc = fakeProc({
      10: ['node', '/home/op/.fleetvisor-up/demo-host/.fleetvisor/upgrades/v0.21.0/lavap', 'rpcprovider', '/home/op/.fleetvisor-up/demo-host/x.yml'],
      11: ['/usr/bin/sleep', '100'],
      12: ['node', '/home/op/.fleetvisor-up-other/lavap'],
      13: ['node', '/home/op/.fleetvisor-up/demo-host/lavap'],
    });
    const found = findLeftovers('/home/op/.fleetvisor-up', { procRoot: proc, self: 13 });
    expect(found.map((f) => f.pid)).toEqual([10]);
    expect(found[0]!.command).toMatch(/lavap rpcprovider/);
  });

  it('finds nothing where there is no /proc', () => {
    expect(findLeftovers('/x', { procRoot: '/no/such/proc' })).toEqual([]);
  });
});
