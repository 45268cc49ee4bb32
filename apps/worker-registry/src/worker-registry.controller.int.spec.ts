// Handler wiring of the registry's commands: the service module, with its use cases and the core
// replaced by stand-ins, on the Fleetvisor transport over real NATS. Each command sent by a client
// reaches its use case with the request as sent, and the reply is the use case's result in the
// command's contract shape (CommandBus validates results against the command's schema), or its
// error code. No Postgres: nothing behind the use cases runs.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Test } from '@nestjs/testing';
import type { INestMicroservice } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import {
  createSubjects,
  WorkerDrain,
  WorkerErrors,
  WorkerHistory,
  WorkerInfo,
  WorkerList,
  WorkerListPage,
  WorkerPause,
  WorkerRemove,
  WorkerResume,
  HostHeartbeat,
  HostsList,
  type CommandDefinition,
  type ThreadInfo,
  type WorkerSummary,
} from '@fleetvisor/contracts';
import { CommandBus, CommandFailure, FLEET_CORE, FleetRpcExceptionFilter, FleetTransport, ServiceHealth, type FleetCore } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import { sharedNatsUrl, testBusNames, testCoreConfig, testTrust, testTrustConfig } from '@fleetvisor/testing';
import { WORKER_REGISTRY_DEFAULTS } from './config';
import { HostLiveness } from './registry/host-liveness';
import { ReportIntake } from './registry/report-intake';
import { WorkerControl } from './registry/worker-control';
import { WorkerQueries } from './registry/worker-queries';
import { WorkerRegistry } from './registry/worker-registry';
import { WorkerRegistryModule } from './worker-registry.module';

const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
const logger = createLogger({ name: 'worker-registry-wiring', level: 'silent', format: 'json' });

const summary: WorkerSummary = {
  name: 'w-1',
  dest: '10.0.0.1:17890',
  version: '1.2.0',
  threads: 2,
  empty: 1,
  paused: 1,
  running: 0,
  waiting: 0,
  errors: 0,
  lastPing: '2026-12-01T00:00:00.000Z',
  expired: false,
  draining: false,
};
const thread: ThreadInfo = { index: 0, plan: 'sealer', threadState: 'paused', state: 'Allocated' };

/** Each command, a valid request, the use case method it must reach and what that returns. */
const CASES: { def: CommandDefinition; request: object; method: string; result: object }[] = [
  { def: WorkerList, request: {}, method: 'list', result: { workers: [summary] } },
  { def: WorkerListPage, request: { after: 'w-0', limit: 1 }, method: 'listPage', result: { workers: [summary], next: 'w-1', total: 3 } },
  { def: WorkerInfo, request: { worker: 'w-1' }, method: 'info', result: { worker: summary, threads: [thread] } },
  { def: WorkerErrors, request: {}, method: 'errors', result: { threads: [] } },
  { def: WorkerHistory, request: { worker: 'w-1', index: 0 }, method: 'history', result: { entries: [], truncated: false } },
  { def: WorkerPause, request: { worker: 'w-1', index: 0 }, method: 'pause', result: { worker: 'w-1', index: 0, changed: true } },
  { def: WorkerResume, request: { worker: 'w-1', index: 0, state: 'Allocated' }, method: 'resume', result: { worker: 'w-1', index: 0, state: 'Allocated', changed: true } },
  { def: WorkerDrain, request: { worker: 'w-1' }, method: 'drain', result: { worker: 'w-1', threads: 2, paused: 1, finished: false } },
  { def: WorkerRemove, request: { worker: 'w-1' }, method: 'remove', result: { worker: 'w-1', removed: true } },
];

/** A use case stand-in: records each call and answers with the case's result (or `fail`). */
function standIn(methods: readonly string[], calls: [string, unknown, unknown?][], fail: Map<string, Error>): Record<string, (req?: unknown, by?: unknown) => unknown> {
  const out: Record<string, (req?: unknown, by?: unknown) => unknown> = {};
  for (const m of methods) {
    out[m] = (req?: unknown, by?: unknown) => {
      calls.push([m, req, by]);
      const error = fail.get(m);
      if (error) throw error;
      return Promise.resolve(CASES.find((c) => c.method === m)!.result);
    };
  }
  return out;
}

let nc: NatsConnection;
let clientNc: NatsConnection;
let client: CommandBus;
let app: INestMicroservice;
let transport: FleetTransport;
const calls: [string, unknown, unknown?][] = [];
const fail = new Map<string, Error>();
const lifecycle: string[] = [];

