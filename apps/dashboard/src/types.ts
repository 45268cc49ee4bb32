// What the views read from the gateway's answers (a subset of the contracts' schemas, which the
// gateway's OpenAPI document publishes; the browser bundle does not load the contracts' Node code).

export interface ProtocolVersion {
  providerTarget: string;
  providerMin: string;
  consumerTarget: string;
  consumerMin: string;
}

export interface ChainStatusEntry {
  chainId: string;
  mode: string;
  leaderHost?: string;
  height?: number;
  lagMs?: number;
  version?: ProtocolVersion;
  wsConnected: boolean;
  problems: string[];
}

/** A Filecoin chain of the proving watch, as its leader sees it (chain status' `filecoin`). */
export interface FilecoinChainEntry {
  chainId: string;
  mode: 'notify' | 'poll' | 'no_leader';
  leaderHost?: string;
  height?: number;
  miners: string[];
  callsPerEpoch?: number;
  notifyProblem?: string;
  problems: string[];
}

export interface HostSummary {
  host: string;
  state: 'online' | 'expired' | 'offline';
  lastSeen: string;
  since: string;
  version?: string;
  services?: number;
}

export interface ServiceSummary {
  service: string;
  role: 'provider' | 'consumer';
  chainId?: string;
  binary: string;
  version?: string;
  state: string;
  startedAt?: string;
  restarts: number;
}

export interface WorkerSummary {
  name: string;
  dest: string;
  version: string;
  threads: number;
  empty: number;
  paused: number;
  running: number;
  waiting: number;
  errors: number;
  lastPing: string;
  expired: boolean;
  draining: boolean;
  unreachable?: string;
}

export interface ThreadInfo {
  index: number;
  location?: string;
  sectorId?: string;
  plan: string;
  threadState: string;
  elapsedMs?: number;
  pauseReason?: string;
  state: string;
  stage?: string;
  lastError?: string;
}

export interface StatsSeries {
  key: string;
  points: number[];
  calls: number;
  errors: number;
  transportErrors: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface StatsCalls {
  from: string;
  to: string;
  stepSeconds: number;
  series: StatsSeries[];
  others: number;
}

export interface StatsAnomaly {
  caller: string;
  component: string;
  methods: string;
  direction: 'above' | 'below';
  band: { low: number; high: number; median: number; historyMinutes: number };
  observedPerMin: number;
  outsideSince: string;
  detectedAt: string;
  recoveredAt: string | null;
}

export interface StatsBand {
  caller: string;
  component: string;
  band: { low: number; high: number; median: number; historyMinutes: number } | null;
  from: string;
  rates: number[];
  outside: 'above' | 'below' | null;
}

export interface StatsBands {
  methods: string;
  smoothMinutes: number;
  bands: StatsBand[];
}
