import { describe, expect, it } from 'vitest';
import { silentText } from './services.command';

describe('services list --fleet: silent hosts', () => {
  it('adds one line per silent host, with its last heartbeat and how long ago', () => {
    const now = Date.parse('2026-12-01T00:08:00.000Z');
    const text = silentText(
      [
        { host: 'h3', state: 'expired', lastSeen: '2026-12-01T00:07:00.000Z', since: '2026-12-01T00:07:30.000Z' },
        { host: 'h2', state: 'expired', lastSeen: '2026-12-01T00:05:00.000Z', since: '2026-12-01T00:07:00.000Z' },
      ],
      now,
    );
    expect(text).toBe('host h2: silent since 2026-12-01T00:05:00.000Z (no heartbeat for 3m0s)\nhost h3: silent since 2026-12-01T00:07:00.000Z (no heartbeat for 1m0s)\n');
    expect(silentText([], now)).toBe('');
  });
});
