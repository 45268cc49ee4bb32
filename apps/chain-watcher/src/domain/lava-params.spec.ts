import { describe, expect, it } from 'vitest';
import { BinaryWriter } from 'cosmjs-types/binary';
import { encodeLavaParamsResponse } from '@fleetvisor/devnet';
import { decodeLavaParams, ParamsDecodeError } from './lava-params';

const V = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.3', consumerMin: '0.22.1' };

describe('decodeLavaParams', () => {
  it('reads the four version fields as Lava encodes them', () => {
    expect(decodeLavaParams(encodeLavaParamsResponse(V))).toEqual(V);
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
    expect(decodeLavaParams(w.finish())).toEqual({ providerTarget: '1.2.3', providerMin: '', consumerTarget: '', consumerMin: '' });
  });

  it('gives empty strings for an empty response (validation refuses them later)', () => {
    expect(decodeLavaParams(new Uint8Array(0))).toEqual({ providerTarget: '', providerMin: '', consumerTarget: '', consumerMin: '' });
  });

  it('refuses truncated bytes, wrong wire types and invalid UTF-8', () => {
    const good = encodeLavaParamsResponse(V);
    expect(() => decodeLavaParams(good.subarray(0, good.length - 3))).toThrow(ParamsDecodeError);
    expect(() => decodeLavaParams(Uint8Array.from([(1 << 3) | 0, 5]))).toThrow(/wire type 0/);
    const w = BinaryWriter.create();
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).bytes(Uint8Array.from([0xff, 0xfe])).ldelim().ldelim();
    expect(() => decodeLavaParams(w.finish())).toThrow(/not valid UTF-8/);
    expect(() => decodeLavaParams(Uint8Array.from([0xff, 0xff, 0xff]))).toThrow(ParamsDecodeError);
  });
});
