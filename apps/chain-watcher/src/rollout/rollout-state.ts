// The fleet-wide rollout of one chain's version change, as plain functions (ADR 0009):
//   evolveRollout(state, event) -> state      folds the stream chain-<chainId>/rollout
//   decideRollout(state, input) -> decision   what to record and answer for one input
// Inputs are a runner asking for admission, an observed outcome of an admitted host (read by the
// leader from the host's service streams), the leader's clock tick (deadlines, completion), and an
// operator's resume / abort. Nothing here reads a clock or the log: `now` comes with each input,
// so the same log and the same inputs give the same decisions after any restart.
import {
  RolloutAborted,
  RolloutCompleted,
  RolloutHalted,
  RolloutHostAdmitted,
  RolloutHostHealthy,
  RolloutHostWaiting,
  RolloutResumed,
  RolloutStarted,
  RolloutWaveStarted,
  sameProtocolVersion,
  type EventData,
  type EventDefinition,
  type ProtocolVersion,
  type RolloutHostStateName,
  type RolloutPolicy,
  type RolloutStateName,
  type RolloutView,
} from '@fleetvisor/contracts';

export interface RolloutService {
  service: string;
  toVersion: string;
}

export interface HostEntry {
  host: string;
  state: RolloutHostStateName;
  services: RolloutService[];
  wave?: number;
  /** When it entered its state (ISO). */
  since: string;
  reason?: string;
}

export interface WaveEntry {
  wave: number;
  canary: boolean;
  size: number;
  startedAt: string;
  hosts: string[];
}

export interface RolloutState {
  chainId: string;
  status: RolloutStateName;
  rolloutId?: string;
  height?: number;
  version?: ProtocolVersion;
  policy?: RolloutPolicy;
  startedAt?: string;
  endedAt?: string;
  haltReason?: string;
  abortReason?: string;
  waves: WaveEntry[];
  /** In the order they first asked. */
  hosts: Map<string, HostEntry>;
}

export const emptyRollout = (chainId: string): RolloutState => ({ chainId, status: 'none', waves: [], hosts: new Map() });

/** An event of the rollout stream as the fold needs it. */
export interface RolloutFact {
  type: string;
  data: unknown;
  occurredAt: string;
}

/** A decided event: its definition and data (the shell makes the envelope). */
export interface Decided {
  def: EventDefinition;
  data: unknown;
}

const fact = <D extends EventDefinition>(def: D, data: EventData<D>): Decided => ({ def, data });

function copy(s: RolloutState): RolloutState {
  return { ...s, waves: s.waves.map((w) => ({ ...w, hosts: [...w.hosts] })), hosts: new Map([...s.hosts].map(([k, v]) => [k, { ...v, services: [...v.services] }])) };
}

