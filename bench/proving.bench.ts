// Proving watch benchmark: `npm run bench:proving [-- --quick]` (or
// `node bin/run-ts.js bench/proving.bench.ts [--quick]`); the chain-watcher runs compiled (`npm run
// build` first, done by the bench).
//
// One simulated Filecoin node (libs/devnet's proving node: Lotus JSON-RPC over HTTP, ChainNotify
// over WebSocket) holding 200 miners with mainnet's proving period (48 deadlines × 60 epochs, the
// miners' periods spread over it), one chain-watcher process (`chain-watcher run`, relay included)
// on its own database and JetStream stream, and a NATS subscriber on every miner's SectorsFaulted.
// The bench drives the epoch clock itself (1 s epochs): at some epochs it declares a fault on one
// sector of a few miners and then moves to the next epoch, the first whose state shows the fault.
// Detection is the time from that epoch's head (the moment the node moved to it and notified it) to
// the SectorsFaulted for that sector arriving on the bus. The node counts every request it answers,
// which gives the node calls per epoch for the whole fleet.
//
// Two phases on the same node: the watcher following heads over ChainNotify (the default), then a
// new watcher process polling ChainHead (FLEETVISOR_FILECOIN_NOTIFY=off, polled every 250 ms: a
// quarter of the epoch, as the 2 s default is to Filecoin's 30 s). The headline figures
// (`faultDetectP99Ms`, `callsPerEpoch`) are the ChainNotify phase's; the polling phase is the
// baseline, measured in the same run.
//
// Output: progress and a table on stderr; ONE JSON object as the last line of stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from 'nats';
import { startProvingNode, type ProvingNodeHandle } from '@fleetvisor/devnet';
import { adminDatabaseUrl, createTestDatabase, sharedNatsUrl, testBusNames, testTrust } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { fleetvisorProcess } from './lib/compiled-app';
import { emitResult, progress } from './lib/log';
import { loadSnapshot } from './lib/machine';
import { summarize, type LatencySummary } from './lib/percentiles';
import { textTable } from './lib/table';

const TARGET_P99_MS = 1_000;
const POLL_INTERVAL_MS = 250;

interface Options {
  quick: boolean;
  miners: number;
  epochMs: number;
  /** Measured epochs per phase. */
  epochs: number;
  /** Miners given a fault at each fault epoch. */
  faultsPerEpoch: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const num = (flag: string, def: number): number => {
    const i = argv.indexOf(flag);
    if (i < 0) return def;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
    return n;
  };
  return { quick, miners: num('--miners', 200), epochMs: num('--epoch-ms', 1_000), epochs: num('--epochs', quick ? 10 : 120), faultsPerEpoch: num('--faults-per-epoch', quick ? 6 : 2) };
}

interface PhaseResult {
  mode: 'notify' | 'poll';
  epochs: number;
  faults: number;
  detected: number;
  duplicates: number;
  detect: LatencySummary;
  callsPerEpoch: number;
  byMethod: Record<string, number>;
}

const minerId = (i: number) => `t0${10_000 + i}`;

