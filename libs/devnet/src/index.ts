// @fleetvisor/devnet: local stand-ins for what this machine cannot reach — a chain node speaking
// real CometBFT JSON-RPC (chain/), simulated sealing workers (sealing/), simulated lavap binaries
// with a release server (lavap/) and a simulated venus-wallet (venus/) — for the demo, the tests and
// the benchmarks.
export * from './chain/api';
export { startDevnetChain, type DevnetChainStartOptions } from './chain/node';
export type { AdminTarget as DevnetNodeHandle } from './chain/admin';
export { encodeLavaParamsResponse, decodeLavaParamsResponse, encodeLavaParamsRequest, LavaParamsDecodeError, LAVA_PARAMS_QUERY_PATH } from './chain/lava-protocol';
export { UPGRADE_CURRENT_PLAN_PATH } from './chain/rpc-methods';
export { DEFAULT_VERSION as DEVNET_DEFAULT_VERSION } from './chain/ledger';
export { DevnetAdminClient, DevnetAdminError, type DevnetAdminState } from './chain/admin-client';
export type { FaultsBody as DevnetFaultsBody } from './chain/admin';
export { readDevnetCliConfig, DEVNET_DEFAULT_URL, type DevnetCliConfig } from './chain/config';
export * from './sealing';
export * from './lavap';
export * from './filecoin';
export * from './venus';
