import { BinaryWriter } from 'cosmjs-types/binary';
import { describe, expect, it } from 'vitest';
import { decodeLavaParamsResponse, encodeLavaParamsResponse, LavaParamsDecodeError } from './lava-protocol';

const v = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.3', consumerMin: '0.22.1' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Lava QueryParamsResponse codec', () => {
  it('encodes field by field as Lava does: params=1 { version=1 { strings 1..4 } }', () => {
    const bytes = encodeLavaParamsResponse(v);
    // 0a <len> 0a <len> 0a 06 "0.23.2" 12 06 "0.22.0" 1a 06 "0.23.3" 22 06 "0.22.1"
    const inner = '0a06' + Buffer.from('0.23.2').toString('hex') + '1206' + Buffer.from('0.22.0').toString('hex') + '1a06' + Buffer.from('0.23.3').toString('hex') + '2206' + Buffer.from('0.22.1').toString('hex');
    expect(hex(bytes)).toBe('0a22' + '0a20' + inner);
  });

  it('round-trips', () => {
    expect(decodeLavaParamsResponse(encodeLavaParamsResponse(v))).toEqual(v);
  });

  it('writes empty messages for empty versions (non-nullable) and decodes them as empty strings', () => {
    const empty = { providerTarget: '', providerMin: '', consumerTarget: '', consumerMin: '' };
    expect(hex(encodeLavaParamsResponse(empty))).toBe('0a020a00');
    expect(decodeLavaParamsResponse(new Uint8Array(0))).toEqual(empty);
  });

  it('skips fields it does not know, at every level', () => {
    const w = BinaryWriter.create();
    w.uint32(0x12).string('future response field');
    w.uint32(0x0a).fork();
    w.uint32(0x10).uint64(7); // Params field 2 (varint)
    w.uint32(0x0a).fork();
    w.uint32(0x0a).string('1.0.0');
    w.uint32(0x2a).string('Version field 5');
    w.uint32(0x22).string('0.9.0');
    w.ldelim();
    w.ldelim();
    expect(decodeLavaParamsResponse(w.finish())).toEqual({ providerTarget: '1.0.0', providerMin: '', consumerTarget: '', consumerMin: '0.9.0' });
  });

  it('rejects truncated bytes', () => {
    const bytes = encodeLavaParamsResponse(v);
    for (const cut of [1, 3, 10, bytes.length - 1]) {
      expect(() => decodeLavaParamsResponse(bytes.subarray(0, cut)), `cut at ${cut}`).toThrow(LavaParamsDecodeError);
    }
  });

  it('rejects wrong wire types, invalid wire types and invalid UTF-8', () => {
    expect(() => decodeLavaParamsResponse(Uint8Array.from([0x08, 0x01]))).toThrow(/wire type 0/);
    expect(() => decodeLavaParamsResponse(Buffer.from('not protobuf'))).toThrow(LavaParamsDecodeError);
    expect(() => decodeLavaParamsResponse(Uint8Array.from([0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff]))).toThrow(/UTF-8/);
  });

  it('rejects a nested length running past its parent message', () => {
    // params says 4 bytes, version inside claims 6.
    expect(() => decodeLavaParamsResponse(Uint8Array.from([0x0a, 0x04, 0x0a, 0x06, 0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00]))).toThrow(LavaParamsDecodeError);
  });
});
