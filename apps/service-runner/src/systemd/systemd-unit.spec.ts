import { describe, expect, it } from 'vitest';
import { renderSystemdUnit } from './systemd-unit';

const unit = (): string => renderSystemdUnit({ execStart: ['/usr/bin/node', '/opt/fleetvisor/bin/fleetvisor.js', 'start'], user: 'lava', workingDirectory: '/home/lava', environmentFile: '/home/lava/.fleetvisor/runner.env', stopGraceMs: 10_000 });
const settings = (text: string, key: string): string[] => text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

describe('the runner systemd unit', () => {
  it('signals only the runner on stop and restart, so the services it supervises outlive it (live-restore)', () => {
    const u = unit();
    // process: systemd kills the main process only; mixed or control-group would SIGKILL the lavap children.
    expect(settings(u, 'KillMode')).toEqual(['process']);
    expect(settings(u, 'KillSignal')).toEqual(['SIGTERM']);
    expect(settings(u, 'Restart')).toEqual(['always']);
    // The runner's own stop (live-restore off) still gets its grace before systemd's SIGKILL.
    expect(Number(settings(u, 'TimeoutStopSec')[0])).toBeGreaterThan(10);
  });
});
