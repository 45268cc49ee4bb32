// CometBFT 0.38 JSON shapes (snake_case, int64 as strings, hashes as upper-case hex, bytes as
// base64) for what the node answers: status, block, block_results, NewBlock/NewBlockHeader events.
// Written from the CometBFT RPC docs and checked against what @cosmjs/tendermint-rpc's comet38
// adaptor parses.
import { createHash } from 'node:crypto';
import type { BlockRecord, ChainEvent } from './ledger';

export const COMET_VERSION = '0.38.17';
export const BLOCK_PROTOCOL = '11';

/** Go's time.RFC3339Nano: fractional seconds without trailing zeros. */
export function rfc3339(t: Date): string {
  return t.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

const hexToBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/** The single validator of the devnet, derived from the chain id so it is stable across runs. */
export interface ValidatorIdentity {
  address: string;
  pubKeyBase64: string;
  nodeId: string;
}

export function validatorIdentity(chainId: string): ValidatorIdentity {
  const pub = createHash('sha256').update(`${chainId}|validator-key`).digest();
  return {
    address: createHash('sha256').update(pub).digest('hex').slice(0, 40).toUpperCase(),
    pubKeyBase64: pub.toString('base64'),
    nodeId: createHash('sha256').update(`${chainId}|node-key`).digest('hex').slice(0, 40),
  };
}

const EMPTY_BLOCK_ID = { hash: '', parts: { total: 0, hash: '' } };
// sha256 of nothing: CometBFT's hash of an empty tx list / evidence list.
const EMPTY_HASH = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';

export function blockId(r: BlockRecord): unknown {
  return { hash: r.hash, parts: { total: 1, hash: r.partsHash } };
}

export function header(r: BlockRecord, chainId: string, v: ValidatorIdentity): unknown {
  const validatorsHash = createHash('sha256').update(v.address).digest('hex').toUpperCase();
  return {
    version: { block: BLOCK_PROTOCOL, app: '0' },
    chain_id: chainId,
    height: String(r.height),
    time: rfc3339(r.time),
    last_block_id: r.last ? { hash: r.last.hash, parts: { total: 1, hash: r.last.partsHash } } : EMPTY_BLOCK_ID,
    last_commit_hash: r.last ? createHash('sha256').update(r.last.hash).digest('hex').toUpperCase() : EMPTY_HASH,
    data_hash: EMPTY_HASH,
    validators_hash: validatorsHash,
    next_validators_hash: validatorsHash,
    consensus_hash: '048091BC7DDC283F77BFBF91D73C44DA58C3DF8A9CBC867405D8B7F3DAADA22F',
    app_hash: r.headerAppHash,
    last_results_hash: r.lastResultsHash,
    evidence_hash: EMPTY_HASH,
    proposer_address: v.address,
  };
}

function lastCommit(r: BlockRecord, v: ValidatorIdentity): unknown {
  if (!r.last) return { height: '0', round: 0, block_id: EMPTY_BLOCK_ID, signatures: [] };
  const signature = createHash('sha512').update(`${r.last.hash}|${v.address}`).digest('base64');
  return {
    height: String(r.height - 1),
    round: 0,
    block_id: { hash: r.last.hash, parts: { total: 1, hash: r.last.partsHash } },
    signatures: [{ block_id_flag: 2, validator_address: v.address, timestamp: rfc3339(r.time), signature }],
  };
}

export function block(r: BlockRecord, chainId: string, v: ValidatorIdentity): unknown {
  return {
    header: header(r, chainId, v),
    data: { txs: [] },
    evidence: { evidence: [] },
    last_commit: lastCommit(r, v),
  };
}

/** The `block` method's result. */
export function blockResponse(r: BlockRecord, chainId: string, v: ValidatorIdentity): unknown {
  return { block_id: blockId(r), block: block(r, chainId, v) };
}

function eventsJson(events: readonly ChainEvent[]): unknown[] {
  return events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: true })) }));
}

/** ResponseFinalizeBlock as it appears in block_results and the NewBlock event. */
function finalizeBlock(r: BlockRecord): Record<string, unknown> {
  return {
    events: eventsJson(r.events),
    tx_results: null,
    validator_updates: null,
    consensus_param_updates: null,
    app_hash: hexToBase64(r.appHash),
  };
}

/** The `block_results` method's result (0.38 names: finalize_block_events, txs_results). */
export function blockResults(r: BlockRecord): unknown {
  const fb = finalizeBlock(r);
  return {
    height: String(r.height),
    txs_results: null,
    finalize_block_events: fb['events'],
    validator_updates: null,
    consensus_param_updates: null,
    app_hash: fb['app_hash'],
  };
}

/** The `events` map CometBFT attaches to each event message: "type.key" -> values, plus tm.event. */
function eventIndex(kind: string, events: readonly ChainEvent[]): Record<string, string[]> {
  const out: Record<string, string[]> = { 'tm.event': [kind] };
  for (const e of events) {
    for (const a of e.attributes) (out[`${e.type}.${a.key}`] ??= []).push(a.value);
  }
  return out;
}

/** `result` of a NewBlock event message (EventDataNewBlock in 0.38). */
export function newBlockEvent(query: string, r: BlockRecord, chainId: string, v: ValidatorIdentity): unknown {
  return {
    query,
    data: { type: 'tendermint/event/NewBlock', value: { block: block(r, chainId, v), block_id: blockId(r), result_finalize_block: finalizeBlock(r) } },
    events: eventIndex('NewBlock', r.events),
  };
}

export function newBlockHeaderEvent(query: string, r: BlockRecord, chainId: string, v: ValidatorIdentity): unknown {
  return {
    query,
    data: { type: 'tendermint/event/NewBlockHeader', value: { header: header(r, chainId, v) } },
    events: eventIndex('NewBlockHeader', []),
  };
}

export function newBlockEventsEvent(query: string, r: BlockRecord): unknown {
  return {
    query,
    data: { type: 'tendermint/event/NewBlockEvents', value: { height: String(r.height), events: eventsJson(r.events), num_txs: '0' } },
    events: eventIndex('NewBlockEvents', r.events),
  };
}

export function status(opts: { chainId: string; rpcAddress: string; latest: BlockRecord; earliest: BlockRecord; v: ValidatorIdentity }): unknown {
  const { latest, earliest, v } = opts;
  return {
    node_info: {
      protocol_version: { p2p: '8', block: BLOCK_PROTOCOL, app: '0' },
      id: v.nodeId,
      listen_addr: 'tcp://0.0.0.0:26656',
      network: opts.chainId,
      version: COMET_VERSION,
      channels: '40202122233038606100',
      moniker: 'fleetvisor-devnet',
      other: { tx_index: 'on', rpc_address: opts.rpcAddress },
    },
    sync_info: {
      latest_block_hash: latest.hash,
      latest_app_hash: latest.appHash,
      latest_block_height: String(latest.height),
      latest_block_time: rfc3339(latest.time),
      earliest_block_hash: earliest.hash,
      earliest_app_hash: earliest.headerAppHash,
      earliest_block_height: String(earliest.height),
      earliest_block_time: rfc3339(earliest.time),
      catching_up: false,
    },
    validator_info: {
      address: v.address,
      pub_key: { type: 'tendermint/PubKeyEd25519', value: v.pubKeyBase64 },
      voting_power: '10',
    },
  };
}
