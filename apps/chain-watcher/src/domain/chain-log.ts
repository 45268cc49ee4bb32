// What the log says about one chain (stream chain-<chainId>), folded from its events, and the pure
// decisions that turn an answer of the chain into the events to append. The watcher keeps no state
// of its own: after a restart or a failover it folds the stream again, so an unchanged version is
// never announced twice.
import {
  ChainAnomaly,
  newEventFor,
  sameProtocolVersion,
  truncateRaw,
  validateProtocolVersion,
  VersionChanged,
  type ChainAnomalyKind,
  type EventData,
  type EventEnvelope,
  type EventMetadata,
  type ProtocolVersion,
  type RecordedEvent,
} from '@fleetvisor/contracts';
import { planKey } from './upgrade-plan';

export interface ChainLogState {
  /** Events in the stream: the expected version of the next append. */
  streamVersion: number;
  /** Last announced version (null before the first). */
  version: ProtocolVersion | null;
  versionHeight: number | undefined;
  /** planKey of every plan already announced. */
  plans: Set<string>;
}

export const EMPTY_CHAIN_LOG: Readonly<ChainLogState> = Object.freeze({ streamVersion: 0, version: null, versionHeight: undefined, plans: new Set<string>() });

export function foldChainLog(events: readonly RecordedEvent[], currentVersion: number): ChainLogState {
  const state: ChainLogState = { streamVersion: currentVersion, version: null, versionHeight: undefined, plans: new Set() };
  for (const e of events) {
    if (e.type === VersionChanged.type) {
      const d = e.data as EventData<typeof VersionChanged>;
      state.version = d.current;
      state.versionHeight = d.height;
    } else if (e.type === 'UpgradePlanned') {
      state.plans.add(planKey(e.data as { name: string; height: number; info: string }));
    }
  }
  return state;
}

/** What one Params answer means for the log. */
export type VersionDecision =
  | { kind: 'unchanged' }
  | { kind: 'changed'; event: EventEnvelope; current: ProtocolVersion }
  | { kind: 'anomaly'; event: EventEnvelope; anomalyKind: ChainAnomalyKind; reason: string; raw: string };

export interface Observation {
  chainId: string;
  height: number;
  /** Redacted endpoint that answered. */
  endpoint: string;
  metadata: EventMetadata;
}

export function anomalyEvent(obs: Observation, kind: ChainAnomalyKind, reason: string, raw: unknown): { event: EventEnvelope; raw: string } {
  const rawText = truncateRaw(raw);
  const data: EventData<typeof ChainAnomaly> = {
    chainId: obs.chainId,
    ...(obs.height >= 1 ? { height: obs.height } : {}),
    endpoint: obs.endpoint,
    kind,
    raw: rawText,
    reason: reason.slice(0, 2000) || kind,
  };
  return { event: newEventFor(ChainAnomaly, data, obs.metadata), raw: rawText };
}

/**
 * Decides on a decoded Params answer (`decoded` is what the decoder produced, any shape): a
 * version that fails validation is an anomaly; a valid one equal to the last announced is
 * nothing; a different one is a VersionChanged at the observed height.
 */
export function decideVersion(state: Pick<ChainLogState, 'version'>, obs: Observation, decoded: unknown): VersionDecision {
  const check = validateProtocolVersion(decoded);
  if (!check.ok) {
    const { event, raw } = anomalyEvent(obs, check.kind, check.reason, decoded);
    return { kind: 'anomaly', event, anomalyKind: check.kind, reason: check.reason, raw };
  }
  if (state.version && sameProtocolVersion(state.version, check.value)) return { kind: 'unchanged' };
  const event = newEventFor(VersionChanged, { chainId: obs.chainId, height: obs.height, previous: state.version, current: check.value }, obs.metadata);
  return { kind: 'changed', event, current: check.value };
}

/** True when a block's results carry Lava's version param change. */
export function hasVersionParamChange(events: readonly { type: string; attributes: readonly { key: string; value: string }[] }[]): boolean {
  return events.some((e) => e.type === 'lava_param_change' && e.attributes.some((a) => a.key === 'param' && a.value === 'Version'));
}
