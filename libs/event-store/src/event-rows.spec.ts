import { describe, expect, it } from 'vitest';
import { compareRowPositions, lastCheckpointOf, occurredAtIso, parseEventBatch, type EventRow } from './event-rows';

const row = (tx: string, gp: string, data: unknown = { n: 1 }): EventRow => [tx, gp, '0190a4c2-7d3e-7c4b-9a1f-3e2d1c0b9a88', 's-1', 1, 'Pinged', 1, data, {}, 1_795_852_800_000_000];
// As the server sends a batch: the rows of a JSON array without its brackets.
const raw = (rows: EventRow[]) => ({ count: rows.length, json: JSON.stringify(rows).slice(1, -1) });

describe('readAll batches as one JSON text', () => {
  it('decodes the rows and keeps log order (transaction id, then global position, compared as numbers)', () => {
    const rows = [row('9', '100'), row('10', '7'), row('10', '12')];
    expect(parseEventBatch(raw(rows))).toEqual(rows);
    // Out of order (the server promised none, but the reader must not depend on it): sorted.
    expect(parseEventBatch(raw([row('10', '12'), row('9', '100'), row('10', '7')])).map((r) => `${r[0]}:${r[1]}`)).toEqual(['9:100', '10:7', '10:12']);
    expect(parseEventBatch({ count: 0, json: null })).toEqual([]);
    expect(compareRowPositions(row('99', '1'), row('100', '0'))).toBeLessThan(0);
  });

  it('reads the last checkpoint off the end of the text, past payloads that contain brackets and quotes', () => {
    const tricky = { list: ['["1","2","x"]', '[', '"]'], nested: [[1, 2], ['a']] };
    expect(lastCheckpointOf(raw([row('7', '8'), row('7', '9', tricky)]))).toBe('7:9');
    expect(lastCheckpointOf(raw([row('123456789012', '98765432109876')]))).toBe('123456789012:98765432109876');
    expect(lastCheckpointOf({ count: 0, json: null })).toBeUndefined();
  });

  it('a payload that imitates a row start can only make the guess wrong, never the decoded batch', () => {
    // Inside a string the quotes are escaped and cannot imitate anything ...
    expect(lastCheckpointOf(raw([row('1', '2'), row('3', '4', { s: '["5","6","0190a4c2-7d3e-7c4b-9a1f-3e2d1c0b9a88",' })]))).toBe('3:4');
    // ... but an array of strings in a payload can.
    const batch = raw([row('1', '2'), row('3', '4', { a: ['5', '6', '0190a4c2-7d3e-7c4b-9a1f-3e2d1c0b9a88', 'x'] })]);
    // The guess is fooled (it is only used to start a read-ahead, served only if it matches) ...
    expect(lastCheckpointOf(batch)).toBe('5:6');
    // ... the decoded batch is what it is.
    expect(parseEventBatch(batch).at(-1)!.slice(0, 2)).toEqual(['3', '4']);
  });

  it('reads the first row of a batch too (the text starts with it, there is no bracket before it)', () => {
    expect(lastCheckpointOf(raw([row('41', '42')]))).toBe('41:42');
    expect(lastCheckpointOf({ count: 1, json: 'not a row' })).toBeUndefined();
  });

  it('formats occurred_at microseconds as the envelope has it: UTC, milliseconds, the rest cut', () => {
    expect(occurredAtIso(1_795_852_800_000_000)).toBe('2026-11-28T08:00:00.000Z');
    expect(occurredAtIso(1_795_852_800_123_999)).toBe('2026-11-28T08:00:00.123Z');
    // Before 1970 the cut goes down too, not towards zero.
    expect(occurredAtIso(-500)).toBe('1969-12-31T23:59:59.999Z');
    // The formatted minute is only reused inside that minute.
    expect(occurredAtIso(-500)).toBe('1969-12-31T23:59:59.999Z');
    expect(occurredAtIso(1_000)).toBe('1970-01-01T00:00:00.001Z');
    expect(parseEventBatch(raw([row('1', '2')]))[0]![9]).toBe(1_795_852_800_000_000);
    // The same text as Date#toISOString, across minute, day and year boundaries and far years.
    const samples = [0, 59_999_999, 60_000_000, -1, -60_000_001, 1_798_761_599_999_999, 1_798_761_600_000_000, 253_402_300_799_999_000, 253_402_300_800_000_000, -62_167_219_200_000_001];
    for (let i = 0; i < 5_000; i++) samples.push(1_795_852_800_000_000 + i * 12_345_678_901);
    for (const us of samples) expect(occurredAtIso(us)).toBe(new Date(Math.floor(us / 1000)).toISOString());
  });
});