/** The state after one more event (the given state is left as it was). Events of an older rollout than the current one are ignored. */
export function evolveRollout(state: RolloutState, e: RolloutFact): RolloutState {
  const d = e.data as { rolloutId: string };
  if (e.type === RolloutStarted.type) {
    const s = e.data as EventData<typeof RolloutStarted>;
    return { chainId: state.chainId, status: 'running', rolloutId: s.rolloutId, height: s.height, version: s.version, policy: s.policy, startedAt: e.occurredAt, waves: [], hosts: new Map() };
  }
  if (d.rolloutId !== state.rolloutId) return state;
  const next = copy(state);
  switch (e.type) {
    case RolloutWaveStarted.type: {
      const w = e.data as EventData<typeof RolloutWaveStarted>;
      next.waves.push({ wave: w.wave, canary: w.canary, size: w.size, startedAt: e.occurredAt, hosts: [] });
      break;
    }
    case RolloutHostAdmitted.type: {
      const a = e.data as EventData<typeof RolloutHostAdmitted>;
      next.waves.find((w) => w.wave === a.wave)?.hosts.push(a.host);
      next.hosts.set(a.host, { host: a.host, state: 'admitted', services: a.services, wave: a.wave, since: e.occurredAt });
      break;
    }
    case RolloutHostWaiting.type: {
      const a = e.data as EventData<typeof RolloutHostWaiting>;
      if (!next.hosts.has(a.host)) next.hosts.set(a.host, { host: a.host, state: 'waiting', services: a.services, since: e.occurredAt, reason: a.reason });
      break;
    }
    case RolloutHostHealthy.type: {
      const a = e.data as EventData<typeof RolloutHostHealthy>;
      const h = next.hosts.get(a.host);
      if (h) {
        const { reason: _waited, ...rest } = h;
        next.hosts.set(a.host, { ...rest, state: 'healthy', since: a.since });
      }
      break;
    }
    case RolloutHalted.type: {
      const a = e.data as EventData<typeof RolloutHalted>;
      const h = next.hosts.get(a.host);
      if (h) next.hosts.set(a.host, { ...h, state: 'failed', since: e.occurredAt, reason: a.reason });
      if (next.status === 'running' || next.status === 'halted') {
        next.status = 'halted';
        next.haltReason = `${a.host}${a.service ? `/${a.service}` : ''}: ${a.reason}`;
      }
      break;
    }
    case RolloutResumed.type:
      if (next.status === 'halted') next.status = 'running';
      delete next.haltReason;
      break;
    case RolloutAborted.type: {
      const a = e.data as EventData<typeof RolloutAborted>;
      next.status = 'aborted';
      next.abortReason = `${a.reason}${a.actor ? ` (by ${a.actor})` : ''}`;
      next.endedAt = e.occurredAt;
      break;
    }
    case RolloutCompleted.type:
      next.status = 'completed';
      next.endedAt = e.occurredAt;
      break;
  }
  return next;
}

export const foldRollout = (chainId: string, events: readonly RolloutFact[]): RolloutState => events.reduce(evolveRollout, emptyRollout(chainId));

/** The chain's newest VersionChanged, which a rollout rolls out. */
export interface LatestVersion {
  id: string;
  height: number;
  version: ProtocolVersion;
}

export type AdmitReply =
  | { decision: 'admitted'; rolloutId: string; wave: number; reason?: string }
  | { decision: 'wait'; rolloutId?: string; reason: string; retryAfterMs: number }
  | { decision: 'refused'; rolloutId?: string; reason: string };

/** What one admitted host's service streams say since its admission (read by the leader). */
export type HostOutcome = { kind: 'healthy' } | { kind: 'failed'; service?: string; reason: string };

export type RolloutInput =
  | { kind: 'admit'; host: string; version: ProtocolVersion; services: RolloutService[]; latest: LatestVersion | undefined; policy: RolloutPolicy; now: Date }
  | { kind: 'observe'; host: string; outcome: HostOutcome; now: Date }
  | { kind: 'tick'; now: Date }
  | { kind: 'resume'; actor: string }
  | { kind: 'abort'; actor: string; reason: string };

export interface RolloutDecision {
  events: Decided[];
  /** The answer to an admission request. */
  reply?: AdmitReply;
  /** Why an operator's request cannot be done. */
  refusal?: string;
}

/** How long a waiting runner is told to wait when nothing says more precisely. */
export const DEFAULT_RETRY_AFTER_MS = 2_000;
/** `maxParallel = 0` ("all") as a wave size. */
const ALL_HOSTS = 100_000;

const iso = (d: Date): string => d.toISOString();

function ms(text: string | undefined): number {
  return text === undefined ? 0 : Date.parse(text);
}

