// Wiring of the worker-agent's Nest shell, without NATS: Test.createTestingModule with the thread
// source and the edge bus overridden, FleetTransport over a recording bus. What is checked is
// what only the wiring decides: the subjects the commands are served on, that a request reaches
// AgentCommands and the source through Nest, and that the lifecycle starts and stops the agent.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Test } from '@nestjs/testing';
import type { INestMicroservice } from '@nestjs/common';
import type { ThreadInfo, WorkerReport } from '@fleetvisor/contracts';
import { CommandFailure, FLEET_EDGE_BUS, FleetRpcExceptionFilter, FleetTransport, ServiceHealth, type CommandBus } from '@fleetvisor/messaging';
import { writeSectorFiles } from '@fleetvisor/devnet';
import { expectEventually, testTrustConfig } from '@fleetvisor/testing';
import { RecordingBus } from '@fleetvisor/messaging/testing';
import { loadWorkerAgentConfig } from './config';
import type { DrainProgress, ThreadSource } from './sources/thread-source';
import { THREAD_SOURCE, WorkerAgentModule } from './worker-agent.module';

const logger = pino({ level: 'silent' });

class FakeSource implements ThreadSource {
  readonly kind = 'simulated' as const;
  readonly calls: string[] = [];
  running = false;
  async start(): Promise<void> {
    this.running = true;
  }
  async stop(): Promise<void> {
    this.running = false;
  }
  version(): string {
    return '1.0.0-fake';
  }
  async threads(): Promise<ThreadInfo[]> {
    return [{ index: 0, location: '/d/0', plan: 'sealer', state: 'Empty', threadState: 'running', elapsedSecs: 1 } as ThreadInfo];
  }
  async pause(index: number): Promise<boolean> {
    this.calls.push(`pause ${index}`);
    return true;
  }
  async resume(index: number): Promise<boolean> {
    this.calls.push(`resume ${index}`);
    return true;
  }
  async drain(): Promise<DrainProgress> {
    return { threads: 1, paused: 1, finished: true };
  }
}

let app: INestMicroservice | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function wired(env: Record<string, string> = {}): Promise<{ bus: RecordingBus; source: FakeSource; reports: WorkerReport[] }> {
  const config = { ...loadWorkerAgentConfig(env, () => 'host-1'), name: 'w-07', trust: testTrustConfig() };
  const source = new FakeSource();
  const bus = new RecordingBus(logger);
  const reports: WorkerReport[] = [];
  // The reporter's bus: what the edge bus hands out once connected.
  const commands = { request: async (_def: unknown, report: WorkerReport) => (reports.push(report), { ok: true, result: { appended: 0, acceptedSeq: 0 } }) } as unknown as CommandBus;
  const moduleRef = await Test.createTestingModule({ imports: [WorkerAgentModule.forRoot(config, { logger })] })
    .overrideProvider(THREAD_SOURCE)
    .useValue(source)
    .overrideProvider(FLEET_EDGE_BUS)
    .useValue({ current: { commands }, health: new ServiceHealth('worker-agent', { defaultMetrics: false }), ready: () => new Promise(() => undefined), serveHealth: async () => undefined, close: async () => undefined })
    .compile();
  app = moduleRef.createNestMicroservice({ strategy: new FleetTransport(bus, { serviceName: 'worker-agent', instance: config.name }) });
  app.useGlobalFilters(new FleetRpcExceptionFilter());
  await app.listen();
  return { bus, source, reports };
}

describe('worker-agent wiring', () => {
  it('serves list, pause, resume and drain on subjects addressed to the worker name only, and hears the fleet-wide proving check', async () => {
    const { bus } = await wired();
    expect(bus.served.filter((s) => !s.opts.broadcast).map((s) => s.subject).sort()).toEqual(['drain', 'list', 'pause', 'resume'].map((v) => `fleet.cmd.worker-agent.w-07.${v}`));
    expect(bus.served.filter((s) => s.opts.broadcast).map((s) => s.subject)).toEqual(['fleet.cmd.worker-agent.proving-check']);
    expect(bus.consumed).toEqual([]);
  });

  it('answers the proving check from the configured stores, under the worker name', async () => {
    const store = mkdtempSync(path.join(tmpdir(), 'fv-agent-store-'));
    try {
      writeSectorFiles(store, 't01000', 4, 2048);
      const { bus } = await wired({ FLEETVISOR_WORKER_STORES: store });
      expect(await bus.request('fleet.cmd.worker-agent.proving-check', { minerId: 't01000', sectorSize: 2048, sectors: [3, 4] }, { broadcast: true })).toEqual({
        worker: 'w-07',
        stores: [{ location: store }],
        checked: [{ sector: 4, problems: [] }],
      });
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  it('starts the source with the app, hands commands to it, and stops it with the app', async () => {
    const { bus, source, reports } = await wired();
    expect(source.running).toBe(true);
    expect(await bus.request('fleet.cmd.worker-agent.w-07.list', {})).toMatchObject({ name: 'w-07', version: '1.0.0-fake', threads: [{ index: 0 }] });
    expect(await bus.request('fleet.cmd.worker-agent.w-07.pause', { index: 0 })).toMatchObject({ index: 0, changed: true, controls: 1 });
    expect(source.calls).toEqual(['pause 0']);
    // A change is reported at once (nothing else reports here: NATS never answered).
    await expectEventually(() => expect(reports).toHaveLength(1));
    expect(reports[0]).toMatchObject({ name: 'w-07' });
    // AgentCommands' refusal keeps its code through Nest.
    await expect(bus.request('fleet.cmd.worker-agent.w-07.pause', { index: 9 })).rejects.toBeInstanceOf(CommandFailure);
    await app!.close();
    app = undefined;
    expect(source.running).toBe(false);
  });
});
