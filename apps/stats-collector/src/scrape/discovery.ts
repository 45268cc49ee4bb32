// Scrape discovery: every FLEETVISOR_STATS_DISCOVERY_INTERVAL the collector asks every runner for
// its services (the fleet-wide `services list`, one answer per host gathered for
// FLEETVISOR_STATS_DISCOVERY_WAIT) and scrapes the /metrics of each service that has a metrics
// address, beside the static FLEETVISOR_STATS_SCRAPE_TARGETS. A discovered target that two rounds
// in a row do not list (its service removed, its runner gone or silent) is dropped; one missed
// answer is not enough, since dropping a target forgets its baseline and the calls of the gap.
// Answers are checked against the ServicesList contract; what they can make the collector do is
// one GET of /metrics on the [host]:port they name, bounded by the scrape timeout.
import { ErrorCode, RequestStrategy, type NatsConnection } from 'nats';
import { createSubjects, parseCommandReply, ServicesList, type CommandResultOf } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { ScrapeTarget } from '../config';
import type { CollectorPart } from '../stats-collector';

type ListAnswer = CommandResultOf<typeof ServicesList>;

const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/;
/** Rounds a discovered target may be missing from before it is dropped. */
const MISSED_ROUNDS_TO_DROP = 2;

/** The URL of a metrics address as a runner gives it: a missing or wildcard host is reached at the runner's host name. */
export function metricsUrl(address: string, host: string): string | undefined {
  const i = address.lastIndexOf(':');
  let h = address.slice(0, i);
  if (h === '' || h === '0.0.0.0' || h === '[::]') h = host;
  try {
    const u = new URL(`http://${h}:${address.slice(i + 1)}/metrics`);
    return u.pathname === '/metrics' && u.search === '' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** Scrape targets from runners' answers: one per service with a metrics address, named <host>.<service>. */
export function discoveredTargets(answers: readonly ListAnswer[]): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  const names = new Set<string>();
  for (const a of answers) {
    for (const s of a.services) {
      if (s.metricsAddress === undefined) continue;
      const url = metricsUrl(s.metricsAddress, a.host);
      const name = `${a.host}.${s.service}`;
      if (!url || !TARGET_NAME.test(name) || names.has(name)) continue;
      names.add(name);
      // The service name is what its counts are for: the component a provider serves, the caller a consumer is.
      out.push({ name, url, service: s.service, origin: 'discovered' });
    }
  }
  return out;
}

/** Who is asked (the runners, over NATS); a seam so the merging logic is tested without a bus. */
export type AskRunners = (waitMs: number) => Promise<ListAnswer[]>;

export function askRunnersOverNats(nc: NatsConnection, subjectRoot: string, log: Logger): AskRunners {
  const subject = createSubjects(subjectRoot).command('service-runner', 'list');
  return async (waitMs) => {
    const out: ListAnswer[] = [];
    try {
      const replies = await nc.requestMany(subject, new TextEncoder().encode('{}'), { strategy: RequestStrategy.Timer, maxWait: waitMs });
      for await (const m of replies) {
        let raw: unknown;
        try {
          raw = JSON.parse(new TextDecoder().decode(m.data));
        } catch {
          continue;
        }
        const r = parseCommandReply(ServicesList, raw);
        if (r.ok && r.value.ok && r.value.result !== undefined) out.push(r.value.result);
        else if (!r.ok) log.debug({ problem: r.reason }, 'services list answer ignored (not the contract)');
      }
    } catch (e) {
      // No runner at all: NATS answers "no responders" at once. An empty fleet.
      if ((e as { code?: string }).code !== ErrorCode.NoResponders) throw e;
    }
    return out;
  };
}

export interface TargetSink {
  setTargets(targets: readonly ScrapeTarget[]): void;
}

export class ScrapeDiscovery implements CollectorPart {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly missed = new Map<string, { target: ScrapeTarget; missed: number }>();
  rounds = 0;
  failures = 0;

  constructor(
    private readonly staticTargets: readonly ScrapeTarget[],
    private readonly ask: AskRunners,
    private readonly sink: TargetSink,
    private readonly log: Logger,
    private readonly opts: { intervalMs: number; waitMs: number },
  ) {}

  /** The discovered targets in use now. */
  get discovered(): ScrapeTarget[] {
    return [...this.missed.values()].map((e) => e.target);
  }

  async start(): Promise<void> {
    // The first round runs in the background: the collector serves at once, the targets follow.
    void this.round();
    this.timer = setInterval(() => void this.round(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** One round: ask, merge, hand the targets to the scraper (skipped while one is running). */
  round(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.discover()
      .catch((e: unknown) => {
        this.failures++;
        this.log.warn({ err: (e as Error).message }, 'scrape discovery round failed; the targets found before are kept');
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async discover(): Promise<void> {
    const found = discoveredTargets(await this.ask(this.opts.waitMs));
    this.rounds++;
    const staticNames = new Set(this.staticTargets.map((t) => t.name));
    const seen = new Set<string>();
    for (const t of found) {
      if (staticNames.has(t.name)) continue;
      seen.add(t.name);
      const before = this.missed.get(t.name);
      if (!before) this.log.info({ target: t.name, url: t.url }, 'scrape target discovered');
      else if (before.target.url !== t.url) this.log.info({ target: t.name, url: t.url }, 'scrape target moved');
      this.missed.set(t.name, { target: t, missed: 0 });
    }
    for (const [name, e] of this.missed) {
      if (seen.has(name)) continue;
      if (++e.missed >= MISSED_ROUNDS_TO_DROP) {
        this.missed.delete(name);
        this.log.info({ target: name }, 'scrape target gone; dropped');
      }
    }
    this.sink.setTargets([...this.staticTargets, ...this.discovered]);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
