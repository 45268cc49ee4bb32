// Simulated damocles sealing workers: the simulator and its VenusWorker JSON-RPC server (the load
// generator of the worker-registry benchmark, built on them, is bench/lib/sealing-load.ts).
export * from './clock';
export * from './rng';
export * from './flows';
export * from './simulated-worker';
export * from './venus-worker-rpc';
