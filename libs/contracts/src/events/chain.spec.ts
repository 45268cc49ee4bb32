import { describe, expect, it } from 'vitest';
import {
  CHAIN_ANOMALY_KINDS,
  CHAIN_ANOMALY_RAW_MAX,
  compareStrictVersions,
  ENDPOINT_PATTERN,
  isProtocolVersion,
  parseStrictVersion,
  redactEndpoint,
  truncateRaw,
  validateProtocolVersion,
} from './chain';

const PV = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };

describe('validateProtocolVersion', () => {
  it('accepts strict X.Y.Z with min <= target (equal included)', () => {
    expect(validateProtocolVersion(PV)).toEqual({ ok: true, value: PV });
    const same = { providerTarget: '1.0.0', providerMin: '1.0.0', consumerTarget: '0.0.0', consumerMin: '0.0.0' };
    expect(validateProtocolVersion(same).ok).toBe(true);
    expect(isProtocolVersion(PV)).toBe(true);
  });

  it('compares numerically, not as text', () => {
    expect(validateProtocolVersion({ ...PV, providerMin: '0.9.9', providerTarget: '0.10.0' }).ok).toBe(true);
    expect(validateProtocolVersion({ ...PV, providerMin: '0.10.0', providerTarget: '0.9.9' })).toMatchObject({ ok: false, kind: 'min_above_target' });
    expect(validateProtocolVersion({ ...PV, consumerMin: '2.0.0', consumerTarget: '10.0.0' }).ok).toBe(true);
  });

  it('refuses min above target per role, naming the field', () => {
    expect(validateProtocolVersion({ ...PV, providerMin: '0.23.3' })).toEqual({
      ok: false,
      kind: 'min_above_target',
      field: 'providerMin',
      reason: 'providerMin 0.23.3 is above providerTarget 0.23.2',
    });
    expect(validateProtocolVersion({ ...PV, consumerMin: '1.0.0' })).toMatchObject({ ok: false, kind: 'min_above_target', field: 'consumerMin' });
    expect(isProtocolVersion({ ...PV, consumerMin: '1.0.0' })).toBe(false);
  });

  it.each(['v0.23.2', '0.23', '0.23.2.1', '0.23.2-rc.1', '0.23.2+build', '00.23.2', '0.023.2', ' 0.23.2', '0.23.2\n', '1234567890.0.0', ''])(
    'refuses the non-strict version %j as invalid_version',
    (bad) => {
      const r = validateProtocolVersion({ ...PV, consumerTarget: bad });
      expect(r).toMatchObject({ ok: false, kind: 'invalid_version', field: 'consumerTarget' });
      expect(!r.ok && r.reason).toMatch(/^consumerTarget ".*" is not a strict X\.Y\.Z version$/s);
    },
  );

  it('refuses a malformed value as malformed_response', () => {
    expect(validateProtocolVersion(null)).toMatchObject({ ok: false, kind: 'malformed_response' });
    expect(validateProtocolVersion(['0.1.0'])).toMatchObject({ ok: false, kind: 'malformed_response' });
    expect(validateProtocolVersion('0.23.2')).toMatchObject({ ok: false, kind: 'malformed_response' });
    const { providerMin: _m, ...missing } = PV;
    expect(validateProtocolVersion(missing)).toEqual({ ok: false, kind: 'malformed_response', field: 'providerMin', reason: 'providerMin is missing' });
    expect(validateProtocolVersion({ ...PV, providerTarget: 23 })).toMatchObject({ kind: 'malformed_response', reason: 'providerTarget is not a string' });
    expect(validateProtocolVersion({ ...PV, provider_target: '0.1.0' })).toMatchObject({ kind: 'malformed_response', reason: expect.stringMatching(/unexpected field "provider_target"/) });
  });

  it('failure kinds are ChainAnomaly kinds', () => {
    for (const kind of ['malformed_response', 'invalid_version', 'min_above_target']) expect(CHAIN_ANOMALY_KINDS).toContain(kind);
  });

  it('keeps long raw values short in its reason', () => {
    const r = validateProtocolVersion({ ...PV, providerTarget: 'x'.repeat(10_000) });
    expect(!r.ok && r.reason.length).toBeLessThan(120);
  });
});

describe('strict versions', () => {
  it('parse and compare', () => {
    expect(parseStrictVersion('1.20.3')).toEqual([1, 20, 3]);
    expect(parseStrictVersion('v1.20.3')).toBeUndefined();
    expect(compareStrictVersions('0.9.9', '0.10.0')).toBe(-1);
    expect(compareStrictVersions('1.0.0', '0.99.99')).toBe(1);
    expect(compareStrictVersions('2.3.4', '2.3.4')).toBe(0);
    expect(() => compareStrictVersions('2.3', '2.3.4')).toThrow('not a strict X.Y.Z version: "2.3"');
  });
});

describe('truncateRaw', () => {
  it('keeps short strings, encodes bytes and values', () => {
    expect(truncateRaw('abc')).toBe('abc');
    expect(truncateRaw(new Uint8Array([1, 2, 3]))).toBe('base64:AQID');
    expect(truncateRaw({ a: 1 })).toBe('{"a":1}');
    expect(truncateRaw(undefined)).toBe('undefined');
    const circular: { self?: unknown } = {};
    circular.self = circular;
    expect(truncateRaw(circular)).toBe('[object Object]');
  });

  it('cuts long values to the limit and says how much is missing', () => {
    for (const n of [CHAIN_ANOMALY_RAW_MAX + 1, 10_000, 1_000_000]) {
      const out = truncateRaw('y'.repeat(n));
      expect(out.length).toBeLessThanOrEqual(CHAIN_ANOMALY_RAW_MAX);
      const dropped = Number(/…\[\+(\d+) chars\]$/.exec(out)![1]);
      expect(out.length - `…[+${dropped} chars]`.length + dropped).toBe(n);
    }
    expect(truncateRaw('z'.repeat(50), 20)).toMatch(/^z+…\[\+\d+ chars\]$/);
  });
});

describe('redactEndpoint', () => {
  it('drops user info, query and fragment', () => {
    expect(redactEndpoint('https://user:secret@rpc.example.com:8443/lava/rpc?apikey=abc#x')).toBe('https://rpc.example.com:8443/lava/rpc');
    expect(redactEndpoint('http://127.0.0.1:26657')).toBe('http://127.0.0.1:26657');
    expect(redactEndpoint('ws://node:26657/websocket')).toBe('ws://node:26657/websocket');
  });

  it('gives something the ChainAnomaly endpoint pattern accepts', () => {
    const re = new RegExp(ENDPOINT_PATTERN);
    for (const url of ['https://u:p@a.example/b?c=d', 'http://127.0.0.1:26657/', 'tcp://10.0.0.1:26657']) expect(redactEndpoint(url)).toMatch(re);
    expect('https://u:p@a.example/b').not.toMatch(re);
  });
});