/** Waits for a condition the bench cannot await otherwise (a child process's progress), with a deadline. */
async function until(what: string, cond: () => boolean, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    if (child && child.exitCode !== null) throw new Error(`the chain-watcher exited with ${child.exitCode} (${what})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      r(undefined);
    }, 5_000);
    child.once('exit', () => {
      clearTimeout(t);
      r(undefined);
    });
  });
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const db = await createTestDatabase('bench_prove');
  const bus = testBusNames();
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  // The machine's load as the run starts (the machine and its Postgres are shared with other work).
  const load = await loadSnapshot(adminDatabaseUrl(), [db.name]);
  // The bench moves the clock (epochMs 0): a fault is declared, then the next epoch shows it.
  const node: ProvingNodeHandle = await startProvingNode({
    epochMs: 0,
    miners: Array.from({ length: opts.miners }, (_, i) => ({ id: minerId(i), partitionsPerDeadline: 1, sectorsPerPartition: 2 })),
  });
  let nc: NatsConnection | undefined;
  let watcher: ChildProcess | undefined;
  try {
    nc = await connect({ servers: sharedNatsUrl(), name: 'bench-proving' });
    // "<miner>/<sector>" -> arrival times of its SectorsFaulted.
    const arrivals = new Map<string, number[]>();
    nc.subscribe(`${bus.subjectRoot}.evt.miner.*.SectorsFaulted`, {
      callback: (_err, m) => {
        const at = performance.now();
        const data = (JSON.parse(Buffer.from(m.data).toString('utf8')) as { data: { minerId: string; sectors: number[] } }).data;
        for (const s of data.sectors) {
          const key = `${data.minerId}/${s}`;
          arrivals.set(key, [...(arrivals.get(key) ?? []), at]);
        }
      },
    });
    await nc.flush();

    // Sectors not faulted yet, one list per miner: each injected fault is a new fact.
    const period = 48;
    const nextSector = new Map<string, number>();
    let cursor = 0;
    const pickMiners = (n: number): string[] => Array.from({ length: n }, () => minerId(cursor++ % opts.miners));
    const inject = (miners: string[]): string[] =>
      miners.map((m) => {
        const k = nextSector.get(m) ?? Math.floor(Math.random() * period);
        nextSector.set(m, k + 1);
        // Sector 2k of deadline k % 48: a deadline the watcher may not have read yet, as in the field.
        const sector = 2 * (k % period);
        node.chain.declareFaults(m, [sector]);
        return `${m}/${sector}`;
      });
    let ticking = false;
    const shownAt = new Map<string, number>();
    /** One epoch: faults declared (if any), then the head moves; the epoch that shows them starts now. */
    const epoch = (faults: number): void => {
      const keys = faults > 0 ? inject(pickMiners(faults)) : [];
      node.advance(1);
      const t0 = performance.now();
      for (const k of keys) shownAt.set(k, t0);
    };
    const clock = setInterval(() => {
      if (ticking) epoch(0);
    }, opts.epochMs);

    const runPhase = async (mode: 'notify' | 'poll'): Promise<PhaseResult> => {
      const app = fleetvisorProcess(['chain-watcher', 'run']);
      const spawnedAt = performance.now();
      watcher = spawn(app.file, app.argv, {
        env: {
          // eslint-disable-next-line no-restricted-syntax -- the child inherits PATH, HOME
          ...process.env,
          FLEETVISOR_DATABASE_URL: db.url,
          FLEETVISOR_NATS_URL: sharedNatsUrl(),
          FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
          FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
          FLEETVISOR_HOST: `bench-${mode}`,
          FLEETVISOR_LOG_LEVEL: 'warn',
          FLEETVISOR_LOG_FORMAT: 'json',
          FLEETVISOR_FILECOIN_CHAINS: `simnet=${node.url}`,
          FLEETVISOR_FILECOIN_MINERS: Array.from({ length: opts.miners }, (_, i) => minerId(i)).join(','),
          FLEETVISOR_FILECOIN_NOTIFY: mode === 'notify' ? 'on' : 'off',
          FLEETVISOR_FILECOIN_POLL_INTERVAL: `${POLL_INTERVAL_MS}ms`,
          // Three epochs of silence: the socket is down.
          FLEETVISOR_FILECOIN_NOTIFY_STALL: `${3 * opts.epochMs}ms`,
          ...testTrust().env('chain-watcher'),
          FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0',
          FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      // Warm-up, on the clock: a fault until it is seen on the bus, then a sweep of every miner, so
      // that every miner's caches are filled before measuring.
      ticking = true;
      const [canary] = inject(pickMiners(1));
      await until(`${mode}: the watcher reports a first fault`, () => arrivals.has(canary!), 60_000, watcher);
      // Then one whole sweep of the miners (every one's faults read once more): the caches are full.
      const swept = (node.served.get('Filecoin.StateMinerFaults') ?? 0) + opts.miners;
      await until(`${mode}: a sweep of every miner`, () => (node.served.get('Filecoin.StateMinerFaults') ?? 0) >= swept, 60_000, watcher);
      ticking = false;
      progress(`${mode}: watcher ready (${Math.round((performance.now() - spawnedAt) / 100) / 10} s after its start); measuring`);

      const calls0 = node.calls();
      const served0 = new Map(node.served);
      const from = node.chain.height;
      const keys: string[] = [];
      // Faults every other epoch; each epoch on the wall clock of `epochMs`.
      for (let i = 0; i < opts.epochs; i++) {
        const t = performance.now();
        const before = new Set(shownAt.keys());
        epoch(i % 2 === 0 ? opts.faultsPerEpoch : 0);
        for (const k of shownAt.keys()) if (!before.has(k)) keys.push(k);
        const wait = opts.epochMs - (performance.now() - t);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const epochs = node.chain.height - from;
      const calls = node.calls() - calls0;
      const byMethod: Record<string, number> = {};
      for (const [m, n] of node.served) if (n - (served0.get(m) ?? 0) > 0) byMethod[m] = n - (served0.get(m) ?? 0);
      // The last faults reach the bus within a few epochs, or count as missed.
      await until(`${mode}: last faults on the bus`, () => keys.every((k) => arrivals.has(k)), 5 * opts.epochMs).catch(() => undefined);
      const detect: number[] = [];
      let duplicates = 0;
      for (const k of keys) {
        const list = arrivals.get(k);
        if (!list) continue;
        if (list.length > 1) duplicates++;
        detect.push(list[0]! - shownAt.get(k)!);
      }
      await stopChild(watcher);
      watcher = undefined;
      return { mode, epochs, faults: keys.length, detected: detect.length, duplicates, detect: summarize(detect), callsPerEpoch: Math.round((calls / epochs) * 10) / 10, byMethod };
    };

    progress(`${opts.miners} miners, ${opts.epochMs} ms epochs, ${opts.epochs} measured epochs per phase; phase 1: ChainNotify`);
    const notify = await runPhase('notify');
    progress(`phase 2: ChainHead polled every ${POLL_INTERVAL_MS} ms (FLEETVISOR_FILECOIN_NOTIFY=off)`);
    const poll = await runPhase('poll');
    clearInterval(clock);

    const row = (r: PhaseResult) => [
      r.mode === 'notify' ? 'ChainNotify (WebSocket)' : `ChainHead polled / ${POLL_INTERVAL_MS} ms`,
      `${r.detect.p50Ms} ms`,
      `${r.detect.p99Ms} ms`,
      `${r.detect.maxMs} ms`,
      `${r.detected}/${r.faults}`,
      String(r.callsPerEpoch),
    ];
    process.stderr.write(
      '\n' +
        textTable(['head followed by', 'detect p50', 'detect p99', 'max', 'detected', 'node calls / epoch'], [row(notify), row(poll)]) +
        `\nnode calls by method, ChainNotify phase (${notify.epochs} epochs): ${JSON.stringify(notify.byMethod)}` +
        `\nnode calls by method, polling phase (${poll.epochs} epochs): ${JSON.stringify(poll.byMethod)}\n`,
    );
    const met = notify.detect.p99Ms <= TARGET_P99_MS && notify.detected === notify.faults && notify.duplicates === 0;
    emitResult({
      bench: 'proving',
      quick: opts.quick,
      miners: opts.miners,
      epochMs: opts.epochMs,
      faultDetectP99Ms: notify.detect.p99Ms,
      callsPerEpoch: notify.callsPerEpoch,
      notify: { ...notify, detect: undefined, p50Ms: notify.detect.p50Ms, p99Ms: notify.detect.p99Ms, maxMs: notify.detect.maxMs },
      poll: { ...poll, detect: undefined, p50Ms: poll.detect.p50Ms, p99Ms: poll.detect.p99Ms, maxMs: poll.detect.maxMs, pollIntervalMs: POLL_INTERVAL_MS },
      load,
      targets: { faultDetectP99Ms: TARGET_P99_MS },
      met,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    });
  } finally {
    await stopChild(watcher);
    await nc?.close();
    await node.close();
    const admin = await connect({ servers: sharedNatsUrl() });
    const jsm = await admin.jetstreamManager();
    for (const s of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    await admin.close();
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
