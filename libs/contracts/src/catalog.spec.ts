import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { ContractViolationError, EventCatalog } from './catalog';
import { defineEvent } from './define-event';
import type { EventEnvelope } from './envelope';
import { fleetEvents } from './events';
import { exampleEnvelope, EVENT_EXAMPLES } from './events/examples';

type Types = keyof typeof EVENT_EXAMPLES;

/** A valid envelope of `type`, with `data` changed by `patch` and the envelope by `env`. */
function event(type: Types, patch: Record<string, unknown> = {}, env: Partial<Record<keyof EventEnvelope, unknown>> = {}): unknown {
  const base = exampleEnvelope(type);
  return { ...base, data: { ...(base.data as object), ...patch }, ...env };
}

function reason(raw: unknown): string {
  const r = fleetEvents.parse(raw);
  if (r.ok) throw new Error('expected the catalog to refuse it');
  return r.reason;
}

const PV = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };

describe('EventCatalog.parse accepts', () => {
  it.each(Object.keys(EVENT_EXAMPLES) as Types[])('the example %s', (type) => {
    const env = exampleEnvelope(type);
    const r = fleetEvents.parse(env);
    expect(r).toEqual({ ok: true, value: env });
  });

  it('a first VersionChanged (previous null) and optional fields left out', () => {
    expect(fleetEvents.parse(event('VersionChanged', { previous: null })).ok).toBe(true);
    const { chainId: _c, ...noChain } = EVENT_EXAMPLES.UpgradeStarted;
    expect(fleetEvents.parse({ ...exampleEnvelope('UpgradeStarted'), data: noChain }).ok).toBe(true);
  });

  it('occurredAt with an offset, and an empty metadata', () => {
    expect(fleetEvents.parse(event('WorkerRemoved', {}, { occurredAt: '2025-01-15T10:00:00+02:00', metadata: {} })).ok).toBe(true);
  });
});

