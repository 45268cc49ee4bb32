// The seams between the watcher's logic and a chain node: queries over one endpoint, and the
// NewBlock subscription. Implemented with CosmJS in infra/; unit tests drive the logic with fakes.

export interface BlockEvent {
  type: string;
  attributes: readonly { key: string; value: string }[];
}

export interface NewBlock {
  height: number;
  time: Date;
  /** finalize_block_events when the NewBlock event carried them (CometBFT 0.38 does); else fetched. */
  events?: readonly BlockEvent[];
  /** Lowest height the node serves (status earliest_block_height), when the block came from a poll. */
  earliest?: number;
}

/** Thrown by an endpoint that answered with an error (JSON-RPC error, ABCI code != 0). */
export class RpcAnswerError extends Error {
  override name = 'RpcAnswerError';
  constructor(
    message: string,
    /** The answer as received, for a ChainAnomaly. */
    readonly raw: unknown,
  ) {
    super(message);
  }
}

/** Queries on one endpoint. Every call has a timeout; failures throw. */
export interface ChainRpc {
  status(): Promise<{ chainId: string; height: number; time: Date; earliestHeight?: number }>;
  /** Every event of a block (block_results: block events and the transactions'); RpcAnswerError when the node cannot serve them. */
  blockEvents(height: number): Promise<BlockEvent[]>;
  /** ABCI query at a height (latest when undefined); RpcAnswerError when the app answers code != 0. */
  abciQuery(path: string, height?: number): Promise<{ value: Uint8Array; height: number }>;
  close(): void;
}

export interface BlockSubscription {
  close(): void;
}

export interface BlockHandlers {
  onBlock(block: NewBlock): void;
  /** Once, when the subscription ends for any reason other than close(). */
  onClose(reason: string): void;
}

export interface ChainConnector {
  /** Queries on an endpoint (http(s)://host:port). */
  rpc(endpoint: string): ChainRpc;
  /** NewBlock over the endpoint's WebSocket; rejects when it cannot connect and subscribe in time. */
  subscribe(endpoint: string, handlers: BlockHandlers): Promise<BlockSubscription>;
}

/** What a call is for: the RPC-calls-per-block figures count these. */
export type RpcMethod = 'status' | 'block_results' | 'abci_query' | 'subscribe';
