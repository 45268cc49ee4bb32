// Event store benchmark: `npm run bench:event-store [-- --quick]`.
//
// Measures libs/event-store (PostgresEventStore, ProjectionRunner) and libs/messaging (OutboxRelay,
// EventConsumer) against the targets of the event-store issue, with Emmett as the baseline on the
// same Postgres. Every run creates its own two databases (ours, Emmett's) and its own JetStream
// stream and subject root on the shared servers, and removes them at the end.
//
// Phases run in child processes (bench/phases/*, bench/baselines/emmett.ts) so that each has its
// own heap and RSS. Append shapes alternate between ours and Emmett, shape by shape, so that load
// from other work on this machine hits both sides alike.
//
// Output: progress and tables on stderr; ONE JSON object as the last line of stdout.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { adminDatabaseUrl, createTestDatabase, sharedNatsUrl, type TestDatabase } from '@fleetvisor/testing';
import type { emmettOps } from './baselines/emmett';
import { PhaseProcess } from './lib/child';
import type { CpuPerEvent } from './lib/cpu';
import { emitResult, progress } from './lib/log';
import { checkpointFirst, loadSnapshot, machineInfo, type LoadSnapshot } from './lib/machine';
import { markdownTable, textTable, type Cell } from './lib/table';
import { nowMs } from './lib/timer';
import { APPEND_SHAPES, mergeRounds, payloadStats, shapeKey, type AppendRound, type AppendShapeResult, type CatchUpResult } from './lib/workload';
import type { consumerOps } from './phases/delivery-consumer';
import { deliveryReport, latencyCapacity, type DeliveryReport, type HorizonReport, type latencyOps, type RelayBreakdown } from './phases/delivery-latency';
import type { MemoryReport } from './lib/rss-sampler';
import type { fleetvisorOps, SeedMethod, SeedResult } from './phases/fleetvisor-store';
import type { RebuildPhaseResult, rebuildOps } from './phases/rebuild';

interface Options {
  quick: boolean;
  /** Duration of one round of one append shape; each shape runs `appendRounds` rounds per store. */
  appendMs: number;
  appendRounds: number;
  warmupMs: number;
  eventsPerStream: number;
  poolSize: number;
  readBatchSize: number;
  emmettReadCapMs: number;
  rebuildEvents: number;
  seedMethod: SeedMethod;
  latencySeconds: number;
  latencyRate: number;
  latencyStreams: number;
  latencyPoolSize: number;
}

interface LatencyResult extends DeliveryReport {
  natsServer: string;
  relay: RelayBreakdown;
  horizon: HorizonReport;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  consumer: { received: number; handled: number; deadLettered: number; malformed: number };
  memory: { appendersAndRelay: MemoryReport; consumer: MemoryReport };
}

const USAGE = `usage: npm run bench:event-store [-- options]
  --quick                 short run (< 60 s): 3 x 400 ms per append shape, 200,000-event rebuild, 5 s latency
  --append-ms=N           duration of one round of an append shape (default 400 quick, 1000 full)
  --rounds=N              rounds per append shape and store, alternating ours/Emmett (default 3 quick, 4 full)
  --rebuild-events=N      events in the log for the rebuild (default 200000 quick, 1000000 full)
  --seed=append|sql       how the rebuild log is filled (default append: appendToStream, batches of 1000)
  --latency-seconds=N     paced append->delivery window (default 5 quick, 30 full)
  --rate=N                paced rate for the latency phase, events/s (default 1000)
  --pool=N                Postgres pool size for both stores (default 10)`;

