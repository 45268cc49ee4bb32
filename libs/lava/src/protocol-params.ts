// The answer of Lava's `/lavanet.lava.protocol.Query/Params` ABCI query, read strictly. No generated
// code for Lava ships with cosmjs-types, so the wire format is read with cosmjs-types' BinaryReader
// (field numbers from lavanet/lava proto/lavanet/lava/protocol/{query,params}.proto):
//   QueryParamsResponse { Params params = 1 }   Params { Version version = 1 }
//   Version { string provider_target = 1; provider_min = 2; consumer_target = 3; consumer_min = 4 }
// Unknown fields are skipped, so a newer Params with more fields still decodes. Anything that makes
// the answer meaningless (truncation, a wrong wire type, invalid UTF-8) is refused as malformed, and
// the version must be what the chain itself accepts: strict X.Y.Z, min <= target per role.
import { BinaryReader } from 'cosmjs-types/binary';
import { PROTOCOL_VERSION_FIELDS, validateProtocolVersion, type ChainAnomalyKind, type ProtocolVersion, type ProtocolVersionField } from '@fleetvisor/contracts';

export const LAVA_PARAMS_PATH = '/lavanet.lava.protocol.Query/Params';

/** The four version strings as the chain sent them, before validation. */
export type LavaVersionFields = Record<ProtocolVersionField, string>;

/**
 * Why an answer is not a usable protocol version. `kind` is the matching ChainAnomaly kind;
 * `raw` is what was refused: the bytes when they do not decode, else the decoded fields.
 */
export class LavaParamsError extends Error {
  override name = 'LavaParamsError';
  constructor(
    readonly kind: Extract<ChainAnomalyKind, 'malformed_response' | 'invalid_version' | 'min_above_target'>,
    readonly reason: string,
    readonly raw: Uint8Array | LavaVersionFields,
  ) {
    super(reason);
  }
}

/** Wire-level failure inside the decoder, turned into a LavaParamsError with the bytes. */
class MalformedParams extends Error {}

const LENGTH_DELIMITED = 2;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Walks the fields of one message in [reader.pos, end); `onField` returns false to skip a field. */
function eachField(reader: BinaryReader, end: number, onField: (no: number, wireType: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const no = tag >>> 3;
    if (no === 0) throw new MalformedParams('field number 0');
    if (!onField(no, tag & 7)) reader.skipType(tag & 7);
  }
  if (reader.pos !== end) throw new MalformedParams('a field runs past the end of its message');
}

/** Reads the length of a length-delimited field and returns where it ends. */
function fieldEnd(reader: BinaryReader, wireType: number, end: number, what: string): number {
  if (wireType !== LENGTH_DELIMITED) throw new MalformedParams(`${what} has wire type ${wireType}, expected length-delimited`);
  const len = reader.uint32();
  const stop = reader.pos + len;
  if (stop > end) throw new MalformedParams(`${what} claims ${len} bytes, more than remain`);
  return stop;
}

/**
 * The version strings of a QueryParamsResponse, not yet validated. Missing fields are empty
 * strings (proto3 defaults). Throws LavaParamsError (malformed_response) for bytes that are not a
 * QueryParamsResponse.
 */
export function decodeLavaVersionFields(bytes: Uint8Array): LavaVersionFields {
  const version: LavaVersionFields = { providerTarget: '', providerMin: '', consumerTarget: '', consumerMin: '' };
  const reader = new BinaryReader(bytes);
  try {
    eachField(reader, bytes.length, (no, wt) => {
      if (no !== 1) return false;
      const paramsEnd = fieldEnd(reader, wt, bytes.length, 'params');
      eachField(reader, paramsEnd, (pno, pwt) => {
        if (pno !== 1) return false;
        const versionEnd = fieldEnd(reader, pwt, paramsEnd, 'params.version');
        eachField(reader, versionEnd, (vno, vwt) => {
          const key = PROTOCOL_VERSION_FIELDS[vno - 1];
          if (!key) return false;
          const stop = fieldEnd(reader, vwt, versionEnd, `version.${key}`);
          try {
            version[key] = utf8.decode(reader.buf.subarray(reader.pos, stop));
          } catch {
            throw new MalformedParams(`version.${key} is not valid UTF-8`);
          }
          reader.pos = stop;
          return true;
        });
        return true;
      });
      return true;
    });
  } catch (e) {
    // BinaryReader's own complaints too: truncated varint, skip past the end, unknown wire type.
    const reason = e instanceof MalformedParams ? e.message : `not a QueryParamsResponse: ${(e as Error).message}`;
    throw new LavaParamsError('malformed_response', reason, bytes);
  }
  return version;
}

/**
 * The protocol version in a QueryParamsResponse, as the chain accepts it (strict X.Y.Z, min <=
 * target). Throws LavaParamsError naming what is wrong otherwise.
 */
export function decodeLavaProtocolVersion(bytes: Uint8Array): ProtocolVersion {
  const fields = decodeLavaVersionFields(bytes);
  const check = validateProtocolVersion(fields);
  if (!check.ok) throw new LavaParamsError(check.kind, check.reason, fields);
  return check.value;
}
