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
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { adminDatabaseUrl, createTestDatabase, sharedNatsUrl, type TestDatabase } from '@fleetvisor/testing';
import type { emmettOps } from './baselines/emmett';
import { PhaseProcess } from './lib/child';
import { emitResult, progress } from './lib/log';
import { loadSnapshot, machineInfo, type LoadSnapshot } from './lib/machine';
import { markdownTable, textTable, type Cell } from './lib/table';
import { nowMs } from './lib/timer';
import { APPEND_SHAPES, payloadStats, shapeKey, type AppendShapeResult, type CatchUpResult } from './lib/workload';
import type { LatencyPhaseResult, latencyOps } from './phases/delivery-latency';
import type { fleetvisorOps, SeedMethod, SeedResult } from './phases/fleetvisor-store';
import type { RebuildPhaseResult, rebuildOps } from './phases/rebuild';

interface Options {
  quick: boolean;
  appendMs: number;
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
}

const USAGE = `usage: npm run bench:event-store [-- options]
  --quick                 short run (< 60 s): 1.2 s per append shape, 200,000-event rebuild, 5 s latency
  --append-ms=N           duration of each append shape (default 1200 quick, 4000 full)
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
  const known = ['quick', 'append-ms', 'rebuild-events', 'seed', 'latency-seconds', 'rate', 'pool'];
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
    appendMs: int('append-ms', quick ? 1_200 : 4_000),
    warmupMs: quick ? 400 : 1_000,
    eventsPerStream: 1_000,
    poolSize: int('pool', 10),
    readBatchSize: 1_000,
    emmettReadCapMs: quick ? 2_500 : 15_000,
    rebuildEvents: int('rebuild-events', quick ? 200_000 : 1_000_000),
    seedMethod: seed,
    latencySeconds: int('latency-seconds', quick ? 5 : 30),
    latencyRate: int('rate', 1_000),
    latencyStreams: 16,
  };
}

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
  const dbs: TestDatabase[] = [];
  const phases: { stop(): Promise<void> }[] = [];
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress('interrupted: cleaning up (again to force)');
    void cleanupAll().finally(() => process.exit(130));
  };
  const cleanupAll = async (): Promise<void> => {
    await Promise.allSettled(phases.map((p) => p.stop()));
    await Promise.allSettled(dbs.map((d) => d.drop()));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
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
    const [oursOpen, emmettOpen] = [
      await ours.call('open', { databaseUrl: oursDb.url, poolSize: opts.poolSize }),
      await emmett.call('open', { databaseUrl: emmettDb.url, poolSize: opts.poolSize }),
    ];
    progress(`schemas ready: ours ${oursOpen.migrateMs} ms, Emmett ${emmettOpen.migrateMs} ms (${emmettOpen.version})`);
    const warm = { shape: { batchSize: 10, writers: 8 }, durationMs: opts.warmupMs, eventsPerStream: opts.eventsPerStream };
    await ours.call('appendShape', { ...warm, tag: `${tag}warm` });
    await emmett.call('appendShape', { ...warm, tag: `${tag}warm` });

    const oursAppends: AppendShapeResult[] = [];
    const emmettAppends: AppendShapeResult[] = [];
    for (const [i, shape] of APPEND_SHAPES.entries()) {
      const args = { shape, durationMs: opts.appendMs, eventsPerStream: opts.eventsPerStream, tag };
      const runOurs = async (): Promise<void> => {
        oursAppends.push(await ours.call('appendShape', args));
      };
      const runEmmett = async (): Promise<void> => {
        emmettAppends.push(await emmett.call('appendShape', args));
      };
      // Alternate who goes first, so a drift in background load does not favour one side.
      if (i % 2 === 0) {
        await runOurs();
        await runEmmett();
      } else {
        await runEmmett();
        await runOurs();
      }
      const o = oursAppends[oursAppends.length - 1]!;
      const e = emmettAppends[emmettAppends.length - 1]!;
      progress(`append ${shapeKey(shape)}: ours ${fmt(o.eventsPerSec)} events/s (call p50 ${o.callLatency.p50Ms} ms), Emmett ${fmt(e.eventsPerSec)} events/s (call p50 ${e.callLatency.p50Ms} ms)`);
    }

    const oursRead = await ours.call('readAll', { batchSize: opts.readBatchSize, capMs: 0 });
    progress(`readAll ours: ${fmt(oursRead.eventsPerSec)} events/s over ${fmt(oursRead.events)} events`);
    const emmettRead = await emmett.call('readAll', { batchSize: opts.readBatchSize, capMs: opts.emmettReadCapMs });
    progress(
      `readMessagesBatch Emmett: ${fmt(emmettRead.eventsPerSec)} events/s over ${fmt(emmettRead.events)} of ${fmt(emmettRead.logEvents)} events` +
        `${emmettRead.capped ? ` (stopped at the ${opts.emmettReadCapMs} ms cap)` : ''}, ${fmt(emmettRead.events - emmettRead.distinctEvents)} duplicates`,
    );
    await emmett.stop();

    // 5. Append -> JetStream delivery latency (before seeding, on the bench log; the relay starts at its head).
    const latencyPhase = PhaseProcess.start<typeof latencyOps>(path.join(__dirname, 'phases', 'delivery-latency.ts'), 'latency');
    phases.push(latencyPhase);
    const latency: LatencyPhaseResult = await latencyPhase.call('run', {
      databaseUrl: oursDb.url,
      natsUrl,
      subjectRoot: bus.subjectRoot,
      streamName: bus.eventStreamName,
      ratePerSec: opts.latencyRate,
      durationMs: opts.latencySeconds * 1000,
      warmupMs: opts.quick ? 500 : 2_000,
      streams: opts.latencyStreams,
      poolSize: opts.poolSize,
      drainTimeoutMs: 10_000,
    });
    await latencyPhase.stop();

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
    const result = buildResult({
      opts,
      startedAt,
      durationMs: Math.round(nowMs() - started),
      machine,
      load: { before: loadBefore, after: loadAfter },
      bus,
      databases: ownNames,
      versions: { ours: oursOpen.version, emmett: emmettOpen.version },
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
  load: { before: LoadSnapshot; after: LoadSnapshot };
  bus: { subjectRoot: string; eventStreamName: string };
  databases: string[];
  versions: { ours: string; emmett: string };
  migrateMs: { ours: number; emmett: number };
  oursAppends: AppendShapeResult[];
  emmettAppends: AppendShapeResult[];
  oursRead: CatchUpResult;
  emmettRead: CatchUpResult;
  fullLogRead: CatchUpResult;
  seed: SeedResult;
  rebuild: RebuildPhaseResult;
  latency: LatencyPhaseResult;
}

/** Latency-phase RSS growth allowed for "bounded" (MB), and the rebuild's peak RSS ceiling. */
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
  const rssGrowthMb = Math.round((r.latency.rss.afterMb - r.latency.rss.beforeMb) * 10) / 10;
  const bounded = rssGrowthMb <= BOUNDED_RSS_GROWTH_MB && r.rebuild.rss.peakMb <= BOUNDED_REBUILD_PEAK_MB && r.latency.missing === 0;
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
      note: `${fmt(r.oursRead.events)} events ours, ${fmt(r.emmettRead.logEvents)} Emmett; seeded log: ${fmt(r.fullLogRead.eventsPerSec)} events/s over ${fmt(r.fullLogRead.events)}`,
    },
    {
      id: 'rebuild',
      metric: `Rebuild ${r.rebuild.projection} over ${fmt(r.rebuild.events)} events`,
      target: '1M events <= 15 s',
      ours: `${ms(r.rebuild.durationMs)} (${fmt(r.rebuild.eventsPerSec)} events/s), peak RSS ${r.rebuild.rss.peakMb} MB`,
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
      note: `${fmt(r.latency.delivered)} delivered, ${r.latency.missing} missing`,
    },
    {
      id: 'bounded_memory',
      metric: 'Bounded memory (relay+consumer+appenders RSS; rebuild peak RSS)',
      target: `growth <= ${BOUNDED_RSS_GROWTH_MB} MB; rebuild peak <= ${BOUNDED_REBUILD_PEAK_MB} MB`,
      ours: `${r.latency.rss.beforeMb} -> ${r.latency.rss.afterMb} MB (peak ${r.latency.rss.peakMb}); rebuild peak ${r.rebuild.rss.peakMb} MB`,
      emmett: '-',
      status: status(bounded),
    },
  ];

  return {
    bench: 'event-store',
    mode: r.opts.quick ? 'quick' : 'full',
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    command: `npm run bench:event-store${r.opts.quick ? ' -- --quick' : ''}`,
    machine: r.machine,
    load: r.load,
    config: {
      appendMsPerShape: r.opts.appendMs,
      poolSize: r.opts.poolSize,
      readBatchSize: r.opts.readBatchSize,
      eventsPerStream: r.opts.eventsPerStream,
      emmettReadCapMs: r.opts.emmettReadCapMs,
      latencyRate: r.opts.latencyRate,
      latencySeconds: r.opts.latencySeconds,
      latencyStreams: r.opts.latencyStreams,
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
    rssGrowthMb,
    targets,
    pass: targets.every((t) => t.status !== 'FAIL'),
  };
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
    ];
  });
  const shapeHeader = ['append shape', 'ours ev/s', 'Emmett ev/s', 'ours/Emmett', 'ours call p50/p99 ms', 'Emmett call p50/p99 ms'];
  const targetHeader = ['metric', 'target', 'ours', 'Emmett', 'status'];
  const targetRows = targets.map((t) => [t.metric + (t.note ? ` [${t.note}]` : ''), t.target, t.ours, t.emmett, t.status]);
  process.stderr.write('\n' + textTable(shapeHeader, shapeRows) + '\n\n' + textTable(targetHeader, targetRows) + '\n\n');
  process.stderr.write('Markdown (docs/benchmarks.md):\n\n' + markdownTable(shapeHeader, shapeRows) + '\n\n' + markdownTable(targetHeader, targetRows) + '\n\n');
  process.stderr.write(`total ${(result.durationMs / 1000).toFixed(1)} s; ${result.pass ? 'all judged targets met' : 'some targets missed'}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
