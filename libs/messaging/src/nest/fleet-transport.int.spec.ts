// FleetTransport in a Nest microservice made by createFleetMicroservice: @MessagePattern handlers
// answer CommandBus requests from another connection, @EventPattern handlers receive events the
// relay publishes from the store, and app.close() stops all of it.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { Type } from '@sinclair/typebox';
import { connect, RequestStrategy, type JetStreamManager, type NatsConnection } from 'nats';
import { of, type Observable } from 'rxjs';
import {
  HostOffline,
  HostOnline,
  VersionChanged,
  createSubjects,
  defineCommand,
  newEvent,
  type CommandReply,
  type CommandRequestOf,
  type CommandResultOf,
  type EventEnvelope,
} from '@fleetvisor/contracts';
import { migrate } from '@fleetvisor/event-store';
import { createLogger, type CoreConfig, type Logger } from '@fleetvisor/platform';
import {
  createTestDatabase,
  expectEventually,
  freePort,
  sharedNatsUrl,
  startPrivateNats,
  testBusNames,
  testCoreConfig,
  type PrivateNats,
  type TestDatabase,
} from '@fleetvisor/testing';
import { createTestStreams } from '../../testing/test-streams';
import { CommandBus, CommandFailure } from '../command-bus';
import { deadLetterStreamName } from '../event-stream';
import type { FleetCore } from '../fleet-core';
import { createFleetEdgeMicroservice, FleetEdgeModule } from './fleet-edge.module';
import { createFleetMicroservice } from './fleet-microservice';
import { FleetTransport, type FleetCommandContext, type FleetCommandPattern, type FleetEventContext, type FleetEventPattern } from './fleet-transport';
import { FLEET_CORE } from './tokens';

const Greet = defineCommand({
  service: 'greeter',
  verb: 'greet',
  description: 'Test command: greets a name, or fails in the way the name asks for.',
  request: Type.Object({ name: Type.String({ minLength: 1, maxLength: 50 }) }, { additionalProperties: false }),
  result: Type.Object({ greeting: Type.String() }, { additionalProperties: false }),
});

interface Received {
  event: EventEnvelope;
  deliveryCount: number;
  consumer: string;
}

@Controller()
class GreeterController {
  readonly greeted: string[] = [];
  readonly hostOnline: Received[] = [];
  readonly hostOfflineDeliveries: number[] = [];

  @MessagePattern<FleetCommandPattern>(Greet)
  greet(@Payload() request: CommandRequestOf<typeof Greet>, @Ctx() ctx: FleetCommandContext): CommandResultOf<typeof Greet> {
    this.greeted.push(request.name);
    switch (request.name) {
      case 'nobody':
        throw new CommandFailure('not_found', 'nobody is not here');
      case 'rpc':
        throw new RpcException({ code: 'conflict', message: 'already greeted' });
      case 'rpc-text':
        throw new RpcException('just text');
      case 'boom':
        throw new Error('kaboom');
      default:
        return { greeting: `hello ${request.name} via ${ctx.service}.${ctx.verb}` };
    }
  }

  @MessagePattern<FleetCommandPattern>('greeter.count')
  count(): Observable<number> {
    return of(1, 2, 3);
  }

  // Nest's own overloads for a string pattern reject a typed @Ctx(); naming the pattern type picks the plain one.
  @EventPattern<FleetEventPattern>('HostOnline')
  async onHostOnline(@Payload() event: EventEnvelope, @Ctx() ctx: FleetEventContext): Promise<void> {
    this.hostOnline.push({ event, deliveryCount: ctx.deliveryCount, consumer: ctx.consumer });
  }

  @EventPattern<FleetEventPattern>({ type: 'HostOffline', durable: 'greeter-flaky', retryBackoff: { initialMs: 20, maxMs: 20 } })
  onHostOffline(@Ctx() ctx: FleetEventContext): void {
    this.hostOfflineDeliveries.push(ctx.deliveryCount);
    if (ctx.deliveryCount === 1) throw new Error('first delivery fails on purpose');
  }
}

@Module({ controllers: [GreeterController] })
class GreeterModule {}

@Controller()
class TypoController {
  @EventPattern<FleetEventPattern>('HostOnlien')
  on(): void {}
}

@Module({ controllers: [TypoController] })
class TypoModule {}

