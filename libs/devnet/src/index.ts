// @fleetvisor/devnet: local stand-ins for what this machine cannot reach — a chain node speaking
// real CometBFT JSON-RPC (chain/) and simulated sealing workers (sealing/) — for the demo, the
// tests and the benchmarks.
export * from './chain/api';
