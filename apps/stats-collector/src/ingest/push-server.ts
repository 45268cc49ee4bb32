// The push subject on NATS: fleet.cmd.stats-collector.push.<source> (ADR 0006, a scoped command).
// The collector subscribes push.* in its queue group; the last token is the scope (the identity the
// NATS permissions let publish there), and PushIntake checks the body names the same source.
// Replies are the command bus's ({ ok, result } | { ok: false, error }).
import { decodeSubjectToken, encodeSubjectToken, StatsPush, type Subjects } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { NatsConnection, Subscription } from 'nats';
import type { PushIntake } from './push-intake';

/** The subject a source pushes on. */
export function pushSubject(subjects: Subjects, source: string): string {
  return `${subjects.command(StatsPush.service, StatsPush.verb)}.${encodeSubjectToken(source)}`;
}

export class PushServer {
  private sub: Subscription | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly intake: PushIntake,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const prefix = this.subjects.command(StatsPush.service, StatsPush.verb);
    this.sub = this.nc.subscribe(`${prefix}.*`, {
      queue: `${this.subjects.root}-${encodeSubjectToken(StatsPush.service)}`,
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err }, 'push subscription error');
          return;
        }
        const scope = decodeSubjectToken(msg.subject.slice(prefix.length + 1));
        const p = (async () => {
          let raw: unknown;
          let reply;
          try {
            raw = JSON.parse(Buffer.from(msg.data).toString('utf8'));
          } catch (e) {
            reply = this.intake.refuse('malformed', `request is not valid JSON: ${(e as Error).message}`, scope);
          }
          try {
            reply ??= await this.intake.push(raw, scope);
          } catch (e) {
            this.log.error({ err: e, source: scope }, 'stats push could not be stored');
            reply = { ok: false, error: { code: 'unavailable', message: `could not store the batch: ${(e as Error).message}` } };
          }
          if (msg.reply) msg.respond(Buffer.from(JSON.stringify(reply)));
        })().finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      },
    });
    await this.nc.flush();
  }

  async stop(): Promise<void> {
    if (this.sub && !this.sub.isClosed()) await this.sub.drain().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
  }
}