describe('EventCatalog.parse refuses, naming the field', () => {
  it('something that is not an envelope', () => {
    expect(reason(null)).toMatch(/^envelope/);
    expect(reason('VersionChanged')).toMatch(/^envelope/);
    expect(reason({})).toMatch(/^envelope at \/id: Expected required property/);
  });

  it('a bad uuid', () => {
    expect(reason(event('VersionChanged', {}, { id: 'not-a-uuid' }))).toMatch(/^envelope at \/id:/);
    expect(reason(event('VersionChanged', {}, { id: '0194-6A2B-3C00-7000-8000-000000000001' }))).toMatch(/^envelope at \/id:/);
  });

  it('an extra envelope, metadata or data property', () => {
    expect(reason(event('VersionChanged', {}, { extra: 1 } as never))).toBe('envelope at /extra: Unexpected property');
    expect(reason(event('VersionChanged', {}, { metadata: { password: 'x' } }))).toBe('envelope at /metadata/password: Unexpected property');
    expect(reason(event('VersionChanged', { extra: true }))).toBe('VersionChanged data at /extra: Unexpected property');
    expect(reason(event('VersionChanged', { current: { ...PV, patch: '1' } }))).toBe('VersionChanged data at /current/patch: Unexpected property');
  });

  it('an unknown type, or a type name of the wrong form', () => {
    expect(reason(event('VersionChanged', {}, { type: 'NoSuchEvent' }))).toBe('unknown event type "NoSuchEvent"');
    expect(reason(event('VersionChanged', {}, { type: 'versionChanged' }))).toMatch(/^envelope at \/type:/);
  });

  it('a stream of another area', () => {
    expect(reason(event('VersionChanged', {}, { stream: 'worker-w-01' }))).toBe('VersionChanged belongs in a chain-* stream, not "worker-w-01"');
    expect(reason(event('ThreadPaused', {}, { stream: 'service-host-01/consumer-ETH1' }))).toMatch(/belongs in a worker-\* stream/);
  });

  it('a stream that does not match the data', () => {
    expect(reason(event('VersionChanged', {}, { stream: 'chain-other-chain' }))).toBe(
      'VersionChanged for this data belongs in stream "chain-lava-testnet-2", not "chain-other-chain"',
    );
    expect(reason(event('ServiceStarted', {}, { stream: 'service-host-02/consumer-ETH1' }))).toMatch(/belongs in stream "service-host-01\/consumer-ETH1"/);
    expect(reason(event('ApiCallsRecorded', {}, { stream: 'stats-t01000' }))).toMatch(/belongs in stream "stats-damocles-manager"/);
  });

  it('a malformed stream name', () => {
    expect(reason(event('VersionChanged', {}, { stream: 'chain' }))).toMatch(/^envelope at \/stream:/);
    expect(reason(event('VersionChanged', {}, { stream: 'chain-../x y' }))).toMatch(/^envelope at \/stream:/);
  });

  it('a bad envelope version or time', () => {
    expect(reason(event('VersionChanged', {}, { version: 0 }))).toMatch(/^envelope at \/version:/);
    expect(reason(event('VersionChanged', {}, { version: 1.5 }))).toMatch(/^envelope at \/version:/);
    expect(reason(event('VersionChanged', {}, { occurredAt: '2025-13-45T00:00:00Z' }))).toMatch(/^envelope at \/occurredAt:/);
    expect(reason(event('VersionChanged', {}, { occurredAt: 'yesterday' }))).toMatch(/^envelope at \/occurredAt:/);
  });

  it('a version newer than this build knows', () => {
    expect(reason(event('VersionChanged', {}, { version: 2 }))).toBe('VersionChanged version 2 is newer than this build knows (1)');
  });

  it('a non-semver protocol version (prefix, prerelease, two parts, leading zero)', () => {
    for (const bad of ['v0.23.2', '0.23.2-rc1', '0.23', '0.023.2', '0.23.2 ', '']) {
      expect(reason(event('VersionChanged', { current: { ...PV, providerTarget: bad } }))).toMatch(/^VersionChanged data at \/current\/providerTarget:/);
    }
    expect(reason(event('VersionChanged', { previous: { ...PV, consumerMin: '1.0' } }))).toMatch(/^VersionChanged data at \/previous\/consumerMin:/);
  });

  it('min above target (validateProtocolVersion), in current or previous', () => {
    expect(reason(event('VersionChanged', { current: { ...PV, providerMin: '0.24.0' } }))).toBe(
      'VersionChanged data: current.providerMin 0.24.0 is above providerTarget 0.23.2',
    );
    expect(reason(event('VersionChanged', { current: { ...PV, consumerMin: '0.100.0', consumerTarget: '0.99.9' } }))).toBe(
      'VersionChanged data: current.consumerMin 0.100.0 is above consumerTarget 0.99.9',
    );
    expect(reason(event('VersionChanged', { previous: { ...PV, consumerMin: '1.0.0' } }))).toMatch(/^VersionChanged data: previous\.consumerMin 1\.0\.0 is above/);
  });

  it('a VersionChanged that changes nothing', () => {
    expect(reason(event('VersionChanged', { previous: PV, current: PV }))).toMatch(/current equals previous/);
  });

  it('a value outside an enum, listing the allowed ones', () => {
    expect(reason(event('ChainAnomaly', { kind: 'weird' }))).toMatch(/^ChainAnomaly data at \/kind: Expected one of "malformed_response", "invalid_version"/);
    expect(reason(event('UpgradeFailed', { stage: 'download' }))).toMatch(/^UpgradeFailed data at \/stage: Expected one of "obtain"/);
  });

  it('wrong types, missing fields, limits', () => {
    expect(reason(event('VersionChanged', { height: '12' }))).toMatch(/^VersionChanged data at \/height:/);
    expect(reason(event('VersionChanged', { height: 1.5 }))).toMatch(/^VersionChanged data at \/height:/);
    expect(reason(event('ServiceRestarted', { attempt: 0 }))).toMatch(/^ServiceRestarted data at \/attempt:/);
    expect(reason(event('ChainAnomaly', { raw: 'x'.repeat(5000) }))).toMatch(/^ChainAnomaly data at \/raw:/);
    const { reason: _r, ...noReason } = EVENT_EXAMPLES.UpgradeFailed;
    expect(reason({ ...exampleEnvelope('UpgradeFailed'), data: noReason })).toBe('UpgradeFailed data at /reason: Expected required property');
  });

  it('unsafe names (path traversal, separators) and credentials in endpoints', () => {
    expect(reason(event('ServiceCreated', { service: '../etc' }))).toMatch(/^ServiceCreated data at \/service:/);
    expect(reason(event('ServiceCreated', { configPath: '/home/x/../../etc/passwd' }))).toMatch(/^ServiceCreated data at \/configPath:/);
    expect(reason(event('ServiceCreated', { configPath: 'relative/config.yml' }))).toMatch(/^ServiceCreated data at \/configPath:/);
    expect(reason(event('ChainAnomaly', { endpoint: 'https://user:pw@rpc.example.com' }))).toMatch(/^ChainAnomaly data at \/endpoint:/);
    expect(reason(event('ChainAnomaly', { endpoint: 'https://rpc.example.com/?apikey=abc' }))).toMatch(/^ChainAnomaly data at \/endpoint:/);
  });

  it('rules of the type beyond JSON Schema', () => {
    expect(reason(event('ThreadStateChanged', { plan: 'unseal', prev: 'Allocated', next: 'PC1Done' }))).toMatch(
      /^ThreadStateChanged data: next "PC1Done" is not a state of plan unseal \(valid: Empty, Allocated, Unsealed, Finished, Aborted\)/,
    );
    expect(reason(event('ThreadPaused', { reason: 'error', lastError: undefined }))).toBe('ThreadPaused data: lastError is required when reason is "error"');
    expect(reason(event('ServiceExited', { code: null, signal: null }))).toMatch(/code and signal are both null/);
    // An adopted process (live-restore) ends without a status the runner can read: said so explicitly.
    expect(fleetEvents.parse(event('ServiceExited', { code: null, signal: null, statusUnknown: true })).ok).toBe(true);
    const rec = { caller: 't01000-sealer', component: 'venus', method: 'Filecoin.ChainHead', calls: 1, errors: 0 };
    expect(reason(event('ApiCallsRecorded', { records: [{ ...rec, errors: 1, transportErrors: 1 }] }))).toBe(
      'ApiCallsRecorded data: records/0: errors + transportErrors 2 is above calls 1',
    );
    expect(reason(event('ApiCallsRecorded', { records: [rec, { ...rec, calls: 2 }] }))).toMatch(/records\/1 repeats caller "t01000-sealer"/);
    expect(reason(event('ApiCallsRecorded', { records: [{ ...rec, latency: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }] }))).toMatch(/latency counts 2 calls, above calls 1/);
    expect(reason(event('ApiCallsRecorded', { records: [{ ...rec, latency: [1] }] }))).toMatch(/^ApiCallsRecorded data at \/records\/0\/latency:/);
  });
});

