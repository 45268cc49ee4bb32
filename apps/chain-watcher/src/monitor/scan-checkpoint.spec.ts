import { describe, expect, it } from 'vitest';
import { isCheckpoint } from '@fleetvisor/event-store';
import { formatScanCheckpoint, parseScanCheckpoint, resumePoint, scanCheckpointName } from './scan-checkpoint';

describe('scan checkpoint', () => {
  it('is stored as <height>:<stream version>, a value the checkpoint store accepts, and read back', () => {
    const value = formatScanCheckpoint({ height: 1_234_567, streamVersion: 8 });
    expect(value).toBe('1234567:8');
    expect(isCheckpoint(value)).toBe(true);
    expect(parseScanCheckpoint(value)).toEqual({ height: 1_234_567, streamVersion: 8 });
    expect(parseScanCheckpoint('0:0')).toEqual({ height: 0, streamVersion: 0 });
    expect(parseScanCheckpoint('12')).toBeUndefined();
    expect(scanCheckpointName('lava-testnet-2')).toBe('chain-watcher:scanned:lava-testnet-2');
  });

  it('resumes after the last height on the record without a checkpoint, or with one not further', () => {
    const log = { lastHeight: 100, streamVersion: 3, hasVersion: true };
    expect(resumePoint(log, undefined)).toEqual({ from: 100 });
    expect(resumePoint(log, { height: 0, streamVersion: 0 })).toEqual({ from: 100 });
    expect(resumePoint(log, { height: 90, streamVersion: 2 })).toEqual({ from: 100 });
  });

  it('resumes after a further checkpoint, the blocks it skips to be checked against Params', () => {
    expect(resumePoint({ lastHeight: 100, streamVersion: 3, hasVersion: true }, { height: 5_000, streamVersion: 3 })).toEqual({
      from: 5_000,
      unverified: { from: 101, to: 5_000 },
    });
    // Saved before another replica recorded more: still true of the blocks it covers.
    expect(resumePoint({ lastHeight: 100, streamVersion: 5, hasVersion: true }, { height: 5_000, streamVersion: 3 }).from).toBe(5_000);
  });

  it('does not use a checkpoint saved on a longer log, nor one with no version on the record to check it against', () => {
    const behind = resumePoint({ lastHeight: 100, streamVersion: 1, hasVersion: true }, { height: 5_000, streamVersion: 3 });
    expect(behind).toMatchObject({ from: 100, ignored: expect.stringMatching(/log is behind the checkpoint/) });
    expect(behind.unverified).toBeUndefined();
    expect(resumePoint({ lastHeight: 100, streamVersion: 1, hasVersion: false }, { height: 5_000, streamVersion: 1 })).toMatchObject({ from: 100, ignored: expect.any(String) });
  });
});