function formatMs(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

/** Decides and folds each decided event into the state, so later steps of one decision see the earlier ones. */
class Recorder {
  readonly events: Decided[] = [];
  constructor(
    public state: RolloutState,
    private readonly now: Date,
  ) {}
  add(d: Decided): void {
    this.events.push(d);
    this.state = evolveRollout(this.state, { type: d.def.type, data: d.data, occurredAt: iso(this.now) });
  }
}

export function decideRollout(state: RolloutState, input: RolloutInput): RolloutDecision {
  switch (input.kind) {
    case 'admit':
      return decideAdmit(state, input);
    case 'observe':
      return decideObserve(state, input);
    case 'tick':
      return decideTick(state, input.now);
    case 'resume':
      if (state.status !== 'halted' || !state.rolloutId) return { events: [], refusal: `the rollout of ${state.chainId} is ${state.status}, not halted: nothing to resume` };
      return { events: [fact(RolloutResumed, { chainId: state.chainId, rolloutId: state.rolloutId, actor: input.actor })] };
    case 'abort':
      if ((state.status !== 'running' && state.status !== 'halted') || !state.rolloutId) return { events: [], refusal: `the rollout of ${state.chainId} is ${state.status}: nothing to abort` };
      return { events: [fact(RolloutAborted, { chainId: state.chainId, rolloutId: state.rolloutId, actor: input.actor, reason: input.reason })] };
  }
}

function decideAdmit(state: RolloutState, input: Extract<RolloutInput, { kind: 'admit' }>): RolloutDecision {
  const { latest, now, host } = input;
  if (!latest) return { events: [], reply: { decision: 'wait', reason: `no version change of ${state.chainId} is recorded yet`, retryAfterMs: DEFAULT_RETRY_AFTER_MS } };
  if (!sameProtocolVersion(latest.version, input.version)) {
    // The runner acts on another version than the chain's newest: it is behind (or ahead of the
    // log for a moment). It learns the newest one from the bus; until then it does not upgrade.
    return { events: [], reply: { decision: 'wait', reason: `the chain's newest version change (height ${latest.height}) is not the version this host asks for`, retryAfterMs: DEFAULT_RETRY_AFTER_MS } };
  }
  const r = new Recorder(state, now);
  if (r.state.rolloutId !== latest.id) {
    if ((r.state.status === 'running' || r.state.status === 'halted') && r.state.rolloutId) {
      r.add(fact(RolloutAborted, { chainId: state.chainId, rolloutId: r.state.rolloutId, reason: `superseded by the version change at height ${latest.height}` }));
    }
    r.add(fact(RolloutStarted, { chainId: state.chainId, rolloutId: latest.id, height: latest.height, version: latest.version, policy: input.policy }));
  }
  const s = r.state;
  const rolloutId = latest.id;
  const known = s.hosts.get(host);
  if (known && (known.state === 'admitted' || known.state === 'healthy')) return { events: r.events, reply: { decision: 'admitted', rolloutId, wave: known.wave ?? 0 } };
  if (s.status === 'aborted') return { events: r.events, reply: { decision: 'refused', rolloutId, reason: `rollout aborted: ${s.abortReason ?? ''}` } };
  if (known?.state === 'failed' && s.status !== 'completed') {
    return { events: r.events, reply: { decision: 'refused', rolloutId, reason: `this host failed in this rollout (${known.reason ?? 'failed'}); it is tried again once the rollout completes` } };
  }
  const admit = (wave: number): RolloutDecision => {
    r.add(fact(RolloutHostAdmitted, { chainId: state.chainId, rolloutId, wave, host, services: input.services }));
    return { events: r.events, reply: { decision: 'admitted', rolloutId, wave } };
  };
  const wait = (reason: string, retryAfterMs = DEFAULT_RETRY_AFTER_MS): RolloutDecision => {
    if (!known) r.add(fact(RolloutHostWaiting, { chainId: state.chainId, rolloutId, host, services: input.services, reason: reason.slice(0, 2000) }));
    return { events: r.events, reply: { decision: 'wait', rolloutId, reason: reason.slice(0, 2000), retryAfterMs: Math.max(100, Math.min(retryAfterMs, 60_000)) } };
  };
  if (s.status === 'completed') {
    // A host that asks after the rollout completed (it came up late, or an operator retried a
    // failed one): the version is proven on the fleet, so it goes at once.
    return admit(s.waves.at(-1)?.wave ?? 0);
  }
  if (s.status === 'halted') return wait(`rollout halted: ${s.haltReason ?? 'a host failed'}; \`fleetvisor upgrades rollout resume\` or \`abort\``);
  const slot = findSlot(s, host, now);
  if (slot.kind === 'wait') return wait(slot.reason, slot.retryAfterMs);
  if (slot.kind === 'open') r.add(fact(RolloutWaveStarted, { chainId: state.chainId, rolloutId, wave: slot.wave, canary: slot.canary, size: slot.size }));
  return admit(slot.wave);
}

type Slot = { kind: 'join'; wave: number } | { kind: 'open'; wave: number; canary: boolean; size: number } | { kind: 'wait'; reason: string; retryAfterMs?: number };

function findSlot(s: RolloutState, host: string, now: Date): Slot {
  const p = s.policy!;
  const named = p.canaryHosts;
  const regularSize = p.maxParallel === 0 ? ALL_HOSTS : p.maxParallel;
  const cur = s.waves.at(-1);
  if (!cur) {
    if (named.length > 0) {
      return named.includes(host) ? { kind: 'open', wave: 0, canary: true, size: named.length } : { kind: 'wait', reason: `canary wave: waiting for the canary hosts ${named.join(', ')} to ask` };
    }
    if (p.canary > 0) return { kind: 'open', wave: 0, canary: true, size: p.canary };
    return { kind: 'open', wave: 1, canary: false, size: regularSize };
  }
  const members = cur.hosts.map((h) => s.hosts.get(h)!).filter(Boolean);
  const finished = members.filter((m) => m.state === 'healthy' || m.state === 'failed');
  if (cur.canary && named.length > 0) {
    if (named.includes(host) && cur.hosts.length < cur.size) return { kind: 'join', wave: cur.wave };
  } else if (cur.hosts.length < cur.size && finished.length === 0) {
    // A wave fills with the hosts that ask before any of its hosts is done; after that it is
    // closed, and the next host waits for the next wave.
    return { kind: 'join', wave: cur.wave };
  }
  const label = cur.canary ? 'canary wave' : `wave ${cur.wave}`;
  const missingCanaries = cur.canary && named.length > 0 ? named.filter((n) => !cur.hosts.includes(n)) : [];
  if (missingCanaries.length > 0) return { kind: 'wait', reason: `${label}: waiting for the canary hosts ${missingCanaries.join(', ')} to ask and become healthy` };
  const busy = members.filter((m) => m.state === 'admitted');
  if (busy.length > 0) return { kind: 'wait', reason: `${label}: ${busy.map((m) => m.host).join(', ')} not healthy yet` };
  const healthy = members.filter((m) => m.state === 'healthy');
  // Every host of the wave failed and an operator resumed (a halted rollout admits nobody): the
  // resume is the decision to go on past them.
  if (healthy.length === 0) return { kind: 'open', wave: cur.wave + 1, canary: false, size: regularSize };
  const healthySince = Math.max(...healthy.map((m) => ms(m.since)));
  const readyAt = healthySince + p.minHealthyMs;
  if (now.getTime() < readyAt) {
    return { kind: 'wait', reason: `${label}: healthy since ${new Date(healthySince).toISOString()}; next wave after min_healthy_time ${formatMs(p.minHealthyMs)}, at ${new Date(readyAt).toISOString()}`, retryAfterMs: readyAt - now.getTime() };
  }
  return { kind: 'open', wave: cur.wave + 1, canary: false, size: regularSize };
}

function decideObserve(state: RolloutState, input: Extract<RolloutInput, { kind: 'observe' }>): RolloutDecision {
  const h = state.hosts.get(input.host);
  if (!state.rolloutId || !h || h.state !== 'admitted' || state.status === 'aborted') return { events: [] };
  if (input.outcome.kind === 'healthy') return { events: [fact(RolloutHostHealthy, { chainId: state.chainId, rolloutId: state.rolloutId, host: input.host, since: iso(input.now) })] };
  return {
    events: [
      fact(RolloutHalted, {
        chainId: state.chainId,
        rolloutId: state.rolloutId,
        host: input.host,
        ...(input.outcome.service ? { service: input.outcome.service } : {}),
        reason: input.outcome.reason.slice(0, 2000) || 'upgrade failed',
      }),
    ],
  };
}

function decideTick(state: RolloutState, now: Date): RolloutDecision {
  if (!state.rolloutId || !state.policy || (state.status !== 'running' && state.status !== 'halted')) return { events: [] };
  const r = new Recorder(state, now);
  const p = state.policy;
  for (const h of state.hosts.values()) {
    if (h.state === 'admitted' && p.healthyDeadlineMs > 0 && now.getTime() - ms(h.since) > p.healthyDeadlineMs) {
      r.add(fact(RolloutHalted, { chainId: state.chainId, rolloutId: state.rolloutId, host: h.host, reason: `not healthy within healthy_deadline ${formatMs(p.healthyDeadlineMs)} of its admission at ${h.since}` }));
    }
  }
  const s = r.state;
  if (s.status === 'running') {
    const all = [...s.hosts.values()];
    const done = all.length > 0 && all.every((h) => h.state === 'healthy' || h.state === 'failed');
    const healthy = all.filter((h) => h.state === 'healthy');
    const lastHealthy = healthy.length ? Math.max(...healthy.map((h) => ms(h.since))) : 0;
    if (done && now.getTime() >= lastHealthy + p.minHealthyMs) {
      r.add(fact(RolloutCompleted, { chainId: state.chainId, rolloutId: state.rolloutId, hosts: healthy.length, failed: all.length - healthy.length }));
    }
  }
  return { events: r.events };
}

/** What the rollout waits for now (status), from the state alone. */
function nextStep(s: RolloutState, now: Date): string | undefined {
  if (s.status === 'halted') return 'an operator: `fleetvisor upgrades rollout resume` (failed hosts stay failed) or `abort`';
  if (s.status !== 'running') return undefined;
  const waiting = [...s.hosts.values()].filter((h) => h.state === 'waiting');
  const busy = [...s.hosts.values()].filter((h) => h.state === 'admitted');
  if (busy.length) return `${busy.map((h) => h.host).join(', ')} to become healthy`;
  if (waiting.length) {
    const slot = findSlot(s, waiting[0]!.host, now);
    return slot.kind === 'wait' ? slot.reason : `${waiting.map((h) => h.host).join(', ')} to ask again (admitted at their next request)`;
  }
  return `min_healthy_time of the last wave, then completion`;
}

export function rolloutView(s: RolloutState, now: Date): RolloutView {
  const next = nextStep(s, now);
  return {
    chainId: s.chainId,
    state: s.status,
    ...(s.rolloutId ? { rolloutId: s.rolloutId } : {}),
    ...(s.height !== undefined ? { height: s.height } : {}),
    ...(s.version ? { version: s.version } : {}),
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.endedAt ? { endedAt: s.endedAt } : {}),
    ...(s.policy ? { policy: s.policy } : {}),
    ...(s.waves.length ? { wave: s.waves.at(-1)!.wave } : {}),
    ...(s.haltReason ? { haltReason: s.haltReason.slice(0, 2000) } : {}),
    ...(s.abortReason ? { abortReason: s.abortReason.slice(0, 2000) } : {}),
    ...(next ? { next: next.slice(0, 2000) } : {}),
    waves: s.waves.map((w) => ({ ...w })),
    hosts: [...s.hosts.values()].map((h) => ({
      host: h.host,
      state: h.state,
      ...(h.wave !== undefined ? { wave: h.wave } : {}),
      since: h.since,
      ...(h.reason ? { reason: h.reason.slice(0, 2000) } : {}),
      services: h.services,
    })),
  };
}