describe('EventCatalog', () => {
  it('assert returns the event or throws ContractViolationError with the reason', () => {
    const env = exampleEnvelope('WorkerRegistered');
    expect(fleetEvents.assert(env)).toBe(env);
    expect(() => fleetEvents.assert(event('WorkerRegistered', { threads: -1 }))).toThrow(ContractViolationError);
    try {
      fleetEvents.assert(event('WorkerRegistered', { threads: -1 }));
    } catch (e) {
      expect((e as ContractViolationError).reason).toMatch(/^WorkerRegistered data at \/threads:/);
    }
  });

  it('lists and finds its types; refuses a type defined twice', () => {
    expect(fleetEvents.types).toContain('VersionChanged');
    expect(fleetEvents.get('ThreadPaused')?.area).toBe('worker');
    expect(fleetEvents.get('Nope')).toBeUndefined();
    const a = defineEvent({ type: 'Twice', area: 'system', description: 'x', schema: Type.Object({}) });
    expect(() => new EventCatalog([a, a])).toThrow('event type Twice defined twice');
  });
});

describe('EventCatalog.fromLog (events read back from the log)', () => {
  const stored = (patch: Partial<Record<keyof EventEnvelope, unknown>>) => ({ ...exampleEnvelope('HostOnline'), ...patch }) as EventEnvelope;

  it('returns an event at the current version as stored, without checking it again', () => {
    // Invalid data on purpose: at the current version the log's own validation on append is trusted.
    const env = stored({ data: { anything: true } });
    const r = fleetEvents.fromLog(env);
    expect(r).toEqual({ ok: true, value: env });
    expect(r.ok && r.value).toBe(env);
  });

  it('upcasts and validates an older version', () => {
    const v1 = stored({ version: 1, data: { host: 'h', process: 'p', pid: 1, fleetvisorVersion: '' } });
    const r = fleetEvents.fromLog(v1);
    expect(r.ok && r.value).toMatchObject({ version: 2, data: { fleetvisorVersion: 'unknown' } });
    expect(fleetEvents.fromLog(stored({ version: 1, data: { host: 'h' } })).ok).toBe(false);
  });

  it('refuses an unknown type and a version newer than this build', () => {
    expect(fleetEvents.fromLog(stored({ type: 'Gone' }))).toEqual({ ok: false, reason: 'unknown event type "Gone"' });
    expect(fleetEvents.fromLog(stored({ version: 99 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/newer than this build/) });
  });
});
