import { describe, expect, it } from 'vitest';
import { bandRows, compareVersions, formatElapsed, seriesRows, versionStanding } from './format';

describe('dashboard formatting', () => {
  it('formats elapsed times the way the CLI does, and refuses nonsense', () => {
    expect(formatElapsed(4_200)).toBe('4s');
    expect(formatElapsed(125_000)).toBe('2m05s');
    expect(formatElapsed(3 * 3_600_000 + 60_000)).toBe('3h01m');
    expect(formatElapsed(50 * 3_600_000)).toBe('2d02h');
    expect(formatElapsed(-1)).toBe('-');
  });

  it('compares versions numerically and places a running version against target and min', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('v2.0', '2.0.0')).toBe(0);
    expect(versionStanding('5.2.1', '5.2.1', '5.0.0')).toBe('current');
    expect(versionStanding('5.1.0', '5.2.1', '5.0.0')).toBe('behind');
    expect(versionStanding('4.9.0', '5.2.1', '5.0.0')).toBe('below_min');
    expect(versionStanding('5.3.0', '5.2.1', '5.0.0')).toBe('ahead');
    expect(versionStanding(undefined, '5.2.1', '5.0.0')).toBe('unknown');
  });

  it("turns a band's rates into one chart row a minute", () => {
    expect(bandRows('2026-12-07T10:58:00.000Z', [2.5, 3, 30.1])).toEqual([
      { time: '10:58', rate: 2.5 },
      { time: '10:59', rate: 3 },
      { time: '11:00', rate: 30.1 },
    ]);
  });

  it('turns series into one chart row per step', () => {
    const rows = seriesRows('2026-12-07T10:00:00.000Z', 3600, [
      { key: 'f01', points: [1, 2] },
      { key: 'f02', points: [3] },
    ]);
    expect(rows).toEqual([
      { time: '12-07 10:00', f01: 1, f02: 3 },
      { time: '12-07 11:00', f01: 2, f02: 0 },
    ]);
  });
});