function parseArgs(argv: readonly string[]): Options {
  const flags = new Map<string, string>();
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      process.stderr.write(USAGE + '\n');
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument "${a}"\n${USAGE}`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  const known = ['quick', 'append-ms', 'rounds', 'rebuild-events', 'seed', 'latency-seconds', 'rate', 'pool'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
  const quick = flags.get('quick') === 'true';
  const int = (name: string, def: number): number => {
    const raw = flags.get(name);
    if (raw === undefined) return def;
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
    return v;
  };
  const seed = flags.get('seed') ?? 'append';
  if (seed !== 'append' && seed !== 'sql') throw new Error(`--seed must be append or sql, got "${seed}"`);
  return {
    quick,
    appendMs: int('append-ms', quick ? 400 : 1_000),
    appendRounds: int('rounds', quick ? 3 : 4),
    warmupMs: quick ? 400 : 1_000,
    eventsPerStream: 1_000,
    poolSize: int('pool', 10),
    readBatchSize: 1_000,
    emmettReadCapMs: quick ? 2_500 : 15_000,
    rebuildEvents: int('rebuild-events', quick ? 200_000 : 1_000_000),
    seedMethod: seed,
    latencySeconds: int('latency-seconds', quick ? 5 : 30),
    latencyRate: int('rate', 1_000),
    latencyStreams: 32,
    latencyPoolSize: 10,
  };
}

/** The code measured: HEAD and how many files under libs/ differ from it (others are working here). */
function codeVersion(): { head: string; uncommittedLibFiles: number } {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' }).trim();
  try {
    return { head: git('rev-parse', '--short', 'HEAD'), uncommittedLibFiles: git('status', '--porcelain', '--', 'libs').split('\n').filter(Boolean).length };
  } catch {
    return { head: 'unknown', uncommittedLibFiles: -1 };
  }
}

/** Deletes the run's JetStream streams if a phase could not (the consumer phase normally does). */
async function deleteStreams(natsUrl: string, names: readonly string[]): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 3_000 });
  try {
    const jsm = await nc.jetstreamManager();
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/** Set on SIGINT/SIGTERM: the run is being torn down, failures of pending phases are expected. */
let stopping = false;

type Status = 'PASS' | 'FAIL' | 'N/A';

interface TargetRow {
  id: string;
  metric: string;
  target: string;
  ours: string;
  emmett: string;
  status: Status;
  note?: string;
}

const fmt = (v: number): string => Math.round(v).toLocaleString('en-US');
const ms = (v: number): string => `${v.toLocaleString('en-US', { maximumFractionDigits: 1 })} ms`;

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = nowMs();
  const startedAt = new Date().toISOString();
  const adminUrl = adminDatabaseUrl();
  const natsUrl = sharedNatsUrl();
  const tag = randomBytes(4).toString('hex');
  const bus = { subjectRoot: `bench_${tag}`, eventStreamName: `BENCH_${tag.toUpperCase()}_EVENTS` };

  const machine = await machineInfo(adminUrl);
  const code = codeVersion();
  // Load average through the run: the machine is shared with other work, and it shows in the numbers.
  const loadSamples: number[] = [];
  const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0] ?? 0), 2_000);
  loadTimer.unref();
  const dbs: TestDatabase[] = [];
  const phases: { stop(): Promise<void> }[] = [];
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    stopping = true;
    progress('interrupted: cleaning up (again to force)');
    void cleanupAll().finally(() => process.exit(130));
  };
  const cleanupAll = async (): Promise<void> => {
    await Promise.allSettled(phases.map((p) => p.stop()));
    await Promise.allSettled([...dbs.map((d) => d.drop()), deleteStreams(natsUrl, [bus.eventStreamName, `${bus.eventStreamName}_DLQ`])]);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const noCheckpoint = await checkpointFirst(adminUrl);
    if (noCheckpoint) progress(noCheckpoint);
    const oursDb = await createTestDatabase(`bench_fv_${tag}`, adminUrl);
    dbs.push(oursDb);
    const emmettDb = await createTestDatabase(`bench_emmett_${tag}`, adminUrl);
    dbs.push(emmettDb);
    const ownNames = dbs.map((d) => d.name);
    const loadBefore = await loadSnapshot(adminUrl, ownNames);
    progress(
      `mode ${opts.quick ? 'quick' : 'full'}; ${machine.nproc} CPUs, ${machine.memoryGb} GB, Postgres ${machine.postgres}, Node ${machine.node}; ` +
        `load ${loadBefore.loadavg1m}, ${loadBefore.otherPostgresBackends} other Postgres backends, ${loadBefore.otherDatabases} other databases`,
    );
    progress(`databases ${oursDb.name}, ${emmettDb.name}; JetStream stream ${bus.eventStreamName}, subjects ${bus.subjectRoot}.evt.>`);

    // 1-3. Appends (interleaved shape by shape) and catch-up reads.
    const ours = PhaseProcess.start<typeof fleetvisorOps>(path.join(__dirname, 'phases', 'fleetvisor-store.ts'), 'fleetvisor');
    const emmett = PhaseProcess.start<typeof emmettOps>(path.join(__dirname, 'baselines', 'emmett.ts'), 'emmett');
    phases.push(ours, emmett);
    const oursOpen = await ours.call('open', { databaseUrl: oursDb.url, poolSize: opts.poolSize });
    const emmettOpen = await emmett.call('open', { databaseUrl: emmettDb.url, poolSize: opts.poolSize });
    progress(`schemas ready: ours ${oursOpen.migrateMs} ms, Emmett ${emmettOpen.migrateMs} ms (${emmettOpen.version})`);
    const warm = { shape: { batchSize: 10, writers: 8 }, durationMs: opts.warmupMs, eventsPerStream: opts.eventsPerStream };
    await ours.call('appendShape', { ...warm, tag: `${tag}warm` });
    await emmett.call('appendShape', { ...warm, tag: `${tag}warm` });

    const oursAppends: AppendShapeResult[] = [];
    const emmettAppends: AppendShapeResult[] = [];
    for (const shape of APPEND_SHAPES) {
      const oursRounds: AppendRound[] = [];
      const emmettRounds: AppendRound[] = [];
      for (let round = 0; round < opts.appendRounds; round++) {
        const args = { shape, durationMs: opts.appendMs, eventsPerStream: opts.eventsPerStream, tag: `${tag}r${round}` };
        const runOurs = async (): Promise<void> => {
          oursRounds.push(await ours.call('appendShape', args));
        };
        const runEmmett = async (): Promise<void> => {
          emmettRounds.push(await emmett.call('appendShape', args));
        };
        // ABBA order: a drift in background load hits both sides alike.
        if (round % 2 === 0) {
          await runOurs();
          await runEmmett();
        } else {
          await runEmmett();
          await runOurs();
        }
      }
      const o = mergeRounds(oursRounds);
      const e = mergeRounds(emmettRounds);
      oursAppends.push(o);
      emmettAppends.push(e);
      progress(`append ${shapeKey(shape)}: ours ${fmt(o.eventsPerSec)} events/s (call p50 ${o.callLatency.p50Ms} ms), Emmett ${fmt(e.eventsPerSec)} events/s (call p50 ${e.callLatency.p50Ms} ms)`);
    }

    const oursRead = await ours.call('readAll', { batchSize: opts.readBatchSize, capMs: 0 });
    progress(`readAll ours: ${fmt(oursRead.eventsPerSec)} events/s over ${fmt(oursRead.events)} events`);
    const emmettRead = await emmett.call('readAll', { batchSize: opts.readBatchSize, capMs: opts.emmettReadCapMs });
    progress(
      `readMessagesBatch Emmett: ${fmt(emmettRead.eventsPerSec)} events/s over ${fmt(emmettRead.events)} of ${fmt(emmettRead.logEvents)} events` +
        `${emmettRead.capped ? ` (stopped at the ${opts.emmettReadCapMs} ms cap)` : ''}; ${fmt(emmettRead.events - emmettRead.distinctEvents)} returned twice, ` +
        `${fmt(emmettRead.skipped)} never returned`,
    );
    await emmett.stop();

    // 5. Append -> JetStream delivery latency (before seeding, on the bench log; the relay starts at its
    // head). Appenders + relay in one process (as FleetCore runs them), the consumer in another.
    const consumerPhase = PhaseProcess.start<typeof consumerOps>(path.join(__dirname, 'phases', 'delivery-consumer.ts'), 'consumer');
    const latencyPhase = PhaseProcess.start<typeof latencyOps>(path.join(__dirname, 'phases', 'delivery-latency.ts'), 'latency');
    phases.push(consumerPhase, latencyPhase);
    const latencyArgs = {
      databaseUrl: oursDb.url,
      natsUrl,
      subjectRoot: bus.subjectRoot,
      streamName: bus.eventStreamName,
      ratePerSec: opts.latencyRate,
      durationMs: opts.latencySeconds * 1000,
      warmupMs: opts.quick ? 1_000 : 3_000,
      streams: opts.latencyStreams,
      poolSize: opts.latencyPoolSize,
    };
    const { natsServer } = await consumerPhase.call('start', {
      natsUrl,
      subjectRoot: bus.subjectRoot,
      streamName: bus.eventStreamName,
      streamMaxAgeMs: 15 * 60_000,
      capacity: latencyCapacity(latencyArgs.ratePerSec, latencyArgs.warmupMs, latencyArgs.durationMs),
    });
    await latencyPhase.call('prepare', latencyArgs);
    await consumerPhase.call('markStart', undefined);
    const run = await latencyPhase.call('measure', {});
    const collected = await consumerPhase.call('collect', { seqFrom: run.records.seqFrom, count: run.records.count, timeoutMs: 10_000 });
    await consumerPhase.call('close', undefined);
    await Promise.all([latencyPhase.stop(), consumerPhase.stop()]);
    const latency: LatencyResult = {
      natsServer,
      ...deliveryReport(run, collected.receivedAt),
      relay: run.relay,
      horizon: run.horizon,
      eventLoopDelayMs: run.eventLoopDelayMs,
      consumer: collected.metrics,
      memory: { appendersAndRelay: run.memory, consumer: collected.memory },
    };
    progress(
      `latency: p50 ${latency.appendToDelivery.p50Ms} ms, p99 ${latency.appendToDelivery.p99Ms} ms over ${fmt(latency.delivered)} events ` +
        `(append p50 ${latency.appendCall.p50Ms} ms, commit->publish p50 ${latency.commitToPublish.p50Ms} ms, publish->handler p50 ${latency.publishToHandler.p50Ms} ms); ` +
        `snapshot xmin held by another database in ${latency.horizon.foreignHeld}/${latency.horizon.samples} samples (${fmt(latency.heldByForeignTransaction)} events delayed; ` +
        `others p99 ${latency.appendToDeliveryNotHeld.p99Ms} ms)`,
    );

    // 4. Seed the log up to the rebuild size, then rebuild in a fresh process.
    progress(`seeding the log to ${fmt(opts.rebuildEvents)} events (${opts.seedMethod})`);
    const seed: SeedResult = await ours.call('seed', {
      targetEvents: opts.rebuildEvents,
      method: opts.seedMethod,
      writers: 4,
      batchSize: 1_000,
      eventsPerStream: 1_000,
    });
    progress(`seeded ${fmt(seed.seededEvents)} events in ${ms(seed.elapsedMs)} (${fmt(seed.eventsPerSec)} events/s); log holds ${fmt(seed.totalEvents)}`);
    await ours.stop();

    const rebuildPhase = PhaseProcess.start<typeof rebuildOps>(path.join(__dirname, 'phases', 'rebuild.ts'), 'rebuild');
    phases.push(rebuildPhase);
    const rebuild: RebuildPhaseResult = await rebuildPhase.call('rebuild', { databaseUrl: oursDb.url, poolSize: opts.poolSize });
    progress(`rebuild ${rebuild.projection}: ${fmt(rebuild.events)} events in ${ms(rebuild.durationMs)} (${fmt(rebuild.eventsPerSec)} events/s), peak RSS ${rebuild.rss.peakMb} MB`);
    const fullLogRead: CatchUpResult = await rebuildPhase.call('readAll', { batchSize: opts.readBatchSize, capMs: 0 });
    progress(`readAll ours over the seeded log: ${fmt(fullLogRead.eventsPerSec)} events/s over ${fmt(fullLogRead.events)} events`);
    await rebuildPhase.stop();

    const loadAfter = await loadSnapshot(adminUrl, ownNames);
    clearInterval(loadTimer);
    const loadDuring = {
      loadavg1mMean: Math.round((loadSamples.reduce((a, b) => a + b, 0) / Math.max(1, loadSamples.length)) * 100) / 100,
      loadavg1mMax: Math.round(Math.max(0, ...loadSamples) * 100) / 100,
    };
    const result = buildResult({
      opts,
      startedAt,
      durationMs: Math.round(nowMs() - started),
      machine,
      load: { before: loadBefore, during: loadDuring, after: loadAfter },
      bus,
      databases: ownNames,
      versions: { ours: oursOpen.version, emmett: emmettOpen.version, code },
      migrateMs: { ours: oursOpen.migrateMs, emmett: emmettOpen.migrateMs },
      oursAppends,
      emmettAppends,
      oursRead,
      emmettRead,
      fullLogRead,
      seed,
      rebuild,
      latency,
    });
    printSummary(result.targets, result);
    emitResult(result);
  } finally {
    await cleanupAll();
  }
}

interface ResultInput {
  opts: Options;
  startedAt: string;
  durationMs: number;
  machine: Awaited<ReturnType<typeof machineInfo>>;
  load: { before: LoadSnapshot; during: { loadavg1mMean: number; loadavg1mMax: number }; after: LoadSnapshot };
  bus: { subjectRoot: string; eventStreamName: string };
  databases: string[];
  versions: { ours: string; emmett: string; code: { head: string; uncommittedLibFiles: number } };
  migrateMs: { ours: number; emmett: number };
  oursAppends: AppendShapeResult[];
  emmettAppends: AppendShapeResult[];
  oursRead: CatchUpResult;
  emmettRead: CatchUpResult;
  fullLogRead: CatchUpResult;
  seed: SeedResult;
  rebuild: RebuildPhaseResult;
  latency: LatencyResult;
}

/**
 * "Bounded memory", made checkable: over the latency window, each process (appenders + relay;
 * consumer) keeps its retained heap (after a full GC) within BOUNDED_HEAP_GROWTH_MB and its RSS
 * within BOUNDED_RSS_GROWTH_MB of where it started; the rebuild's peak RSS stays under
 * BOUNDED_REBUILD_PEAK_MB whatever the log size (it works in batches).
 */
const BOUNDED_HEAP_GROWTH_MB = 16;
const BOUNDED_RSS_GROWTH_MB = 50;
const BOUNDED_REBUILD_PEAK_MB = 512;

function buildResult(r: ResultInput) {
  const byShape = (list: AppendShapeResult[]): Record<string, number> => Object.fromEntries(list.map((a) => [shapeKey(a), a.eventsPerSec]));
  const find = (list: AppendShapeResult[], b: number, w: number): AppendShapeResult => list.find((a) => a.batchSize === b && a.writers === w)!;
  const ob1w8 = find(r.oursAppends, 1, 8);
  const eb1w8 = find(r.emmettAppends, 1, 8);
  const ob100w8 = find(r.oursAppends, 100, 8);
  const eb100w8 = find(r.emmettAppends, 100, 8);
  const appendRatioVsEmmett = Math.round((ob1w8.eventsPerSec / Math.max(1, eb1w8.eventsPerSec)) * 100) / 100;
  const readAllEventsPerSec = r.oursRead.eventsPerSec;
  const fullRebuild = r.rebuild.events >= 1_000_000;
  const growth = (m: MemoryReport): { rssMb: number; heapMb: number } => ({
    rssMb: Math.round((m.endMb - m.startMb) * 10) / 10,
    heapMb: Math.round((m.retainedHeapEndMb - m.retainedHeapStartMb) * 10) / 10,
  });
  const relayGrowth = growth(r.latency.memory.appendersAndRelay);
  const consumerGrowth = growth(r.latency.memory.consumer);
  const bounded =
    [relayGrowth, consumerGrowth].every((g) => g.rssMb <= BOUNDED_RSS_GROWTH_MB && g.heapMb <= BOUNDED_HEAP_GROWTH_MB) &&
    r.rebuild.rss.peakMb <= BOUNDED_REBUILD_PEAK_MB;
  const memText = (m: MemoryReport): string =>
    `RSS ${m.startMb} -> ${m.endMb} MB (peak ${m.peakMb}), heap after GC ${m.retainedHeapStartMb} -> ${m.retainedHeapEndMb} MB`;
  const status = (ok: boolean): Status => (ok ? 'PASS' : 'FAIL');

  const targets: TargetRow[] = [
    {
      id: 'append_b1_w8_vs_emmett',
      metric: 'Append, batch 1 x 8 writers (events/s)',
      target: '>= 2x Emmett',
      ours: fmt(ob1w8.eventsPerSec),
      emmett: fmt(eb1w8.eventsPerSec),
      status: status(appendRatioVsEmmett >= 2),
      note: `ratio ${appendRatioVsEmmett}x`,
    },
    {
      id: 'append_b100',
      metric: 'Append, batch 100 x 8 writers (events/s)',
      target: '>= 50,000',
      ours: fmt(ob100w8.eventsPerSec),
      emmett: fmt(eb100w8.eventsPerSec),
      status: status(ob100w8.eventsPerSec >= 50_000),
    },
    {
      id: 'read_all',
      metric: 'readAll catch-up over the appended log (events/s)',
      target: '>= 200,000',
      ours: fmt(readAllEventsPerSec),
      emmett: `${fmt(r.emmettRead.eventsPerSec)}${r.emmettRead.capped ? ' (capped)' : ''}`,
      status: status(readAllEventsPerSec >= 200_000),
      note:
        `${fmt(r.oursRead.events)} events ours (CPU ${cpuText(r.oursRead.cpu)} µs/event), ${fmt(r.emmettRead.logEvents)} Emmett (CPU ${cpuText(r.emmettRead.cpu)}; ` +
        `${fmt(r.emmettRead.events - r.emmettRead.distinctEvents)} returned twice, ${fmt(r.emmettRead.skipped)} skipped); ` +
        `seeded log: ${fmt(r.fullLogRead.eventsPerSec)} events/s over ${fmt(r.fullLogRead.events)}`,
    },
    {
      id: 'rebuild',
      metric: `Rebuild ${r.rebuild.projection} over ${fmt(r.rebuild.events)} events`,
      target: '1M events <= 15 s',
      ours: `${ms(r.rebuild.durationMs)} (${fmt(r.rebuild.eventsPerSec)} events/s, CPU ${cpuText(r.rebuild.cpu)} µs/event), peak RSS ${r.rebuild.rss.peakMb} MB`,
      emmett: '-',
      status: fullRebuild ? status(r.rebuild.durationMs <= 15_000) : 'N/A',
      ...(fullRebuild ? {} : { note: `quick run: ${fmt(r.rebuild.events)} events, not judged against the 1M target` }),
    },
    {
      id: 'delivery_p99',
      metric: `Append -> JetStream delivery at ${fmt(r.latency.ratePerSec)}/s for ${r.latency.durationMs / 1000} s`,
      target: 'p99 <= 50 ms',
      ours: `p50 ${ms(r.latency.appendToDelivery.p50Ms)}, p99 ${ms(r.latency.appendToDelivery.p99Ms)}`,
      emmett: '-',
      status: status(r.latency.appendToDelivery.p99Ms <= 50 && r.latency.missing === 0),
      note:
        `${fmt(r.latency.delivered)} delivered, ${r.latency.missing} missing; append call p50/p99 ${r.latency.appendCall.p50Ms}/${r.latency.appendCall.p99Ms} ms, ` +
        `commit->relay publish p50/p99 ${r.latency.commitToPublish.p50Ms}/${r.latency.commitToPublish.p99Ms} ms, ` +
        `publish->handler p50/p99 ${r.latency.publishToHandler.p50Ms}/${r.latency.publishToHandler.p99Ms} ms; ` +
        `snapshot xmin held by another database in ${r.latency.horizon.foreignHeld}/${r.latency.horizon.samples} samples, ` +
        `delaying ${fmt(r.latency.heldByForeignTransaction)} events; the others: p50 ${r.latency.appendToDeliveryNotHeld.p50Ms} ms, p99 ${r.latency.appendToDeliveryNotHeld.p99Ms} ms`,
    },
    {
      id: 'bounded_memory',
      metric: 'Bounded memory (latency window: appenders+relay process, consumer process; rebuild)',
      target: `per process: heap after GC +<= ${BOUNDED_HEAP_GROWTH_MB} MB, RSS +<= ${BOUNDED_RSS_GROWTH_MB} MB; rebuild peak RSS <= ${BOUNDED_REBUILD_PEAK_MB} MB`,
      ours:
        `appenders+relay ${memText(r.latency.memory.appendersAndRelay)}; consumer ${memText(r.latency.memory.consumer)}; ` +
        `rebuild peak RSS ${r.rebuild.rss.peakMb} MB`,
      emmett: '-',
      status: status(bounded),
    },
  ];

  return {
    bench: 'event-store',
    mode: r.opts.quick ? 'quick' : 'full',
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    command: `npm run bench:event-store${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: r.machine,
    load: r.load,
    config: {
      appendMsPerRound: r.opts.appendMs,
      appendRoundsPerShape: r.opts.appendRounds,
      poolSize: r.opts.poolSize,
      readBatchSize: r.opts.readBatchSize,
      eventsPerStream: r.opts.eventsPerStream,
      emmettReadCapMs: r.opts.emmettReadCapMs,
      latencyRate: r.opts.latencyRate,
      latencySeconds: r.opts.latencySeconds,
      latencyStreams: r.opts.latencyStreams,
      latencyPoolSize: r.opts.latencyPoolSize,
      rebuildEvents: r.opts.rebuildEvents,
      seedMethod: r.opts.seedMethod,
      expectedVersion: 'exact (each writer owns its streams)',
    },
    bus: r.bus,
    databases: r.databases,
    versions: r.versions,
    migrateMs: r.migrateMs,
    payload: payloadStats(),
    appendEventsPerSec: { ours: byShape(r.oursAppends), emmett: byShape(r.emmettAppends) },
    appendRatioVsEmmett,
    appendRatioVsEmmettByShape: Object.fromEntries(
      r.oursAppends.map((o) => [shapeKey(o), Math.round((o.eventsPerSec / Math.max(1, find(r.emmettAppends, o.batchSize, o.writers).eventsPerSec)) * 100) / 100]),
    ),
    appends: { ours: r.oursAppends, emmett: r.emmettAppends },
    readAllEventsPerSec,
    readAll: { ours: r.oursRead, emmett: r.emmettRead, oursSeededLog: r.fullLogRead },
    seed: r.seed,
    rebuild: r.rebuild,
    latency: r.latency,
    deliveryP50Ms: r.latency.appendToDelivery.p50Ms,
    deliveryP99Ms: r.latency.appendToDelivery.p99Ms,
    memoryGrowth: { appendersAndRelay: relayGrowth, consumer: consumerGrowth },
    targets,
    pass: targets.every((t) => t.status !== 'FAIL'),
  };
}

