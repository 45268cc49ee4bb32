// Simulated damocles sealing workers: the simulator, its VenusWorker JSON-RPC server, and a load
// generator for the worker-registry.
export * from './clock';
export * from './rng';
export * from './flows';
export * from './simulated-worker';
export * from './venus-worker-rpc';
export * from './load';
