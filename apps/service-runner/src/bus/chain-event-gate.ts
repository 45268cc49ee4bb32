// The one door a chain event (VersionChanged, UpgradePlanned) goes through before the runner acts on
// it, from the bus and from catch-up alike (ADR 0006):
//   1. its proof must verify against the fleet's trust root, by a chain-watcher key not revoked;
//   2. when the runner has its own node (FLEETVISOR_RUNNER_CHAIN_RPC), the node must show, at the
//      event's height, what the event says.
// Only then is `act` called (the upgrade coordinator). A forged or unverifiable event is never
// handed on, so it changes nothing and pins nothing (a forged high height cannot make later real
// changes look old); it is counted, logged and reported through the RefusalReporter (one
// ForgeryRejected per source per minute). A validly signed event the node cannot confirm yet (node
// down, behind, pruned) is held, asked again with backoff, and shown in `services list --fleet`.
import { UpgradePlanned, VersionChanged, type EventEnvelope, type PendingVerification, type Subjects } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { verifyEvent, type RefusalReporter, type TrustVerifier } from '@fleetvisor/trust';
import type { ChainEventConfirmer } from '../chain/node-confirmation';

export type GateOutcome = 'acted' | 'refused' | 'pending' | 'ignored';

export interface ChainEventGateOptions {
  chainId: string;
  verifier: TrustVerifier;
  refusals: Pick<RefusalReporter, 'refuse'>;
  /** Called once per event that passed, in the order they passed. */
  act: (event: EventEnvelope) => void;
  /** The runner's own node, when configured. */
  node?: ChainEventConfirmer;
  /**
   * Resolves once the revocations are heard (RevocationWatch.ready): nothing is verified before,
   * so a runner that starts does not act on an event of a key revoked while it was away.
   */
  revocationsHeard?: Promise<void>;
  /** For the subject named in logs and reports. */
  subjects: Pick<Subjects, 'event'>;
  logger: Logger;
  /** Backoff of the confirmations of held events (default 1 s doubling to 60 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  now?: () => number;
}

interface Held {
  event: EventEnvelope;
  height: number;
  reason: string;
  attempts: number;
  nextRetryAt: number;
  timer: NodeJS.Timeout | undefined;
}

const GATED_TYPES: ReadonlySet<string> = new Set([VersionChanged.type, UpgradePlanned.type]);
/** Ids of the last events acted on, so the same event from the bus and from catch-up is acted on once. */
const ACTED_KEPT = 256;

export class ChainEventGate {
  private readonly held = new Map<string, Held>();
  private readonly acted = new Set<string>();
  /** Ids being asked of the node right now (first attempt). */
  private readonly confirming = new Set<string>();
  private readonly log: Logger;
  private readonly now: () => number;
  private stopped = false;
  private revocationsKnown = false;
  private saidWaiting = false;

  constructor(private readonly o: ChainEventGateOptions) {
    this.log = o.logger.child({ component: 'chain-event-gate', chainId: o.chainId });
    this.now = o.now ?? Date.now;
  }

  /** Verifies the event and acts on it, refuses it, or holds it until the node can confirm it. */
  async accept(event: EventEnvelope): Promise<GateOutcome> {
    if (this.stopped || !GATED_TYPES.has(event.type)) return 'ignored';
    const data = event.data as { chainId?: unknown; height?: unknown };
    if (data?.chainId !== this.o.chainId) return 'ignored';
    if (!this.revocationsKnown && this.o.revocationsHeard) {
      if (!this.saidWaiting) {
        this.saidWaiting = true;
        this.log.info({ eventId: event.id }, 'chain events wait until the key revocations are heard (NATS, KV bucket)');
      }
      await this.o.revocationsHeard;
      this.revocationsKnown = true;
      if (this.stopped) return 'ignored';
    }
    // Verified every time, even for an id already acted on: a forger may reuse a real event's id.
    if (!this.checkSignature(event)) return 'refused';
    // The same event from the bus and from catch-up is acted on once.
    if (this.acted.has(event.id)) return 'acted';
    if (this.held.has(event.id) || this.confirming.has(event.id)) return 'pending';
    if (!this.o.node) return this.act(event);
    this.confirming.add(event.id);
    try {
      return await this.confirm(event, undefined);
    } finally {
      this.confirming.delete(event.id);
    }
  }