function cpuText(cpu: CpuPerEvent | undefined): string {
  if (!cpu) return '-';
  return cpu.serverUs === null ? `${cpu.clientUs} + ?` : `${cpu.clientUs} + ${cpu.serverUs}`;
}

function printSummary(targets: readonly TargetRow[], result: ReturnType<typeof buildResult>): void {
  const shapeRows: Cell[][] = result.appends.ours.map((o) => {
    const e = result.appends.emmett.find((x) => x.batchSize === o.batchSize && x.writers === o.writers)!;
    return [
      `batch ${o.batchSize} x ${o.writers} writer${o.writers > 1 ? 's' : ''}`,
      o.eventsPerSec,
      e.eventsPerSec,
      `${result.appendRatioVsEmmettByShape[shapeKey(o)]}x`,
      `${o.callLatency.p50Ms} / ${o.callLatency.p99Ms}`,
      `${e.callLatency.p50Ms} / ${e.callLatency.p99Ms}`,
      cpuText(o.cpu),
      cpuText(e.cpu),
    ];
  });
  const shapeHeader = [
    'append shape',
    'ours ev/s',
    'Emmett ev/s',
    'ours/Emmett',
    'ours call p50/p99 ms',
    'Emmett call p50/p99 ms',
    'ours CPU µs/event (node+pg)',
    'Emmett CPU µs/event (node+pg)',
  ];
  const targetHeader = ['metric', 'target', 'ours', 'Emmett', 'status'];
  const targetRows = targets.map((t) => [t.metric + (t.note ? ` [${t.note}]` : ''), t.target, t.ours, t.emmett, t.status]);
  process.stderr.write('\n' + textTable(shapeHeader, shapeRows) + '\n\n' + textTable(targetHeader, targetRows) + '\n\n');
  process.stderr.write('Markdown (docs/benchmarks.md):\n\n' + markdownTable(shapeHeader, shapeRows) + '\n\n' + markdownTable(targetHeader, targetRows) + '\n\n');
  process.stderr.write(
    `total ${(result.durationMs / 1000).toFixed(1)} s; load average during the run ${result.load.during.loadavg1mMean} (max ${result.load.during.loadavg1mMax}) ` +
      `on ${result.machine.nproc} CPUs; ${result.pass ? 'all judged targets met' : 'some targets missed'}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    // Interrupted: the signal handler finishes the cleanup and exits.
    if (stopping) return;
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