beforeAll(async () => {
  nc = await connect({ servers: sharedNatsUrl() });
  clientNc = await connect({ servers: sharedNatsUrl() });
  client = new CommandBus({ nc: clientNc, subjects, logger, signer: testTrust().signer('admin', 'wiring-operator') });
  // The transport needs only these parts of a FleetCore; the use cases that would use the rest are stand-ins.
  const core = {
    config: { host: 'wiring-test' },
    logger,
    subjects,
    nc,
    commands: new CommandBus({ nc, subjects, logger, auth: { verifier: testTrust().verifier() } }),
    consumers: {
      create: () => {
        throw new Error('the registry binds no event consumers');
      },
    },
    health: new ServiceHealth('worker-registry', { defaultMetrics: false }),
    start: () => undefined,
    serveHealth: async () => undefined,
    close: async () => undefined,
  } as unknown as FleetCore;
  const moduleRef = await Test.createTestingModule({
    imports: [WorkerRegistryModule.forRoot({ core: testCoreConfig('postgres://unused', bus), registry: WORKER_REGISTRY_DEFAULTS, trust: testTrustConfig('service', 'worker-registry') }, { relay: false })],
  })
    .overrideProvider(FLEET_CORE)
    .useValue(core)
    .overrideProvider(WorkerQueries)
    .useValue(standIn(['list', 'listPage', 'info', 'errors', 'history'], calls, fail))
    .overrideProvider(WorkerControl)
    .useValue(standIn(['pause', 'resume', 'drain', 'remove'], calls, fail))
    .overrideProvider(HostLiveness)
    .useValue({
      start: () => void lifecycle.push('hosts start'),
      stop: () => void lifecycle.push('hosts stop'),
      observe: () => undefined,
      heartbeat: (req: unknown, scope: unknown) => {
        calls.push(['heartbeat', req, scope]);
        return Promise.resolve({ host: 'h1', state: 'online' });
      },
      list: () => {
        calls.push(['hosts', undefined]);
        return { hosts: [] };
      },
    })
    .overrideProvider(WorkerRegistry)
    .useValue({ start: async () => void lifecycle.push('registry start'), stop: async () => void lifecycle.push('registry stop') })
    .overrideProvider(ReportIntake)
    .useValue({ start: async () => void lifecycle.push('intake start'), stop: async () => void lifecycle.push('intake stop') })
    .compile();
  transport = new FleetTransport(core, { serviceName: 'worker-registry' });
  app = moduleRef.createNestMicroservice({ strategy: transport });
  app.useGlobalFilters(new FleetRpcExceptionFilter());
  await app.listen();
});

afterAll(async () => {
  await app?.close();
  await nc?.close();
  await clientNc?.close();
});

describe('worker-registry command wiring', () => {
  it("binds each of the 9 commands once, the hosts' heartbeat and query, and the hosts' event intake, after the registry and then the report intake started", () => {
    expect(lifecycle.filter((l) => !l.startsWith('hosts'))).toEqual(['registry start', 'intake start']);
    expect(lifecycle).toContain('hosts start');
    const bound = transport.bindings().commands.map((c) => c.subject).sort();
    expect(bound).toEqual(
      [
        ...CASES.map((c) => subjects.command(c.def.service, c.def.verb)),
        subjects.command(HostsList.service, HostsList.verb),
        subjects.scopedCommandWildcard(HostHeartbeat.service, HostHeartbeat.verb),
        subjects.scopedCommandWildcard('event-intake', 'append'),
      ].sort(),
    );
  });

  it("a host heartbeat reaches HostLiveness with its subject's host; the hosts query reaches it too", async () => {
    calls.length = 0;
    const body = { host: 'h1', fleetvisorVersion: '0.2.0', services: 1, sentAt: '2026-12-01T00:00:00.000Z' };
    expect(await client.request(HostHeartbeat, body, { scope: 'h1' })).toEqual({ ok: true, result: { host: 'h1', state: 'online' } });
    expect(await client.request(HostsList, {})).toEqual({ ok: true, result: { hosts: [] } });
    expect(calls).toEqual([['heartbeat', body, 'h1'], ['hosts', undefined]]);
  });

  it.each(CASES.map((c) => [`${c.def.service}.${c.def.verb}`, c] as const))('%s reaches its use case and replies in the contract shape', async (_name, c) => {
    calls.length = 0;
    const reply = await client.request(c.def, c.request as never);
    expect(reply).toEqual({ ok: true, result: c.result });
    // Commands without fields pass nothing the use case needs; the others pass the request as sent.
    expect(calls.map(([m]) => m)).toEqual([c.method]);
    if (Object.keys(c.request).length > 0) expect(calls[0]![1]).toEqual(c.request);
    // A mutating command reaches its use case with its verified signer and id; a query with none.
    if (c.def.role) expect(calls[0]![2]).toMatchObject({ actor: 'wiring-operator', commandId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    else expect(calls[0]![2]).toBeUndefined();
  });

  it("replies with the use case's error code and message", async () => {
    fail.set('pause', new CommandFailure('not_found', 'unknown worker "w-9"'));
    fail.set('info', new Error('database went away'));
    try {
      expect(await client.request(WorkerPause, { worker: 'w-9', index: 0 })).toEqual({ ok: false, error: { code: 'not_found', message: 'unknown worker "w-9"' } });
      expect(await client.request(WorkerInfo, { worker: 'w-1' })).toMatchObject({ ok: false, error: { code: 'internal' } });
    } finally {
      fail.clear();
    }
  });

  it('refuses an invalid request before the use case', async () => {
    calls.length = 0;
    const reply = await client.request({ service: 'worker-registry', verb: 'pause', role: 'operate' }, { worker: 'w-1', index: -1 });
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(calls).toEqual([]);
  });

  it('stops the report intake, then the registry, when the app closes', async () => {
    const closing = app;
    app = undefined as unknown as INestMicroservice;
    await closing.close();
    expect(lifecycle.filter((l) => !l.startsWith('hosts')).slice(2)).toEqual(['intake stop', 'registry stop']);
    expect(transport.bindings().commands).toEqual([]);
  });
});
