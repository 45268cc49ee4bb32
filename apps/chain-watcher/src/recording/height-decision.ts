// The params/plan decision: given what the chain answered at one height (Lava Params, x/upgrade
// CurrentPlan, either of them possibly refused by the node), the events to record. Pure: the
// monitor queries, calls this, appends what it returns at the stream version it decided on, and on
// a conflict folds the log again and calls it again with the same answers.
//
// A bad answer (undecodable, not a strict version, min above target, an invalid plan, an error from
// the node) is a ChainAnomaly, never a version. The same bad answer repeated is recorded once: each
// query remembers the last anomaly it recorded, until it gets a good answer again.
//
// Params at a height the log already covers (another replica recorded up to there) decide nothing:
// the record up to its last height is final, so a change is never recorded twice or out of order.
// A change found right after blocks the node no longer serves (pruned) cannot be dated: it is
// recorded at the first height that shows it, after a ChainAnomaly naming the unseen range.
import { newEventFor, UpgradePlanned, type ChainAnomalyKind, type EventData, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { decodeLavaProtocolVersion, LavaParamsError } from '@fleetvisor/lava';
import { anomalyEvent, decideVersion, type ChainLogState, type Observation } from './chain-log';
import { checkPlan, decodeCurrentPlan, planKey, PlanDecodeError } from './upgrade-plan';

/** What one ABCI query got: the answer's bytes, or the node's refusal (an error code). */
export type QueryAnswer = { value: Uint8Array } | { refused: string; raw: unknown };

export interface HeightAnswers {
  /** `/lavanet.lava.protocol.Query/Params` at the height, when it was queried. */
  params?: QueryAnswer;
  /** `/cosmos.upgrade.v1beta1.Query/CurrentPlan` at the height, when it was queried. */
  plan?: QueryAnswer;
}

export type ChainQuery = keyof HeightAnswers;

/** Blocks before the observed height that could not be seen (pruned on the node). */
export interface UnseenBlocks {
  from: number;
  to: number;
}

/** Per query, the key of the last anomaly recorded (undefined after a good answer). */
export type RefusalMemory = Partial<Record<ChainQuery, string>>;

export interface Refusal {
  query: ChainQuery;
  kind: ChainAnomalyKind;
  reason: string;
  /** The refused answer as recorded (truncated). */
  raw: string;
  /** False when it repeats the last anomaly of its query: logged, not recorded again. */
  recorded: boolean;
}

export interface HeightDecision {
  /** To append to chain-<chainId>, in order. */
  events: EventEnvelope[];
  /** The version announced at this height, if it changed. */
  version?: { previous: ProtocolVersion | null; current: ProtocolVersion };
  /** The plan announced at this height, if new. */
  plan?: EventData<typeof UpgradePlanned>;
  refusals: Refusal[];
  /** The memory once the events are recorded. */
  memory: RefusalMemory;
}

export function decideAtHeight(
  state: Pick<ChainLogState, 'version' | 'plans' | 'lastHeight'>,
  memory: RefusalMemory,
  obs: Observation,
  answers: HeightAnswers,
  unseen?: UnseenBlocks,
): HeightDecision {
  const decision: HeightDecision = { events: [], refusals: [], memory: { ...memory } };
  const refuse = (query: ChainQuery, kind: ChainAnomalyKind, reason: string, raw: unknown): void => {
    const { event, raw: rawText } = anomalyEvent(obs, kind, reason, raw);
    const key = `${kind}|${rawText}`;
    const recorded = key !== memory[query];
    if (recorded) decision.events.push(event);
    decision.memory[query] = key;
    decision.refusals.push({ query, kind, reason, raw: rawText, recorded });
  };
  const accept = (query: ChainQuery): void => {
    delete decision.memory[query];
  };

  const { plan } = answers;
  const params = obs.height > state.lastHeight ? answers.params : undefined;
  if (params && 'refused' in params) {
    refuse('params', 'rpc_error', params.refused, params.raw);
  } else if (params) {
    let version: ProtocolVersion | undefined;
    try {
      version = decodeLavaProtocolVersion(params.value);
    } catch (e) {
      if (!(e instanceof LavaParamsError)) throw e;
      refuse('params', e.kind, e.reason, e.raw);
    }
    if (version) {
      accept('params');
      const v = decideVersion(state, obs, version);
      if (v.kind === 'changed') {
        if (unseen) {
          const reason =
            `version changed between heights ${unseen.from - 1} and ${obs.height}, but blocks ${unseen.from}..${unseen.to} are pruned on ${obs.endpoint}: ` +
            `recorded at ${obs.height}, the first height that shows it`;
          decision.events.push(anomalyEvent(obs, 'rpc_error', reason, { prunedFrom: unseen.from, prunedTo: unseen.to }).event);
        }
        decision.events.push(v.event);
        decision.version = { previous: state.version, current: v.current };
      }
    }
  }

  if (plan && 'refused' in plan) {
    refuse('plan', 'rpc_error', plan.refused, plan.raw);
  } else if (plan) {
    let raw;
    try {
      raw = decodeCurrentPlan(plan.value);
    } catch (e) {
      if (!(e instanceof PlanDecodeError)) throw e;
      refuse('plan', 'invalid_upgrade_plan', e.message, plan.value);
      return decision;
    }
    if (!raw) {
      accept('plan');
      return decision;
    }
    const checked = checkPlan(obs.chainId, raw);
    if (!checked.ok) {
      refuse('plan', 'invalid_upgrade_plan', checked.reason, { name: raw.name, height: String(raw.height), info: raw.info });
      return decision;
    }
    accept('plan');
    if (!state.plans.has(planKey(checked.data))) {
      decision.events.push(newEventFor(UpgradePlanned, checked.data, obs.metadata));
      decision.plan = checked.data;
    }
  }
  return decision;
}
