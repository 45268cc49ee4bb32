// Simulated venus chain service (Filecoin.* JSON-RPC over HTTP and WebSocket, venus-auth style
// tokens) and simulated components calling it: for the stats-collector's demo, tests and benchmarks.
export { startFilecoinNode, MethodError, type FilecoinNodeHandle, type FilecoinNodeOptions } from './node';
export { TokenIssuer, type TokenClaims, type TokenPerm } from './tokens';
export { SimulatedCaller, sealerReadProfile, sealerSendProfile, type MethodRate, type SimulatedCallerOptions } from './callers';
export { WPOST_PERIOD_DEADLINES, WPOST_CHALLENGE_WINDOW, WPOST_PROVING_PERIOD } from './chain';
// Simulated full node for the proving watch (deadlines, partitions, faults, recoveries, missed windows).
export { startProvingNode, type ProvingNodeHandle, type ProvingNodeOptions, type ProvingWebSocketState } from './proving-node';
export { ProvingChain, MAINNET_PROVING, type DeadlineInfo, type ProvingMinerSpec, type ProvingParams } from './proving-chain';
export { bitfieldToJson, bitfieldFromJson } from './bitfield-json';
// Sector files on disk as damocles / lotus lay them out, for `proving check` tests.
export { writeSectorFiles, type SectorFilesOptions } from './sector-store';
