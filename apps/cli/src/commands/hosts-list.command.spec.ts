import { describe, expect, it } from 'vitest';
import { formatHostsList } from './hosts-list.command';

describe('hosts list', () => {
  it('shows each host online, SILENT since when, or offline, with its last heartbeat and version', () => {
    const now = Date.parse('2026-12-01T00:10:00.000Z');
    const out = formatHostsList(
      [
        { host: 'h1', state: 'online', lastSeen: '2026-12-01T00:09:50.000Z', since: '2026-12-01T00:00:00.000Z', version: '0.2.0', services: 2 },
        { host: 'h2', state: 'expired', lastSeen: '2026-12-01T00:05:00.000Z', since: '2026-12-01T00:07:00.000Z', version: '0.2.0' },
        { host: 'h3', state: 'offline', lastSeen: '2026-12-01T00:01:00.000Z', since: '2026-12-01T00:01:00.000Z' },
      ],
      now,
    );
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+STATE\s+LAST SEEN\s+VERSION$/);
    expect(lines[1]).toMatch(/^h1\s+online\s+2026-12-01 00:09:50 \(10s ago\)\s+0\.2\.0$/);
    expect(lines[2]).toMatch(/^h2\s+SILENT since 2026-12-01 00:07:00\s+2026-12-01 00:05:00 \(5m00s ago\)\s+0\.2\.0$/);
    expect(lines[3]).toMatch(/^h3\s+offline since 2026-12-01 00:01:00\s+2026-12-01 00:01:00 \(9m00s ago\)\s+-$/);
    expect(formatHostsList([], now)).toMatch(/no host has reported/);
  });
});
