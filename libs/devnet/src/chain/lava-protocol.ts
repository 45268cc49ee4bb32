// The wire format of Lava's protocol params query, `/lavanet.lava.protocol.Query/Params`, encoded
// and decoded by hand (no generated code for Lava ships with cosmjs-types). Field numbers as in
// lavanet/lava proto/lavanet/lava/protocol/{query,params}.proto:
//   QueryParamsResponse { Params params = 1 (non-nullable) }
//   Params              { Version version = 1 (non-nullable) }
//   Version             { string provider_target = 1; string provider_min = 2;
//                         string consumer_target = 3; string consumer_min = 4; }
// The chain node encodes with it; the chain-watcher decodes with it. The decoder is strict about
// what would make the answer meaningless (truncation, wrong wire types, invalid UTF-8) and skips
// fields it does not know, as protobuf readers do, so a newer Params with more fields still decodes.
import { BinaryReader, BinaryWriter, WireType } from 'cosmjs-types/binary';
import type { LavaVersionParams } from './api';

export const LAVA_PARAMS_QUERY_PATH = '/lavanet.lava.protocol.Query/Params';

/** Raised when bytes are not a well-formed QueryParamsResponse. */
export class LavaParamsDecodeError extends Error {
  override name = 'LavaParamsDecodeError';
}

const VERSION_FIELDS = ['providerTarget', 'providerMin', 'consumerTarget', 'consumerMin'] as const;

export function encodeLavaVersion(v: LavaVersionParams, writer: BinaryWriter = BinaryWriter.create()): BinaryWriter {
  VERSION_FIELDS.forEach((key, i) => {
    // proto3: empty strings are the default and are not written.
    if (v[key] !== '') writer.uint32(((i + 1) << 3) | WireType.Bytes).string(v[key]);
  });
  return writer;
}

/** QueryParamsResponse bytes as Lava's gogoproto marshals them (non-nullable messages always present). */
export function encodeLavaParamsResponse(v: LavaVersionParams): Uint8Array {
  const w = BinaryWriter.create();
  w.uint32((1 << 3) | WireType.Bytes).fork(); // params
  w.uint32((1 << 3) | WireType.Bytes).fork(); // params.version
  encodeLavaVersion(v, w);
  w.ldelim();
  w.ldelim();
  return w.finish();
}

/** The QueryParamsRequest is an empty message. */
export function encodeLavaParamsRequest(): Uint8Array {
  return new Uint8Array(0);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the fields of one message in [reader.pos, end), calling `field` for each known one. */
function readMessage(reader: BinaryReader, end: number, field: (no: number, wireType: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (no === 0) throw new LavaParamsDecodeError(`invalid field number 0 at offset ${reader.pos}`);
    if (!field(no, wireType)) reader.skipType(wireType);
  }
  if (reader.pos !== end) throw new LavaParamsDecodeError('a field runs past the end of its message');
}

function delimitedEnd(reader: BinaryReader, end: number, what: string): number {
  const len = reader.uint32();
  const stop = reader.pos + len;
  if (stop > end) throw new LavaParamsDecodeError(`${what}: length ${len} runs past the end of the data`);
  return stop;
}

function expectBytes(wireType: number, what: string): void {
  if (wireType !== WireType.Bytes) throw new LavaParamsDecodeError(`${what}: expected a length-delimited field, got wire type ${wireType}`);
}

function readVersion(reader: BinaryReader, end: number): LavaVersionParams {
  const v: LavaVersionParams = { providerTarget: '', providerMin: '', consumerTarget: '', consumerMin: '' };
  readMessage(reader, end, (no, wireType) => {
    const key = VERSION_FIELDS[no - 1];
    if (!key) return false;
    expectBytes(wireType, `Version.${key}`);
    const stop = delimitedEnd(reader, end, `Version.${key}`);
    try {
      v[key] = utf8.decode(reader.buf.subarray(reader.pos, stop));
    } catch {
      throw new LavaParamsDecodeError(`Version.${key}: not valid UTF-8`);
    }
    reader.pos = stop;
    return true;
  });
  return v;
}

/**
 * Decodes QueryParamsResponse bytes into the version params. Missing messages or fields decode
 * to empty strings (proto3 defaults); malformed bytes throw LavaParamsDecodeError.
 */
export function decodeLavaParamsResponse(bytes: Uint8Array): LavaVersionParams {
  const reader = new BinaryReader(bytes);
  let version: LavaVersionParams = { providerTarget: '', providerMin: '', consumerTarget: '', consumerMin: '' };
  try {
    readMessage(reader, bytes.length, (no, wireType) => {
      if (no !== 1) return false;
      expectBytes(wireType, 'QueryParamsResponse.params');
      const paramsEnd = delimitedEnd(reader, bytes.length, 'QueryParamsResponse.params');
      readMessage(reader, paramsEnd, (pno, pwire) => {
        if (pno !== 1) return false;
        expectBytes(pwire, 'Params.version');
        version = readVersion(reader, delimitedEnd(reader, paramsEnd, 'Params.version'));
        return true;
      });
      return true;
    });
  } catch (e) {
    if (e instanceof LavaParamsDecodeError) throw e;
    // BinaryReader's own errors: truncated varints, lengths past the buffer, bad wire types.
    throw new LavaParamsDecodeError(`malformed QueryParamsResponse: ${(e as Error).message}`);
  }
  return version;
}
