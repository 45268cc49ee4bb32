// How the gateway asks services: the CommandBus as the CLI uses it (queries unsigned, mutating
// commands signed by the gateway's key on the token holder's behalf), and the fleet-wide gather of
// the service-runners' replies (`services list --fleet`). A refusal becomes a Problem with the
// HTTP status of its code.
import { ErrorCode, RequestStrategy, type NatsConnection } from 'nats';
import { parseCommandReply, type CommandActor, type CommandDefinition, type CommandRequestOf, type CommandResultOf, type Subjects } from '@fleetvisor/contracts';
import type { CommandBus } from '@fleetvisor/messaging/core';
import { Problem, statusOfBusError } from './problem';

export interface AskOptions {
  /** Address one instance (a worker's agent, a host's runner). */
  instance?: string;
  /** The token holder a mutating command is signed for. */
  act?: CommandActor;
  /** Longer than the default for a command that waits on work (a rollback's health check). */
  timeoutMs?: number;
}

export interface GatewayBus {
  ask<C extends CommandDefinition>(def: C, payload: CommandRequestOf<C>, opts?: AskOptions): Promise<CommandResultOf<C>>;
  /** Every service-runner's answer to a fleet-wide query, gathered for `gatherMs`. */
  gather<C extends CommandDefinition>(def: C, payload: CommandRequestOf<C>): Promise<CommandResultOf<C>[]>;
}

export function gatewayBus(opts: { commands: Pick<CommandBus, 'request'>; nc: NatsConnection; subjects: Subjects; timeoutMs: number; gatherMs: number }): GatewayBus {
  // Identical queries in flight at the same moment share one bus request (many clients polling the
  // same page): each gets the answer the service gave to the first, no older than the request.
  // Never for commands (each is its own signed act).
  const inFlight = new Map<string, Promise<unknown>>();
  const request = async (def: CommandDefinition, payload: unknown, ask: AskOptions): Promise<unknown> => {
    const reply = await opts.commands.request(def, payload as CommandRequestOf<CommandDefinition>, {
      timeoutMs: ask.timeoutMs ?? opts.timeoutMs,
      ...(ask.instance !== undefined ? { instance: ask.instance } : {}),
      ...(ask.act ? { act: ask.act } : {}),
    });
    if (!reply.ok) throw new Problem(statusOfBusError(reply.error.code), reply.error.message, { code: reply.error.code });
    return reply.result;
  };
  return {
    async ask(def, payload, ask = {}) {
      if (def.role !== undefined || ask.act) return request(def, payload, ask) as Promise<CommandResultOf<typeof def>>;
      const key = `${def.service}.${def.verb}\u0000${ask.instance ?? ''}\u0000${JSON.stringify(payload)}`;
      let p = inFlight.get(key);
      if (!p) {
        p = request(def, payload, ask).finally(() => inFlight.delete(key));
        inFlight.set(key, p);
      }
      return p as Promise<CommandResultOf<typeof def>>;
    },
    async gather(def, payload) {
      const out: CommandResultOf<typeof def>[] = [];
      try {
        const replies = await opts.nc.requestMany(opts.subjects.command(def.service, def.verb), Buffer.from(JSON.stringify(payload)), { strategy: RequestStrategy.Timer, maxWait: opts.gatherMs });
        for await (const m of replies) {
          let raw: unknown;
          try {
            raw = JSON.parse(Buffer.from(m.data).toString('utf8'));
          } catch {
            continue; // not a reply of ours
          }
          const parsed = parseCommandReply(def, raw);
          if (parsed.ok && parsed.value.ok && parsed.value.result !== undefined) out.push(parsed.value.result);
        }
      } catch (e) {
        // No runner listens at all: NATS answers "no responders" at once. That is an empty fleet.
        if ((e as { code?: string }).code !== ErrorCode.NoResponders) throw new Problem(503, `asking the runners failed: ${(e as Error).message}`, { code: 'unavailable' });
      }
      return out;
    },
  };
}
