import { BinaryWriter } from 'cosmjs-types/binary';
import { describe, expect, it } from 'vitest';
import { decodeParamsResponse } from './protocol-version-query';

function encode(v: [string, string, string, string], extraField = false): Uint8Array {
  const version = new BinaryWriter();
  v.forEach((s, i) => version.uint32(((i + 1) << 3) | 2).string(s));
  if (extraField) version.uint32((9 << 3) | 0).uint64(7n); // unknown fields are skipped
  const params = new BinaryWriter().uint32((1 << 3) | 2).bytes(version.finish());
  return new BinaryWriter().uint32((1 << 3) | 2).bytes(params.finish()).finish();
}

describe('QueryParamsResponse decoding', () => {
  it('reads Params.version', () => {
    expect(decodeParamsResponse(encode(['0.23.2', '0.22.0', '0.23.1', '0.21.0'], true))).toEqual({
      providerTarget: '0.23.2',
      providerMin: '0.22.0',
      consumerTarget: '0.23.1',
      consumerMin: '0.21.0',
    });
  });

  it('refuses a version the chain would not accept, naming the field', () => {
    expect(() => decodeParamsResponse(encode(['0.23.2', '0.24.0', '0.23.1', '0.21.0']))).toThrow(/providerMin 0.24.0 is above providerTarget/);
    expect(() => decodeParamsResponse(encode(['v1', '0.1.0', '0.1.0', '0.1.0']))).toThrow(/providerTarget/);
    expect(() => decodeParamsResponse(new Uint8Array())).toThrow(/unusable/);
  });
});

describe('QueryParamsResponse decoding: bytes that are not a QueryParamsResponse', () => {
  it('is a clear error naming the wire problem, never a version', () => {
    const good = encode(['0.23.2', '0.22.0', '0.23.1', '0.21.0']);
    expect(() => decodeParamsResponse(good.subarray(0, good.length - 2))).toThrow(/Params answer is malformed/);
    // Params sent as a varint: the lenient reader skipped it and reported empty version fields.
    expect(() => decodeParamsResponse(Uint8Array.from([(1 << 3) | 0, 5]))).toThrow(/malformed: params has wire type 0/);
    const badUtf8 = new BinaryWriter().uint32((1 << 3) | 2).bytes(Uint8Array.from([0xff, 0xfe])).finish();
    const params = new BinaryWriter().uint32((1 << 3) | 2).bytes(badUtf8).finish();
    expect(() => decodeParamsResponse(new BinaryWriter().uint32((1 << 3) | 2).bytes(params).finish())).toThrow(/providerTarget is not valid UTF-8/);
  });
});
