// Reads the Lava protocol version straight from a node, for `init` when no chain-watcher has
// recorded one yet: ABCI query /lavanet.lava.protocol.Query/Params over CometBFT RPC, decoded by
// the same strict decoder the chain-watcher records versions with (@fleetvisor/lava).
import { connectComet } from '@cosmjs/tendermint-rpc';
import type { ProtocolVersion } from '@fleetvisor/contracts';
import { decodeLavaProtocolVersion, LAVA_PARAMS_PATH, LavaParamsError } from '@fleetvisor/lava';

/** Decodes QueryParamsResponse bytes into a validated ProtocolVersion (throws naming what is wrong). */
export function decodeParamsResponse(bytes: Uint8Array): ProtocolVersion {
  try {
    return decodeLavaProtocolVersion(bytes);
  } catch (e) {
    if (!(e instanceof LavaParamsError)) throw e;
    const what = e.kind === 'malformed_response' ? "the node's Params answer is malformed" : "the node's protocol version is unusable";
    throw new Error(`${what}: ${e.reason}`);
  }
}

export async function queryProtocolVersion(rpcUrl: string): Promise<ProtocolVersion> {
  const client = await connectComet(rpcUrl);
  try {
    const res = await client.abciQuery({ path: LAVA_PARAMS_PATH, data: new Uint8Array() });
    if (res.code) throw new Error(`Params query failed with code ${res.code}: ${res.log ?? ''}`);
    return decodeParamsResponse(res.value);
  } finally {
    client.disconnect();
  }
}
