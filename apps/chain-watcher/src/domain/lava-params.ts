// Decodes the answer of Lava's `/lavanet.lava.protocol.Query/Params` ABCI query. No generated code
// for Lava ships with cosmjs-types, so the wire format is read here with cosmjs-types' BinaryReader
// (field numbers from lavanet/lava proto/lavanet/lava/protocol/{query,params}.proto):
//   QueryParamsResponse { Params params = 1 }   Params { Version version = 1 }
//   Version { string provider_target = 1; provider_min = 2; consumer_target = 3; consumer_min = 4 }
// Unknown fields are skipped (a newer Params with more fields still decodes); anything that makes the
// answer meaningless (truncation, a wrong wire type, invalid UTF-8) throws, so it becomes a
// ChainAnomaly rather than a version. Whether the strings are valid versions is not decided here.
import { BinaryReader } from 'cosmjs-types/binary';

export const LAVA_PARAMS_PATH = '/lavanet.lava.protocol.Query/Params';

export interface RawLavaVersion {
  providerTarget: string;
  providerMin: string;
  consumerTarget: string;
  consumerMin: string;
}

export class ParamsDecodeError extends Error {
  override name = 'ParamsDecodeError';
}

const LENGTH_DELIMITED = 2;
const FIELDS = ['providerTarget', 'providerMin', 'consumerTarget', 'consumerMin'] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Walks the fields of one message in [reader.pos, end); `onField` returns false to skip a field. */
function eachField(reader: BinaryReader, end: number, onField: (no: number, wireType: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const no = tag >>> 3;
    if (no === 0) throw new ParamsDecodeError('field number 0');
    if (!onField(no, tag & 7)) reader.skipType(tag & 7);
  }
  if (reader.pos !== end) throw new ParamsDecodeError('a field runs past the end of its message');
}

/** Reads the length of a length-delimited field and returns where it ends. */
function subMessageEnd(reader: BinaryReader, wireType: number, end: number, what: string): number {
  if (wireType !== LENGTH_DELIMITED) throw new ParamsDecodeError(`${what} has wire type ${wireType}, expected length-delimited`);
  const len = reader.uint32();
  const stop = reader.pos + len;
  if (stop > end) throw new ParamsDecodeError(`${what} claims ${len} bytes, more than remain`);
  return stop;
}

/**
 * The version in a QueryParamsResponse. Missing fields are empty strings (proto3 defaults), which
 * validation then refuses. Throws ParamsDecodeError for bytes that are not a QueryParamsResponse.
 */
export function decodeLavaParams(bytes: Uint8Array): RawLavaVersion {
  const version: RawLavaVersion = { providerTarget: '', providerMin: '', consumerTarget: '', consumerMin: '' };
  const reader = new BinaryReader(bytes);
  try {
    eachField(reader, bytes.length, (no, wt) => {
      if (no !== 1) return false;
      const paramsEnd = subMessageEnd(reader, wt, bytes.length, 'params');
      eachField(reader, paramsEnd, (pno, pwt) => {
        if (pno !== 1) return false;
        const versionEnd = subMessageEnd(reader, pwt, paramsEnd, 'params.version');
        eachField(reader, versionEnd, (vno, vwt) => {
          const key = FIELDS[vno - 1];
          if (!key) return false;
          const stop = subMessageEnd(reader, vwt, versionEnd, `version.${key}`);
          try {
            version[key] = utf8.decode(reader.buf.subarray(reader.pos, stop));
          } catch {
            throw new ParamsDecodeError(`version.${key} is not valid UTF-8`);
          }
          reader.pos = stop;
          return true;
        });
        return true;
      });
      return true;
    });
  } catch (e) {
    if (e instanceof ParamsDecodeError) throw e;
    // BinaryReader's own complaints: truncated varint, skip past the end, unknown wire type.
    throw new ParamsDecodeError(`not a QueryParamsResponse: ${(e as Error).message}`);
  }
  return version;
}
