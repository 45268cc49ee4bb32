// Phase process: rebuild of the event store's StreamStatsProjection over the whole log, timed, with
// this process's RSS sampled throughout (the process does nothing else, so its peak is the
// rebuild's). Afterwards, a second catch-up readAll over the same (now large) log.
import { openEventStore, readStreamStats, StreamStatsProjection, type EventStoreConnection, type RebuildProgress } from '@fleetvisor/event-store';
import { isEntryPoint, serveOps } from '../lib/child';
import { perEvent, startCpuMeter, type CpuPerEvent } from '../lib/cpu';
import { progress } from '../lib/log';
import { RssSampler, toMb, type RssReport } from '../lib/rss-sampler';
import { nowMs } from '../lib/timer';
import type { CatchUpResult, ReadAllArgs } from '../lib/workload';
import { catchUp, countEvents } from './fleetvisor-store';

export interface RebuildArgs {
  databaseUrl: string;
  poolSize: number;
  /** ProjectionRunner batch size; undefined = the runner's default. */
  batchSize?: number;
}

export interface RebuildPhaseResult {
  projection: string;
  events: number;
  durationMs: number;
  eventsPerSec: number;
  rss: RssReport;
  peakHeapUsedMb: number;
  /** Events counted by the rebuilt projection (must equal `events`). */
  projectedEvents: number;
  streams: number;
  cpu: CpuPerEvent;
}

let conn: EventStoreConnection | undefined;
const APPLICATION_NAME = 'bench-rebuild';

export const rebuildOps = {
  async rebuild(args: RebuildArgs): Promise<RebuildPhaseResult> {
    conn = await openEventStore(args.databaseUrl, { poolSize: args.poolSize, applicationName: APPLICATION_NAME });
    const events = await countEvents(conn);
    const projection = new StreamStatsProjection();
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = new RssSampler(10).start();
    const heapTimer = setInterval(() => {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }, 10);
    let lastLog = nowMs();
    const onProgress = (p: RebuildProgress): void => {
      if (nowMs() - lastLog < 2_000) return;
      lastLog = nowMs();
      progress(`rebuild: ${p.processed.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} events, ${p.eventsPerSec.toLocaleString('en-US')} events/s, rss ${toMb(process.memoryUsage.rss())} MB`);
    };
    const stopCpu = await startCpuMeter(conn.pool, APPLICATION_NAME);
    const t0 = nowMs();
    const r = await conn.rebuild(projection, onProgress, args.batchSize !== undefined ? { batchSize: args.batchSize } : {});
    const durationMs = Math.round(nowMs() - t0);
    const cpu = perEvent(await stopCpu(), events);
    clearInterval(heapTimer);
    const rss = sampler.stop();
    const stats = await readStreamStats(conn.pool);
    const projectedEvents = Object.values(stats.eventCounts).reduce((a, b) => a + b, 0);
    if (r.processed !== events || projectedEvents !== events) {
      throw new Error(`rebuild processed ${r.processed} and projected ${projectedEvents} events; the log holds ${events}`);
    }
    return {
      projection: projection.name,
      events,
      durationMs,
      eventsPerSec: Math.round((events * 1000) / durationMs),
      rss,
      peakHeapUsedMb: toMb(peakHeap),
      projectedEvents,
      streams: stats.streams.length,
      cpu,
    };
  },

  async readAll(args: ReadAllArgs): Promise<CatchUpResult> {
    if (!conn) throw new Error('rebuild first');
    return catchUp(conn, args, APPLICATION_NAME);
  },
};

if (isEntryPoint(__filename)) serveOps(rebuildOps, async () => conn?.close());