  /** The held event of the highest height, as `services list --fleet` shows it. */
  pendingVerification(): PendingVerification | undefined {
    let top: Held | undefined;
    for (const h of this.held.values()) if (!top || h.height > top.height) top = h;
    if (!top) return undefined;
    return { eventId: top.event.id, type: top.event.type, height: top.height, reason: top.reason.slice(0, 2000), attempts: top.attempts, nextRetryAt: new Date(top.nextRetryAt).toISOString() };
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
  }

  /** True when the proof verifies; otherwise the event is refused (counted, logged, reported). */
  private checkSignature(event: EventEnvelope): boolean {
    const verdict = verifyEvent(event, this.o.verifier, 'chain-watcher');
    if (verdict.ok) return true;
    this.refuse(event, verdict.code, verdict.reason);
    return false;
  }

  private refuse(event: EventEnvelope, code: string, reason: string): void {
    const cert = event.metadata?.proof?.cert;
    this.o.refusals.refuse({
      kind: 'event',
      // The stream, not the claimed signer: a forger can make up signers, not the runner's chain stream.
      source: event.stream,
      subject: this.subjectOf(event),
      code,
      reason,
      id: event.id,
      ...(cert ? { signer: { name: cert.name, kid: cert.kid } } : {}),
    });
  }

  private subjectOf(event: EventEnvelope): string {
    try {
      return this.o.subjects.event(event.stream, event.type);
    } catch {
      return `${event.stream}/${event.type}`;
    }
  }

  private async confirm(event: EventEnvelope, held: Held | undefined): Promise<GateOutcome> {
    const c = await this.o.node!.confirm(event).catch((e: unknown): { kind: 'unavailable'; reason: string } => ({ kind: 'unavailable', reason: (e as Error).message }));
    if (this.stopped) return 'ignored';
    if (c.kind === 'confirmed') {
      if (held) this.release(event.id, 'confirmed by the node');
      return this.act(event);
    }
    if (c.kind === 'mismatch') {
      if (held) this.release(event.id, 'the node contradicts it');
      this.refuse(event, 'node_mismatch', c.reason);
      return 'refused';
    }
    this.hold(event, held, c.reason);
    return 'pending';
  }

  private act(event: EventEnvelope): GateOutcome {
    const height = Number((event.data as { height?: unknown }).height);
    // Held events below an acted one would be ignored by the coordinator anyway: stop asking for them.
    if (event.type === VersionChanged.type) {
      for (const [id, h] of this.held) if (h.event.type === VersionChanged.type && h.height < height) this.release(id, `superseded by ${event.id} at height ${height}`);
    }
    this.acted.add(event.id);
    if (this.acted.size > ACTED_KEPT) this.acted.delete(this.acted.values().next().value!);
    this.o.act(event);
    return 'acted';
  }

  private hold(event: EventEnvelope, prior: Held | undefined, reason: string): void {
    const attempts = (prior?.attempts ?? 0) + 1;
    const initial = this.o.retryInitialMs ?? 1_000;
    const delay = Math.min(this.o.retryMaxMs ?? 60_000, initial * 2 ** Math.min(attempts - 1, 16));
    const h: Held = { event, height: Number((event.data as { height?: unknown }).height) || 0, reason, attempts, nextRetryAt: this.now() + delay, timer: undefined };
    h.timer = setTimeout(() => void this.retry(event.id), delay);
    h.timer.unref();
    this.held.set(event.id, h);
    if (attempts === 1 || attempts % 10 === 0) {
      this.log.warn({ eventId: event.id, type: event.type, height: h.height, reason, attempts, retryInMs: delay }, 'chain event held: the own node cannot confirm it yet; not acted on');
    }
  }

  private async retry(id: string): Promise<void> {
    const h = this.held.get(id);
    if (!h || this.stopped) return;
    h.timer = undefined;
    // A revocation heard meanwhile counts: the signature is checked again.
    if (!this.checkSignature(h.event)) {
      this.release(id, 'its signature no longer verifies');
      return;
    }
    await this.confirm(h.event, h);
  }

  private release(id: string, why: string): void {
    const h = this.held.get(id);
    if (!h) return;
    clearTimeout(h.timer);
    this.held.delete(id);
    this.log.info({ eventId: id, height: h.height, attempts: h.attempts, why }, 'held chain event released');
  }
}
