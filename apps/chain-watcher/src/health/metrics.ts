// Prometheus metrics of the chain-watcher (prom-client, one registry per process), labelled by
// chain. Leadership is per replica: chain_watcher_leader is 1 on the replica that acts for a chain.
import { Counter, Gauge, Registry } from 'prom-client';
import { processMetrics } from '@fleetvisor/messaging/core';
import type { RpcMethod } from '../connection/chain-rpc';
import type { ChainMetricsSink } from '../monitor/chain-monitor';

export class ChainWatcherMetrics implements ChainMetricsSink {
  readonly registry = new Registry();
  private readonly latestHeight = new Gauge({ name: 'chain_watcher_latest_height', help: 'Latest block height processed', labelNames: ['chain'], registers: [this.registry] });
  private readonly lastQuery = new Gauge({
    name: 'chain_watcher_last_params_query_timestamp_seconds',
    help: 'Unix time of the last Params query',
    labelNames: ['chain'],
    registers: [this.registry],
  });
  private readonly rpcErrors = new Counter({ name: 'chain_watcher_rpc_errors_total', help: 'Failed RPC calls', labelNames: ['chain', 'endpoint'], registers: [this.registry] });
  private readonly rpcCalls = new Counter({ name: 'chain_watcher_rpc_calls_total', help: 'RPC requests sent to nodes', labelNames: ['chain', 'method'], registers: [this.registry] });
  private readonly endpoint = new Gauge({ name: 'chain_watcher_endpoint_in_use', help: '1 for the endpoint in use, 0 for the others', labelNames: ['chain', 'endpoint'], registers: [this.registry] });
  private readonly leader = new Gauge({ name: 'chain_watcher_leader', help: '1 while this replica leads the chain', labelNames: ['chain'], registers: [this.registry] });
  private readonly ws = new Gauge({ name: 'chain_watcher_websocket_connected', help: '1 while the NewBlock subscription is up', labelNames: ['chain'], registers: [this.registry] });
  private readonly changes = new Counter({ name: 'chain_watcher_version_changes_total', help: 'VersionChanged events appended', labelNames: ['chain'], registers: [this.registry] });
  private readonly anomalies = new Counter({ name: 'chain_watcher_anomalies_total', help: 'ChainAnomaly events appended', labelNames: ['chain', 'kind'], registers: [this.registry] });
  private readonly intakeRefusals = new Counter({
    name: 'fleetvisor_event_intake_refused_total',
    help: "Hosts' event batches this replica's event intake refused (nothing appended), by reason",
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) processMetrics(this.registry);
  }

  height(chainId: string, height: number): void {
    this.latestHeight.set({ chain: chainId }, height);
  }
  paramsQueried(chainId: string, at: Date): void {
    this.lastQuery.set({ chain: chainId }, at.getTime() / 1000);
  }
  rpcError(chainId: string, endpoint: string): void {
    this.rpcErrors.inc({ chain: chainId, endpoint });
  }
  rpcCall(chainId: string, method: RpcMethod): void {
    this.rpcCalls.inc({ chain: chainId, method });
  }
  endpointInUse(chainId: string, endpoint: string, all: readonly string[]): void {
    for (const e of all) this.endpoint.set({ chain: chainId, endpoint: e }, e === endpoint ? 1 : 0);
  }
  webSocket(chainId: string, up: boolean): void {
    this.ws.set({ chain: chainId }, up ? 1 : 0);
  }
  isLeader(chainId: string, leading: boolean): void {
    this.leader.set({ chain: chainId }, leading ? 1 : 0);
  }
  versionChanged(chainId: string): void {
    this.changes.inc({ chain: chainId });
  }
  anomaly(chainId: string, kind: string): void {
    this.anomalies.inc({ chain: chainId, kind });
  }
  intakeRefused(reason: string): void {
    this.intakeRefusals.inc({ reason });
  }
}
