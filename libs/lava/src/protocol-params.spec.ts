import { describe, expect, it } from 'vitest';
import { BinaryWriter } from 'cosmjs-types/binary';
import type { ProtocolVersion } from '@fleetvisor/contracts';
import { decodeLavaProtocolVersion, decodeLavaVersionFields, LavaParamsError } from './protocol-params';

const V: ProtocolVersion = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.3', consumerMin: '0.22.1' };
const EMPTY = { providerTarget: '', providerMin: '', consumerTarget: '', consumerMin: '' };

/** QueryParamsResponse{ params: Params{ version: Version{...} } } as Lava marshals it. */
function encode(v: Partial<ProtocolVersion>): Uint8Array {
  const w = BinaryWriter.create();
  w.uint32((1 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).fork();
  (['providerTarget', 'providerMin', 'consumerTarget', 'consumerMin'] as const).forEach((k, i) => {
    if (v[k] !== undefined) w.uint32(((i + 1) << 3) | 2).string(v[k]);
  });
  w.ldelim();
  w.ldelim();
  return w.finish();
}

function refusal(bytes: Uint8Array): LavaParamsError {
  try {
    decodeLavaProtocolVersion(bytes);
  } catch (e) {
    if (e instanceof LavaParamsError) return e;
    throw e;
  }
  throw new Error('expected a LavaParamsError');
}

describe('decodeLavaVersionFields', () => {
  it('reads the four version fields as Lava encodes them', () => {
    expect(decodeLavaVersionFields(encode(V))).toEqual(V);
  });

  it('skips unknown fields at every level (a newer Params still decodes)', () => {
    const w = BinaryWriter.create();
    w.uint32((7 << 3) | 0).uint64(99n); // unknown varint in the response
    w.uint32((1 << 3) | 2).fork();
    w.uint32((2 << 3) | 2).string('epoch'); // unknown field in Params
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string('1.2.3');
    w.uint32((9 << 3) | 2).string('future');
    w.ldelim();
    w.ldelim();
    expect(decodeLavaVersionFields(w.finish())).toEqual({ ...EMPTY, providerTarget: '1.2.3' });
  });

  it('gives empty strings for an empty response (proto3 defaults; validation refuses them)', () => {
    expect(decodeLavaVersionFields(new Uint8Array(0))).toEqual(EMPTY);
  });

  it('refuses truncated bytes, wrong wire types and invalid UTF-8 as malformed, keeping the bytes', () => {
    const good = encode(V);
    const truncated = good.subarray(0, good.length - 3);
    expect(() => decodeLavaVersionFields(truncated)).toThrow(LavaParamsError);
    expect(() => decodeLavaVersionFields(Uint8Array.from([(1 << 3) | 0, 5]))).toThrow(/params has wire type 0/);
    const w = BinaryWriter.create();
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).bytes(Uint8Array.from([0xff, 0xfe])).ldelim().ldelim();
    expect(() => decodeLavaVersionFields(w.finish())).toThrow(/version.providerTarget is not valid UTF-8/);
    const garbage = Uint8Array.from([0xff, 0xff, 0xff]);
    expect(refusal(garbage)).toMatchObject({ kind: 'malformed_response', raw: garbage });
    expect(refusal(truncated)).toMatchObject({ kind: 'malformed_response', raw: truncated });
  });
});

describe('decodeLavaProtocolVersion', () => {
  it('returns the version the chain accepts', () => {
    expect(decodeLavaProtocolVersion(encode(V))).toEqual(V);
    // Numeric comparison: min 0.9.9 <= target 0.10.0.
    expect(decodeLavaProtocolVersion(encode({ ...V, providerMin: '0.9.9', providerTarget: '0.10.0' }))).toMatchObject({ providerTarget: '0.10.0' });
  });

  it.each([
    [{ ...V, providerTarget: 'v0.23.2' }, 'invalid_version', /providerTarget "v0.23.2" is not a strict X.Y.Z/],
    [{ ...V, consumerTarget: '0.23.2-rc1' }, 'invalid_version', /consumerTarget/],
    [{ ...V, consumerMin: undefined }, 'invalid_version', /consumerMin "" is not a strict/],
    [{ ...V, providerMin: '0.30.0' }, 'min_above_target', /providerMin 0.30.0 is above providerTarget 0.23.2/],
  ])('refuses %j as %s, naming the field and keeping the decoded fields', (v, kind, reason) => {
    const e = refusal(encode(v));
    expect(e.kind).toBe(kind);
    expect(e.message).toMatch(reason);
    expect(e.raw).toEqual({ ...EMPTY, ...Object.fromEntries(Object.entries(v).filter(([, s]) => s !== undefined)) });
  });
});
