// One valid example per event type (data at the current version), plus examples of superseded
// versions. The published JSON Schemas carry them, and tests check each one against the catalog:
// a type whose example does not parse cannot ship.
import type { EventData } from '../define-event';
import type { EventEnvelope } from '../envelope';
import { EVENT_DEFINITIONS } from './index';

type Definitions = typeof EVENT_DEFINITIONS;

export const EVENT_EXAMPLES: { readonly [K in keyof Definitions]: EventData<Definitions[K]> } = {
  HostOnline: { host: 'host-01', process: 'service-runner', pid: 4242, fleetvisorVersion: '0.1.0' },
  HostOffline: { host: 'host-01', process: 'service-runner', pid: 4242, reason: 'SIGTERM' },
  VersionChanged: {
    chainId: 'lava-testnet-2',
    height: 1_234_567,
    previous: { providerTarget: '0.23.1', providerMin: '0.22.0', consumerTarget: '0.23.1', consumerMin: '0.22.0' },
    current: { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' },
  },
  UpgradePlanned: {
    chainId: 'lava-testnet-2',
    name: 'v2.0.0',
    height: 1_300_000,
    info: '{"binaries":{"linux/amd64":"https://example.org/lavad-v2.0.0-linux-amd64?checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000"}}',
    binaries: {
      'linux/amd64': 'https://example.org/lavad-v2.0.0-linux-amd64?checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000',
    },
  },
  ChainAnomaly: {
    chainId: 'lava-testnet-2',
    height: 1_234_568,
    endpoint: 'http://127.0.0.1:26657',
    kind: 'min_above_target',
    raw: '{"providerTarget":"0.23.2","providerMin":"0.24.0","consumerTarget":"0.23.2","consumerMin":"0.22.0"}',
    reason: 'providerMin 0.24.0 is above providerTarget 0.23.2',
  },
  ServiceCreated: {
    host: 'host-01',
    service: 'consumer-ETH1',
    role: 'consumer',
    chainId: 'lava-testnet-2',
    binary: 'lavap',
    configPath: '/home/lava/.fleetvisor/services/consumer-ETH1/config.yml',
  },
  ServiceStarted: { host: 'host-01', service: 'consumer-ETH1', pid: 31337, version: '0.23.2', binaryPath: '/home/lava/.fleetvisor/upgrades/v0.23.2/lavap' },
  ServiceExited: { host: 'host-01', service: 'consumer-ETH1', pid: 31337, code: null, signal: 'SIGTERM', expected: true },
  ServiceRestarted: { host: 'host-01', service: 'consumer-ETH1', attempt: 3, backoffMs: 4000 },
  ServiceCrashLooping: { host: 'host-01', service: 'consumer-ETH1', crashes: 5, windowMs: 60_000, nextRetryMs: 300_000 },
  ServiceStopped: { host: 'host-01', service: 'consumer-ETH1', reason: 'fleetvisor services stop', actor: 'alice' },
  UpgradeStarted: {
    host: 'host-01',
    service: 'consumer-ETH1',
    chainId: 'lava-testnet-2',
    fromVersion: '0.23.1',
    toVersion: '0.23.2',
    reason: 'consumer_target 0.23.2 is above running 0.23.1',
  },
  ServiceUpgraded: { host: 'host-01', service: 'consumer-ETH1', fromVersion: '0.23.1', toVersion: '0.23.2', durationMs: 4200 },
  UpgradeFailed: {
    host: 'host-01',
    service: 'consumer-ETH1',
    fromVersion: '0.23.1',
    toVersion: '0.23.2',
    stage: 'verify',
    reason: 'sha256 mismatch: expected 3f2a..., got 9b1c...',
  },
  UpgradeRolledBack: { host: 'host-01', service: 'consumer-ETH1', restoredVersion: '0.23.1', failedVersion: '0.23.2', reason: 'crashed at start (exit code 1)' },
  VersionQuarantined: { host: 'host-01', service: 'consumer-ETH1', version: '0.23.2', stage: 'start', reason: 'exited with code 1 before it was healthy' },
  QuarantineLifted: { host: 'host-01', service: 'consumer-ETH1', version: '0.23.2', reason: 'upgrades retry', actor: 'alice@ops-console' },
  ServiceNeedsAttention: {
    host: 'host-01',
    service: 'wallet-1',
    problem: 'venus-wallet has no password: it cannot sign (messages, blocks, PoSt)',
    remedy: 'fleetvisor secrets set-password wallet-1',
    pattern: 'venus-wallet.password-not-set',
    excerpt: 'ERROR\twallet_event\twallet_event/listenevent.go:236\tWalletSign error password not set\t{"api hub": "/dns/gateway.example/tcp/83/wss"}',
    pid: 4242,
  },
  CanaryChecked: {
    host: 'host-01',
    service: 'consumer-ETH1',
    version: '0.23.2',
    outcome: 'unhealthy',
    stage: 'start',
    reason: 'exited with code 1 310 ms after start (needs 5000 ms up)',
    address: '127.0.0.1:41234',
    durationMs: 420,
    nextCheckAt: '2026-12-07T15:10:00.000Z',
  },
  ForgeryRejected: {
    host: 'host-01',
    kind: 'event',
    source: 'chain-lava-testnet-2',
    subject: 'fleet.evt.chain.lava-testnet-2.VersionChanged',
    reason: 'the event is not signed',
    refused: 3,
    eventId: '01946a2b-3c00-7000-8000-0000000000ff',
  },
  WorkerRegistered: { name: 'w-01', dest: '10.0.0.5:17890', version: 'v0.9.1', threads: 16 },
  WorkerUpdated: { name: 'w-01', dest: '10.0.0.5:17890', version: 'v0.9.2', threads: 16, changed: ['version'] },
  ThreadStateChanged: {
    worker: 'w-01',
    index: 3,
    location: '/mnt/nvme1/store3',
    plan: 'sealer',
    sectorId: 's-t01000-42',
    prev: 'TicketAssigned',
    next: 'PC1Done',
    event: 'PC1',
  },
  ThreadPaused: { worker: 'w-01', index: 3, reason: 'error', lastError: 'permanent: pc2: failed to read tree-c' },
  ThreadResumed: { worker: 'w-01', index: 3, state: 'PC1Done', actor: 'alice' },
  WorkerExpired: { name: 'w-01', lastSeen: '2025-01-15T08:00:00.000Z', expirationMs: 600_000 },
  WorkerReturned: { name: 'w-01', lastSeen: '2025-01-15T08:00:00.000Z', absentMs: 900_000 },
  WorkerUnreachable: { name: 'w-01', error: 'damocles-worker admin API at http://10.0.0.5:17890/ unreachable: ECONNREFUSED' },
  WorkerReachable: { name: 'w-01', unreachableMs: 42_000 },
  WorkerRemoved: { name: 'w-01', actor: 'alice' },
  WorkerDrainStarted: { name: 'w-01', actor: 'alice' },
  WorkerDrainFinished: { name: 'w-01', durationMs: 1_800_000 },
  ApiCallsRecorded: {
    source: 'damocles-manager',
    windowStart: '2025-01-15T08:00:00.000Z',
    windowSeconds: 10,
    part: 0,
    records: [
      { caller: 't01000-sealer', component: 'venus-messager', method: 'Filecoin.MpoolPushMessage', calls: 12, errors: 1, latency: [0, 0, 0, 2, 5, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0] },
      { caller: 't01000-sealer', component: 'venus', method: 'Filecoin.ChainHead', calls: 40, errors: 0, transportErrors: 1 },
    ],
  },
  CallRateAnomaly: {
    caller: 't01000-sealer',
    component: 'venus-messager',
    methods: 'message-sending',
    band: { low: 2, high: 6, median: 4, historyMinutes: 1440 },
    observedPerMin: 31.5,
    direction: 'above',
    outsideSince: '2025-01-15T07:50:00.000Z',
  },
  CallRateRecovered: {
    caller: 't01000-sealer',
    component: 'venus-messager',
    methods: 'message-sending',
    band: { low: 2, high: 6, median: 4, historyMinutes: 1440 },
    observedPerMin: 4.2,
    anomalyMs: 1_800_000,
  },
  HostExpired: { host: 'host-02', lastSeen: '2025-01-15T08:00:00.000Z', silentMs: 120_000 },
  HostReturned: { host: 'host-02', lastSeen: '2025-01-15T08:00:00.000Z', absentMs: 900_000 },
  SectorsFaulted: { chainId: 'calibnet', minerId: 't01000', deadline: 5, partition: 0, sectors: [240, 241, 250], epoch: 2_004_321 },
  SectorsRecovered: { chainId: 'calibnet', minerId: 't01000', deadline: 5, partition: 0, sectors: [240, 241, 250], epoch: 2_007_201 },
  WindowPoStMissed: { chainId: 'calibnet', minerId: 't01000', deadline: 5, periodStart: 2_004_000, open: 2_004_300, close: 2_004_360, partitions: [0], provenPartitions: 1, epoch: 2_004_360 },
  ProvingDeadlineAtRisk: {
    chainId: 'calibnet',
    minerId: 't01000',
    deadline: 5,
    periodStart: 2_004_000,
    open: 2_004_300,
    close: 2_004_360,
    partitions: [{ partition: 0, sectors: [240, 241, 250] }],
    epoch: 2_004_300,
  },
  RolloutStarted: {
    chainId: 'lava-testnet-2',
    rolloutId: '01946a2b-3c00-7000-8000-000000000003',
    height: 1_234_567,
    version: { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' },
    policy: { canary: 1, canaryHosts: [], maxParallel: 2, minHealthyMs: 300_000, healthyDeadlineMs: 600_000, autoRevert: false },
  },
  RolloutWaveStarted: { chainId: 'lava-testnet-2', rolloutId: '01946a2b-3c00-7000-8000-000000000003', wave: 0, canary: true, size: 1 },
  RolloutHostAdmitted: { chainId: 'lava-testnet-2', rolloutId: '01946a2b-3c00-7000-8000-000000000003', wave: 0, host: 'host-01', services: [{ service: 'consumer-ETH1', toVersion: '0.23.2' }] },
  RolloutHostWaiting: {
    chainId: 'lava-testnet-2',
    rolloutId: '01946a2b-3c00-7000-8000-000000000003',
    host: 'host-02',
    services: [{ service: 'provider-ETH1', toVersion: '0.23.2' }],
    reason: 'canary wave: host-01 not healthy yet',
  },
  RolloutHostHealthy: { chainId: 'lava-testnet-2', rolloutId: '01946a2b-3c00-7000-8000-000000000003', host: 'host-01', since: '2025-01-15T08:00:30.000Z' },
  RolloutHalted: {
    chainId: 'lava-testnet-2',
    rolloutId: '01946a2b-3c00-7000-8000-000000000003',
    host: 'host-01',
    service: 'consumer-ETH1',
    reason: 'UpgradeFailed at health: exited with code 1 within 30000 ms',
  },
  RolloutResumed: { chainId: 'lava-testnet-2', rolloutId: '01946a2b-3c00-7000-8000-000000000003', actor: 'alice' },
  RolloutAborted: { chainId: 'lava-testnet-2', rolloutId: '01946a2b-3c00-7000-8000-000000000003', actor: 'alice', reason: 'fleetvisor upgrades rollout abort' },
  RolloutCompleted: { chainId: 'lava-testnet-2', rolloutId: '01946a2b-3c00-7000-8000-000000000003', hosts: 12, failed: 0 },
};

/** Examples of superseded versions, by type and version (what older writers put on the bus). */
export const PREVIOUS_EVENT_EXAMPLES: Readonly<Record<string, Readonly<Record<number, unknown>>>> = {
  ApiCallsRecorded: {
    1: {
      source: 'damocles-manager',
      target: 'venus-messager',
      windowStart: '2025-01-15T08:00:00.000Z',
      windowSeconds: 60,
      calls: [
        { method: 'MpoolPushMessage', count: 12, errors: 0, p50Ms: 35, p99Ms: 180 },
        { method: 'StateSearchMsg', count: 40 },
      ],
    },
  },
  HostOnline: { 1: { host: 'host-01', process: 'service-runner', pid: 4242, fleetvisorVersion: '0.1.0' } },
};

/** A complete example envelope (fixed id and time, so generated docs are stable). */
export function exampleEnvelope(type: keyof Definitions, version?: number): EventEnvelope {
  const def = EVENT_DEFINITIONS[type];
  const v = version ?? def.version;
  const data = v === def.version ? EVENT_EXAMPLES[type] : PREVIOUS_EVENT_EXAMPLES[type]?.[v];
  if (data === undefined) throw new Error(`no example for ${type} v${v}`);
  const streamId = def.streamId ? def.streamId(EVENT_EXAMPLES[type] as never) : (EVENT_EXAMPLES[type] as { host?: string }).host ?? 'example';
  const index = Object.keys(EVENT_DEFINITIONS).indexOf(type) + 1;
  return {
    id: `01946a2b-3c00-7000-8000-${index.toString(16).padStart(12, '0')}`,
    type,
    stream: `${def.area}-${streamId}`,
    version: v,
    data,
    metadata: { correlationId: 'c0ffee00-0000-4000-8000-000000000001', host: 'host-01' },
    occurredAt: '2025-01-15T08:00:01.000Z',
  };
}
