// Reads the Lava protocol version straight from a node, for `init` when no chain-watcher has
// recorded one yet: ABCI query /lavanet.lava.protocol.Query/Params over CometBFT RPC.
// QueryParamsResponse{ Params params = 1 }, Params{ Version version = 1 },
// Version{ provider_target = 1; provider_min = 2; consumer_target = 3; consumer_min = 4 }.
import { BinaryReader } from 'cosmjs-types/binary';
import { connectComet } from '@cosmjs/tendermint-rpc';
import { validateProtocolVersion, type ProtocolVersion } from '@fleetvisor/contracts';

export const PARAMS_QUERY_PATH = '/lavanet.lava.protocol.Query/Params';

function readMessage(bytes: Uint8Array, field: number): Uint8Array | undefined {
  const r = new BinaryReader(bytes);
  let found: Uint8Array | undefined;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) found = r.bytes();
    else r.skipType(tag & 7);
  }
  return found;
}

/** Decodes QueryParamsResponse bytes into a validated ProtocolVersion (throws naming what is wrong). */
export function decodeParamsResponse(bytes: Uint8Array): ProtocolVersion {
  const params = readMessage(bytes, 1) ?? new Uint8Array();
  const version = readMessage(params, 1) ?? new Uint8Array();
  const fields = ['', '', '', ''];
  const r = new BinaryReader(version);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const f = tag >>> 3;
    if (f >= 1 && f <= 4 && (tag & 7) === 2) fields[f - 1] = r.string();
    else r.skipType(tag & 7);
  }
  const check = validateProtocolVersion({ providerTarget: fields[0], providerMin: fields[1], consumerTarget: fields[2], consumerMin: fields[3] });
  if (!check.ok) throw new Error(`the node's protocol version is unusable: ${check.reason}`);
  return check.value;
}

export async function queryProtocolVersion(rpcUrl: string): Promise<ProtocolVersion> {
  const client = await connectComet(rpcUrl);
  try {
    const res = await client.abciQuery({ path: PARAMS_QUERY_PATH, data: new Uint8Array() });
    if (res.code) throw new Error(`Params query failed with code ${res.code}: ${res.log ?? ''}`);
    return decodeParamsResponse(res.value);
  } finally {
    client.disconnect();
  }
}
