// Chain-watcher benchmark: `npm run bench:chain-watcher [-- --quick]` (or
// `node bin/run-ts.js bench/chain-watcher.bench.ts [--quick]`); the chain-watcher runs compiled (`npm run build` first, done by the bench).
//
// One devnet chain (libs/devnet, real CometBFT JSON-RPC on loopback) producing a block every
// second, one chain-watcher process (`chain-watcher run`, relay included) on its own database and
// JetStream stream, and 100 simulated hosts: 100 NATS connections subscribed to VersionChanged.
// The version is changed every other block; for each change we measure the time from the commit of
// the block carrying lava_param_change (the devnet's onBlock callback) to the VersionChanged
// reaching the first and the last of the 100 hosts. The node counts every JSON-RPC request it
// answers, which gives the RPC calls per block for the whole fleet. LavaVisor's figures beside it
// are its design bounds: it polls once per block time per host, so detection takes up to one poll
// interval (15 s on Lava) and the node gets one query per host per poll.
//
// Output: progress and a table on stderr; ONE JSON object as the last line of stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type NatsConnection } from 'nats';
import { startDevnetChain } from '@fleetvisor/devnet';
import { createTestDatabase, freePort, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { fleetvisorProcess } from './lib/compiled-app';
import { emitResult, progress } from './lib/log';
import { summarize } from './lib/percentiles';
import { textTable } from './lib/table';

const LAVA_BLOCK_MS = 15_000;

interface Options {
  quick: boolean;
  changes: number;
  blockTimeMs: number;
  hosts: number;
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
  return { quick, changes: num('--changes', quick ? 15 : 100), blockTimeMs: num('--block-ms', 1_000), hosts: num('--hosts', 100) };
}

const versionFor = (i: number) => {
  const t = `1.${i + 1}.0`;
  const m = `1.${i}.0`;
  return { providerTarget: t, providerMin: m, consumerTarget: t, consumerMin: m };
};

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const db = await createTestDatabase('bench_cw');
  const bus = testBusNames();
  // Streams belong to migrate; the watcher only checks them.
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  const chain = await startDevnetChain({ chainId: 'lava-bench-1', blockTimeMs: opts.blockTimeMs, version: versionFor(0) });
  const hosts: NatsConnection[] = [];
  let watcher: ChildProcess | undefined;
  try {
    // Commit time of each block, taken when the node has committed it and sent NewBlock.
    const committedAt = new Map<number, number>();
    chain.onBlock((b) => committedAt.set(b.height, performance.timeOrigin + performance.now()));

    // 100 simulated hosts, each its own connection, subscribed to the chain's VersionChanged.
    const subject = `${bus.subjectRoot}.evt.chain.lava-bench-1.VersionChanged`;
    const arrivals = new Map<number, number[]>(); // height -> arrival times
    for (let i = 0; i < opts.hosts; i++) {
      const nc = await connect({ servers: sharedNatsUrl(), name: `bench-host-${i}` });
      hosts.push(nc);
      nc.subscribe(subject, {
        callback: (_err, m) => {
          const at = performance.timeOrigin + performance.now();
          const height = (JSON.parse(Buffer.from(m.data).toString('utf8')) as { data: { height: number } }).data.height;
          const list = arrivals.get(height) ?? [];
          list.push(at);
          arrivals.set(height, list);
        },
      });
    }
    await Promise.all(hosts.map((h) => h.flush()));
    progress(`${opts.hosts} hosts subscribed; starting the chain-watcher process`);

    const port = await freePort();
    const app = fleetvisorProcess(['chain-watcher', 'run']);
    watcher = spawn(app.file, app.argv, {
      env: {
        // eslint-disable-next-line no-restricted-syntax -- the child inherits PATH, HOME
        ...process.env,
        FLEETVISOR_DATABASE_URL: db.url,
        FLEETVISOR_NATS_URL: sharedNatsUrl(),
        FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
        FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
        FLEETVISOR_HOST: 'bench-watcher',
        FLEETVISOR_LOG_LEVEL: 'warn',
        FLEETVISOR_LOG_FORMAT: 'json',
        FLEETVISOR_CHAINS: `lava-bench-1=${chain.rpcUrl}`,
        FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: String(port),
        FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Ready: the genesis version was announced to every host.
    const deadline = Date.now() + 60_000;
    while ([...arrivals.values()].reduce((n, l) => n + l.length, 0) < opts.hosts) {
      if (Date.now() > deadline) throw new Error('the chain-watcher did not announce the first version within 60 s');
      if (watcher.exitCode !== null) throw new Error(`the chain-watcher exited with ${watcher.exitCode}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await chain.waitForHeight(chain.height() + 1);
    chain.resetStats();
    const statsFrom = chain.height();
    progress(`watcher ready at height ${statsFrom}; ${opts.changes} version changes, one every other block`);

    const changeHeights: number[] = [];
    for (let i = 1; i <= opts.changes; i++) {
      const { height } = await chain.setVersion(versionFor(i));
      changeHeights.push(height);
      await chain.waitForHeight(height + 1);
      if (i % 10 === 0) progress(`${i}/${opts.changes} changes`);
    }
    // Let the last one reach everyone.
    const settle = Date.now() + 5_000;
    while ((arrivals.get(changeHeights.at(-1)!)?.length ?? 0) < opts.hosts && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
    const statsTo = chain.height();
    const stats = chain.stats();

    const toFirst: number[] = [];
    const toLast: number[] = [];
    let missing = 0;
    for (const h of changeHeights) {
      const list = arrivals.get(h) ?? [];
      const t0 = committedAt.get(h);
      if (list.length < opts.hosts || t0 === undefined) {
        missing++;
        continue;
      }
      toFirst.push(Math.min(...list) - t0);
      toLast.push(Math.max(...list) - t0);
    }
    const duplicates = [...arrivals.values()].some((l) => l.length > opts.hosts);
    const blocks = Math.max(1, statsTo - statsFrom);
    const rpcCallsPerBlock = Math.round((stats.total / blocks) * 100) / 100;
    const first = summarize(toFirst);
    const last = summarize(toLast);

    process.stderr.write(
      '\n' +
        textTable(
          ['', 'Fleetvisor chain-watcher', `LavaVisor (poll = block time)`],
          [
            ['detection p50, block commit -> first host', `${first.p50Ms} ms`, `≤ ${opts.blockTimeMs} ms (≤ ${LAVA_BLOCK_MS / 1000} s on Lava)`],
            [`detection p50, -> all ${opts.hosts} hosts`, `${last.p50Ms} ms`, ''],
            [`detection p99, -> all ${opts.hosts} hosts`, `${last.p99Ms} ms`, `≤ ${opts.blockTimeMs} ms (≤ ${LAVA_BLOCK_MS / 1000} s on Lava)`],
            ['detection max', `${last.maxMs} ms`, ''],
            [`RPC calls per block, ${opts.hosts} hosts`, String(rpcCallsPerBlock), String(opts.hosts)],
          ],
        ) +
        `\nnode requests by method over ${blocks} blocks: ${JSON.stringify(stats.byMethod)}\n`,
    );
    emitResult({
      bench: 'chain-watcher',
      quick: opts.quick,
      blockTimeMs: opts.blockTimeMs,
      hosts: opts.hosts,
      changes: opts.changes,
      delivered: opts.changes - missing,
      duplicates,
      p50DetectMs: last.p50Ms,
      p99DetectMs: last.p99Ms,
      maxDetectMs: last.maxMs,
      p50FirstHostMs: first.p50Ms,
      rpcCallsPerBlock,
      rpcByMethod: stats.byMethod,
      blocks,
      lavavisor: { detectBoundMs: opts.blockTimeMs, detectBoundOnLavaMs: LAVA_BLOCK_MS, rpcCallsPerBlock: opts.hosts },
      targets: { p99DetectMs: 300, rpcCallsPerBlock: 2 },
      met: last.p99Ms <= 300 && rpcCallsPerBlock <= 2 && missing === 0 && !duplicates,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    });
  } finally {
    if (watcher && watcher.exitCode === null) {
      watcher.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          watcher!.kill('SIGKILL');
          r(undefined);
        }, 5_000);
        watcher!.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    await Promise.allSettled(hosts.map((h) => h.close()));
    await chain.stop();
    const nc = await connect({ servers: sharedNatsUrl() });
    const jsm = await nc.jetstreamManager();
    for (const s of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
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
