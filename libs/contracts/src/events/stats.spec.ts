import { describe, expect, it } from 'vitest';
import { fleetEvents } from './index';
import { exampleEnvelope, EVENT_EXAMPLES } from './examples';

describe('ApiCallsRecorded', () => {
  it('upcasts a version-1 record: one record per method, caller = the source, component = the target', () => {
    const r = fleetEvents.parse(exampleEnvelope('ApiCallsRecorded', 1));
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.version).toBe(2);
    expect(r.value.data).toEqual({
      source: 'damocles-manager',
      windowStart: '2025-01-15T08:00:00.000Z',
      windowSeconds: 60,
      part: 0,
      records: [
        { caller: 'damocles-manager', component: 'venus-messager', method: 'MpoolPushMessage', calls: 12, errors: 0 },
        { caller: 'damocles-manager', component: 'venus-messager', method: 'StateSearchMsg', calls: 40, errors: 0 },
      ],
    });
  });

  it('keeps a version-1 record of a storage provider in its stream (the miner id becomes the source)', () => {
    const v1 = exampleEnvelope('ApiCallsRecorded', 1);
    const r = fleetEvents.parse({ ...v1, stream: 'stats-t01000', data: { ...(v1.data as object), minerId: 't01000' } });
    if (!r.ok) throw new Error(r.reason);
    const data = r.value.data as typeof EVENT_EXAMPLES.ApiCallsRecorded;
    expect(data.source).toBe('t01000');
    expect(data.records.map((x) => x.caller)).toEqual(['t01000-damocles-manager', 't01000-damocles-manager']);
  });

  it('refuses a caller that could not name a stream', () => {
    const env = exampleEnvelope('ApiCallsRecorded');
    const rec = { ...EVENT_EXAMPLES.ApiCallsRecorded.records[1]!, caller: 'a b' };
    const r = fleetEvents.parse({ ...env, data: { ...EVENT_EXAMPLES.ApiCallsRecorded, records: [rec] } });
    expect(r.ok ? '' : r.reason).toMatch(/^ApiCallsRecorded data at \/records\/0\/caller:/);
  });
});

describe('CallRateAnomaly / CallRateRecovered', () => {
  it('refuse a band whose low is above its high', () => {
    for (const type of ['CallRateAnomaly', 'CallRateRecovered'] as const) {
      const env = exampleEnvelope(type);
      const r = fleetEvents.parse({ ...env, data: { ...(env.data as object), band: { low: 7, high: 6, median: 6, historyMinutes: 60 } } });
      expect(r.ok ? '' : r.reason).toBe(`${type} data: band.low 7 is above band.high 6`);
    }
  });
});
