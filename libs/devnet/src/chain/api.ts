// The public face of the local chain node (libs/devnet/src/chain): what tests, benchmarks, the
// demo and `fleetvisor devnet` use. The node speaks real CometBFT 0.38 JSON-RPC over HTTP and
// WebSocket (/websocket), so @cosmjs/tendermint-rpc's connectComet and @cosmjs/stargate's
// QueryClient work against it unchanged.

/** Lava's protocol version params (lavanet.lava.protocol.Version), as strings the chain stores. */
export interface LavaVersionParams {
  providerTarget: string;
  providerMin: string;
  consumerTarget: string;
  consumerMin: string;
}

/** An x/upgrade plan (cosmos.upgrade.v1beta1.Plan). */
export interface UpgradePlanParams {
  name: string;
  height: number;
  /** Free text; Cosmovisor reads `{"binaries":{"linux/amd64":"<url>?checksum=sha256:<hex>"}}` from it. */
  info: string;
}

export interface DevnetChainOptions {
  /** Default 'lava-testnet-2'. */
  chainId?: string;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 = a free port. */
  port?: number;
  /** Block interval, default 1000 ms. */
  blockTimeMs?: number;
  /** Height of the first block produced, default 1. */
  initialHeight?: number;
  /** Version params at genesis; default provider/consumer target 0.21.0, min 0.20.0. */
  version?: LavaVersionParams;
}

/** Switches for fault tests. Each applies from the next request on; `reset()` clears them all. */
export interface DevnetFaults {
  /** Close every open WebSocket and refuse new upgrades until allowed again. */
  dropWebSockets(): void;
  allowWebSockets(): void;
  /** Delay every JSON-RPC answer (HTTP and WebSocket) by ms; 0 = off. `methods` limits it (e.g. ['abci_query']). */
  delayResponses(ms: number, methods?: string[]): void;
  /** Answer the next `count` requests (Infinity = until reset) with HTTP 503 / a JSON-RPC error. */
  failResponses(count: number, methods?: string[]): void;
  /** Answer the Params query with bytes that are not a valid QueryParamsResponse. */
  malformedParams(on: boolean): void;
  reset(): void;
}

/** Requests the node has answered, for assertions and the "RPC calls per block" benchmark. */
export interface DevnetRequestStats {
  /** JSON-RPC method -> count (HTTP and WebSocket together), e.g. { abci_query: 3, status: 1 }. */
  byMethod: Record<string, number>;
  /** abci_query path -> count, e.g. { '/lavanet.lava.protocol.Query/Params': 3 }. */
  abciQueriesByPath: Record<string, number>;
  total: number;
}

export interface DevnetBlock {
  height: number;
  time: Date;
  /** Block-result events of this block (e.g. lava_param_change with param=Version). */
  events: { type: string; attributes: { key: string; value: string }[] }[];
}

export interface DevnetChain {
  readonly chainId: string;
  /** http://host:port (CometBFT RPC root; WebSocket at ws://host:port/websocket). */
  readonly rpcUrl: string;
  readonly wsUrl: string;
  /** Latest committed height. */
  height(): number;
  /** Current version params (what the Params query answers now). */
  version(): LavaVersionParams;
  /**
   * Change the version params as a passed governance proposal would: they apply in the next block,
   * whose results carry `lava_param_change` with `param=Version`. Resolves once that block is
   * committed, with its height. Values are NOT validated here (tests need invalid ones).
   */
  setVersion(v: LavaVersionParams): Promise<{ height: number }>;
  /** Set the x/upgrade plan answered by /cosmos.upgrade.v1beta1.Query/CurrentPlan (next block). */
  scheduleUpgrade(plan: UpgradePlanParams): Promise<{ height: number }>;
  clearUpgrade(): Promise<{ height: number }>;
  readonly faults: DevnetFaults;
  stats(): DevnetRequestStats;
  resetStats(): void;
  /** Called after each block is committed (and its NewBlock events sent). Returns an unsubscribe. */
  onBlock(listener: (block: DevnetBlock) => void): () => void;
  /** Resolves when the chain has committed `height`. */
  waitForHeight(height: number): Promise<void>;
  /** Stops producing blocks and closes the server and every socket. */
  stop(): Promise<void>;
}
