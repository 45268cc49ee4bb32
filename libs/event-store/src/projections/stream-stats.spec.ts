import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@fleetvisor/contracts';
import { foldStreamStats } from './stream-stats';

function recorded(stream: string, type: string, streamVersion: number, globalPosition: number): RecordedEvent {
  return {
    id: `00000000-0000-7000-8000-${String(globalPosition).padStart(12, '0')}`,
    type,
    stream,
    version: 1,
    data: {},
    metadata: {},
    occurredAt: `2026-01-01T00:00:${String(globalPosition % 60).padStart(2, '0')}.000Z`,
    streamVersion,
    globalPosition: String(globalPosition),
    checkpoint: `1:${globalPosition}`,
  };
}

describe('foldStreamStats', () => {
  it('counts events per type and keeps the head of each stream', () => {
    const delta = foldStreamStats([
      recorded('host-a', 'Pinged', 1, 10),
      recorded('host-b', 'Pinged', 1, 11),
      recorded('host-a', 'Noted', 2, 12),
      recorded('host-a', 'Pinged', 3, 13),
    ]);
    expect(delta.types).toEqual([
      { type: 'Pinged', count: 3, lastGlobalPosition: '13' },
      { type: 'Noted', count: 1, lastGlobalPosition: '12' },
    ]);
    expect(delta.streams).toEqual([
      { streamId: 'host-a', events: 3, lastVersion: 3, lastGlobalPosition: '13', lastType: 'Pinged', lastOccurredAt: '2026-01-01T00:00:13.000Z' },
      { streamId: 'host-b', events: 1, lastVersion: 1, lastGlobalPosition: '11', lastType: 'Pinged', lastOccurredAt: '2026-01-01T00:00:11.000Z' },
    ]);
  });

  it('takes the stream head by stream version, not by arrival', () => {
    const delta = foldStreamStats([recorded('host-a', 'Noted', 5, 30), recorded('host-a', 'Pinged', 4, 20)]);
    expect(delta.streams[0]).toMatchObject({ events: 2, lastVersion: 5, lastType: 'Noted', lastGlobalPosition: '30' });
  });

  it('folds nothing from an empty batch', () => {
    expect(foldStreamStats([])).toEqual({ types: [], streams: [] });
  });
});