describe('FleetTransport (Nest microservice on the Fleetvisor bus)', () => {
  const bus = testBusNames();
  const subjects = createSubjects(bus.subjectRoot);
  const logLines: string[] = [];
  let logger: Logger;
  let db: TestDatabase;
  let config: CoreConfig;
  let clientNc: NatsConnection;
  let jsm: JetStreamManager;
  let client: CommandBus;
  let app: INestMicroservice | undefined;
  let controller: GreeterController;

  const start = async (module: typeof GreeterModule | typeof TypoModule): Promise<INestMicroservice> =>
    createFleetMicroservice(module, {
      core: { serviceName: 'greeter', config, logger, relay: { idleIntervalMs: 10 }, migrations: 'verify' },
      nest: { logger: false },
    });

  beforeAll(async () => {
    db = await createTestDatabase('fvmsg_transport');
    await migrate(db.url);
    config = testCoreConfig(db.url, bus, { logLevel: 'warn' });
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    logger = createLogger({ name: 'greeter', level: 'warn', format: 'json', destination: { write: (line: string) => void logLines.push(line) } });
    clientNc = await connect({ servers: sharedNatsUrl() });
    jsm = await clientNc.jetstreamManager();
    client = new CommandBus({ nc: clientNc, subjects, logger });

    app = await start(GreeterModule);
    await app.listen();
    controller = app.get(GreeterController);
  });

  afterAll(async () => {
    await app?.close();
    await jsm?.streams.delete(bus.eventStreamName).catch(() => undefined);
    await jsm?.streams.delete(deadLetterStreamName(bus.eventStreamName)).catch(() => undefined);
    await clientNc?.close();
    await db?.drop();
  });

  it('answers a request with the typed reply of the handler', async () => {
    const reply = await client.request(Greet, { name: 'ada' });
    expectTypeOf(reply).toEqualTypeOf<CommandReply<{ greeting: string }>>();
    expect(reply).toEqual({ ok: true, result: { greeting: 'hello ada via greeter.greet' } });
    // a '<service>.<verb>' pattern; an Observable's last value is the result
    expect(await client.request({ service: 'greeter', verb: 'count' }, undefined)).toEqual({ ok: true, result: 3 });
  });

  it('rejects an invalid request with invalid_request without calling the handler', async () => {
    const before = controller.greeted.length;
    // sent by name only, so that the client does not validate it first
    const reply = await client.request({ service: 'greeter', verb: 'greet' }, { name: '', extra: true });
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(controller.greeted).toHaveLength(before);
  });

  it('maps CommandFailure and RpcException to their codes, other errors to internal', async () => {
    expect(await client.request(Greet, { name: 'nobody' })).toEqual({ ok: false, error: { code: 'not_found', message: 'nobody is not here' } });
    expect(await client.request(Greet, { name: 'rpc' })).toEqual({ ok: false, error: { code: 'conflict', message: 'already greeted' } });
    expect(await client.request(Greet, { name: 'rpc-text' })).toEqual({ ok: false, error: { code: 'internal', message: 'just text' } });
    expect(await client.request(Greet, { name: 'boom' })).toEqual({ ok: false, error: { code: 'internal', message: 'kaboom' } });
  });

  it('delivers an appended event once, validated, to the @EventPattern handler with its context', async () => {
    const core = app!.get<FleetCore>(FLEET_CORE);
    const e = newEvent(HostOnline, 'h1', { host: 'h1', process: 'greeter', pid: 7, fleetvisorVersion: '1.2.3' });
    await core.store.appendToStream(e.stream, [e]);

    await expectEventually(
      async () => {
        expect(controller.hostOnline).toHaveLength(1);
        const info = await jsm.consumers.info(bus.eventStreamName, 'greeter-HostOnline');
        expect(info.num_ack_pending).toBe(0);
        expect(info.num_pending).toBe(0);
        expect(info.delivered.consumer_seq).toBe(1); // one delivery, acked: no redelivery will follow
      },
      { timeoutMs: 10_000 },
    );
    expect(controller.hostOnline).toEqual([{ event: e, deliveryCount: 1, consumer: 'greeter-HostOnline' }]);
  });

  it('hands an event published at an older schema version to the handler upcast', async () => {
    const old = { ...newEvent(HostOnline, 'h2', { host: 'h2', process: 'legacy', pid: 8, fleetvisorVersion: '' }), version: 1 };
    await clientNc.jetstream().publish(subjects.event(old.stream, old.type), Buffer.from(JSON.stringify(old)), { msgID: old.id });
    await expectEventually(() => expect(controller.hostOnline).toHaveLength(2));
    expect(controller.hostOnline[1]!.event).toEqual({ ...old, version: 2, data: { ...old.data, fleetvisorVersion: 'unknown' } });
  });

  it('naks a failing event with the real error and redelivers it', async () => {
    const core = app!.get<FleetCore>(FLEET_CORE);
    const e = newEvent(HostOffline, 'h1', { host: 'h1', process: 'greeter', pid: 7, reason: 'test' });
    await core.store.appendToStream(e.stream, [e]);
    await expectEventually(() => expect(controller.hostOfflineDeliveries).toEqual([1, 2]), { timeoutMs: 10_000 });
    const transport = app!.getTransportServer() as FleetTransport;
    const flaky = transport.bindings().consumers.find((c) => c.name === 'greeter-flaky')!;
    await expectEventually(() => expect(flaky.metrics()).toMatchObject({ handled: 1, handlerErrors: 1, deadLettered: 0 }));
    // the consumer saw the handler's own error, not Nest's "Internal server error"
    expect(logLines.some((l) => l.includes('event handler failed') && l.includes('first delivery fails on purpose'))).toBe(true);
  });

  it('fails listen() on an unknown event type and starts nothing', async () => {
    const typo = await start(TypoModule);
    try {
      await expect(typo.listen()).rejects.toThrow(/unknown event type "HostOnlien"/);
      expect((typo.getTransportServer() as FleetTransport).bindings()).toEqual({ commands: [], consumers: [] });
    } finally {
      await typo.close();
    }
  });

  it('app.close() stops commands and consumers, and the durable consumer resumes after a restart', async () => {
    const closing = app!;
    const core = closing.get<FleetCore>(FLEET_CORE);
    const transport = closing.getTransportServer();
    expect(transport).toBeInstanceOf(FleetTransport);
    const bound = (transport as FleetTransport).bindings();
    expect(bound.commands.map((c) => c.subject).sort()).toEqual([subjects.command('greeter', 'count'), subjects.command('greeter', 'greet')]);
    expect(bound.consumers.map((c) => c.name).sort()).toEqual(['greeter-HostOnline', 'greeter-flaky']);
    app = undefined;
    await closing.close();

    expect((transport as FleetTransport).bindings()).toEqual({ commands: [], consumers: [] });
    expect(core.nc.isClosed()).toBe(true);
    expect(await client.request(Greet, { name: 'ada' })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    await expectEventually(async () => {
      for (const name of ['greeter-HostOnline', 'greeter-flaky']) {
        const info = await jsm.consumers.info(bus.eventStreamName, name); // the durable stays
        expect(info.num_waiting).toBe(0); // ... but nobody pulls from it
        expect(info.num_ack_pending).toBe(0);
      }
    });

    // A new instance of the service takes over the durable position: only the new event arrives.
    app = await start(GreeterModule);
    await app.listen();
    const next = app.get(GreeterController);
    const e = newEvent(HostOnline, 'h3', { host: 'h3', process: 'greeter', pid: 9, fleetvisorVersion: '1.2.3' });
    await app.get<FleetCore>(FLEET_CORE).store.appendToStream(e.stream, [e]);
    await expectEventually(() => expect(next.hostOnline.map((r) => r.event)).toEqual([e]), { timeoutMs: 10_000 });
    expect(controller.hostOnline).toHaveLength(2);
  });
});

// An edge process: FleetEdgeModule (NATS only, maybe not up yet) instead of FleetCoreModule.
const Hello = defineCommand({
  service: 'edge-greeter',
  verb: 'hello',
  description: 'Test command: says hello from an instance; quiet for names it does not know.',
  request: Type.Object({ name: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  result: Type.Object({ from: Type.String() }, { additionalProperties: false }),
});

@Controller()
class EdgeController {
  readonly versions: { height: number; consumer: string }[] = [];

  @MessagePattern<FleetCommandPattern>({ command: Hello, scope: 'instance' })
  hello(@Payload() req: CommandRequestOf<typeof Hello>): CommandResultOf<typeof Hello> {
    if (req.name === 'stranger') throw new CommandFailure('not_found', 'no stranger here');
    return { from: `edge-1 to ${req.name}` };
  }

  @MessagePattern<FleetCommandPattern>({ command: Hello, scope: 'broadcast' })
  helloAll(@Payload() req: CommandRequestOf<typeof Hello>): CommandResultOf<typeof Hello> | undefined {
    return req.name === 'stranger' ? undefined : { from: 'edge-1 (broadcast)' };
  }

  @EventPattern<FleetEventPattern>({ type: 'VersionChanged', streamId: '{chainId}', durable: 'edge-{host}' })
  onVersion(@Payload() e: EventEnvelope, @Ctx() ctx: FleetEventContext): void {
    this.versions.push({ height: (e.data as { height: number }).height, consumer: ctx.consumer });
  }
}

describe('FleetTransport over an EdgeBus (NATS down at start, private server)', () => {
  const bus = testBusNames();
  const subjects = createSubjects(bus.subjectRoot);
  const silent = createLogger({ name: 'edge', level: 'silent', format: 'json' });
  let nats: PrivateNats;

  beforeAll(async () => {
    nats = await startPrivateNats();
    // File storage: the streams migrate makes are there again after the restart below.
    await createTestStreams({ ...bus, natsUrl: nats.url });
  });
  afterAll(async () => {
    await nats?.stop();
  });

  const edgeApp = (natsUrl: string): Promise<INestMicroservice> => {
    const config = testCoreConfig('postgres://unused', bus, { natsUrl, host: 'edge.host-1' });
    @Module({ imports: [FleetEdgeModule.forRoot({ serviceName: 'edge', config, logger: silent, eventStream: true, reconnectTimeWaitMs: 100 })], controllers: [EdgeController] })
    class EdgeModule {}
    return createFleetEdgeMicroservice(EdgeModule, {
      transport: { serviceName: 'edge', instance: 'edge.host-1', placeholders: { host: 'edge.host-1', chainId: 'lava-edge-1' } },
      nest: { logger: false },
    });
  };

  it('listens while NATS is down, then serves addressed and broadcast commands and consumes events once it is up', async () => {
    await nats.shutdown();
    const app = await edgeApp(nats.url);
    try {
      await app.listen(); // resolves without NATS
      const transport = app.getTransportServer() as FleetTransport;
      expect(transport.bindings()).toEqual({ commands: [], consumers: [] });

      await nats.restart();
      await transport.bound();
      const nc = await connect({ servers: nats.url });
      try {
        const client = new CommandBus({ nc, subjects, logger: silent });
        expect(await client.request(Hello, { name: 'ada' }, { instance: 'edge.host-1' })).toEqual({ ok: true, result: { from: 'edge-1 to ada' } });
        expect(await client.request(Hello, { name: 'stranger' }, { instance: 'edge.host-1' })).toEqual({ ok: false, error: { code: 'not_found', message: 'no stranger here' } });
        // Broadcast: every instance hears it, and one that has nothing to say stays silent.
        const gather = async (name: string): Promise<unknown[]> => {
          const out: unknown[] = [];
          const replies = await nc.requestMany(subjects.command('edge-greeter', 'hello'), Buffer.from(JSON.stringify({ name })), { strategy: RequestStrategy.Timer, maxWait: 500 });
          for await (const m of replies) out.push(JSON.parse(Buffer.from(m.data).toString('utf8')));
          return out;
        };
        expect(await gather('ada')).toEqual([{ ok: true, result: { from: 'edge-1 (broadcast)' } }]);
        expect(await gather('stranger')).toEqual([]);
        expect(await gather('')).toEqual([]); // invalid: no reply either

        // The event stream was created by the edge bus; the durable name and filter come from the placeholders.
        const e = newEvent(VersionChanged, 'lava-edge-1', { chainId: 'lava-edge-1', height: 7, previous: null, current: { providerTarget: '1.0.0', providerMin: '1.0.0', consumerTarget: '1.0.0', consumerMin: '1.0.0' } });
        const other = newEvent(VersionChanged, 'lava-other', { chainId: 'lava-other', height: 8, previous: null, current: { providerTarget: '1.0.0', providerMin: '1.0.0', consumerTarget: '1.0.0', consumerMin: '1.0.0' } });
        const js = nc.jetstream();
        for (const ev of [other, e]) await js.publish(subjects.event(ev.stream, ev.type), Buffer.from(JSON.stringify(ev)), { msgID: ev.id });
        const controller = app.get(EdgeController);
        await expectEventually(() => expect(controller.versions).toEqual([{ height: 7, consumer: 'edge-edge_host-1' }]), { timeoutMs: 10_000 });
      } finally {
        await nc.close();
      }
    } finally {
      await app.close();
    }
  });

  it('closes promptly when NATS never answered', async () => {
    const app = await edgeApp(`nats://127.0.0.1:${await freePort()}`);
    await app.listen();
    const t0 = Date.now();
    await app.close();
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect((app.getTransportServer() as FleetTransport).bindings()).toEqual({ commands: [], consumers: [] });
  });
});
