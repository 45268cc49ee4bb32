// @fleetvisor/lava: what Fleetvisor reads from a Lava chain. One strict decoder of the protocol
// version params, shared by the chain-watcher (which records it) and the service-runner (which
// asks a node directly when no watcher has recorded one yet).
export * from './protocol-params';
