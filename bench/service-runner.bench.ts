// Service-runner benchmark: `npm run bench:service-runner [-- --quick]` (or
// `node bin/run-ts.js bench/service-runner.bench.ts [--quick]`); the runner runs compiled, as its systemd unit starts it.
//
// One runner process (`service-runner start`, its own home, database and JetStream stream)
// supervising 50 services on one host. The services are tiny shell "lavap" binaries (answer
// `version`, otherwise `exec sleep`), so what is measured is the runner, not the children.
//   1. idle: runner CPU (utime+stime from /proc) and peak RSS while it supervises 50 idle children
//      (CLK_TCK 100: CPU resolution 10 ms, i.e. 0.1 % over 10 s).
//   2. parallel: VersionChanged appended to the log -> all 50 ServiceUpgraded in the log
//      (relay -> JetStream -> runner -> obtain/verify/switch/restart/health -> spool -> event intake -> log),
//      with upgrade parallelism 50.
//   3. rolling: the same with parallelism 1 (one service at a time, each health-checked).
// The runner runs with the node flags of its systemd unit (RUNNER_NODE_FLAGS).
// Health check = the process stays up for FLEETVISOR_RUNNER_HEALTH_STABLE (1 s full, 200 ms quick).
//
// Output: progress on stderr; ONE JSON object as the last line of stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { newEvent, VersionChanged, type ProtocolVersion } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestDatabase, freePort, testBusNames, testCoreConfig, testTrust } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { signEvent } from '@fleetvisor/trust';
import { RunnerFixture } from '../apps/service-runner/test/runner-fixture';
import { serveTestIntake } from '../apps/service-runner/test/intake';
import { RUNNER_NODE_FLAGS } from '../apps/service-runner/src/systemd/systemd-unit';
import { fleetvisorProcess } from './lib/compiled-app';
import { emitResult, progress } from './lib/log';
import { textTable } from './lib/table';

const CHAIN = 'lava-bench-sr';
const SERVICES = 50;

const quick = process.argv.includes('--quick');
const stableMs = quick ? 200 : 1_000;
const idleMs = quick ? 10_000 : 30_000;
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '1.0.0', consumerTarget: v, consumerMin: '1.0.0' });

function shellLavap(file: string, version: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\nif [ "$1" = version ]; then echo ${version}; exit 0; fi\nexec sleep 1000000\n`);
  chmodSync(file, 0o755);
}

function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // CLK_TCK 100 on Linux
}
function procRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const db = await createTestDatabase('bench_sr');
  const bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: 'bench-host' });
  await createTestStreams(config);
  const core = await FleetCore.open({ serviceName: 'bench-sr', config, relay: { idleIntervalMs: 20 }, logger: pino({ level: 'silent' }) });
  core.start();
  // The central event intake (the runner holds no database credentials), as a registry serves it.
  await serveTestIntake(core);
  const fx = new RunnerFixture(config, CHAIN, 'fv-bench-sr-', [testTrust().root.publicKey]);
  let runner: ChildProcess | undefined;
  let height = 1;
  let previous: ProtocolVersion | null = null;
  const versionChanged = async (v: string): Promise<number> => {
    const current = pv(v);
    height++;
    const t = Date.now();
    await core.store.appendToStream(`chain-${CHAIN}`, [signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous, current }), testTrust().signer('chain-watcher'))]);
    previous = current;
    return t;
  };
  const count = async (type: string, toVersion?: string): Promise<number> => {
    const r = await core.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM fv_events WHERE type = $1 AND ($2::text IS NULL OR data->>'toVersion' = $2 OR data->>'version' = $2)`,
      [type, toVersion ?? null],
    );
    return Number(r.rows[0]!.n);
  };
  const until = async (what: string, pred: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
    const end = Date.now() + timeoutMs;
    while (!(await pred())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const startRunner = (): ChildProcess => {
    // As its systemd unit starts it: the compiled `fleetvisor start` with the unit's node flags.
    const app = fleetvisorProcess(['start', '--directory', fx.dir], RUNNER_NODE_FLAGS);
    const child = spawn(app.file, app.argv, {
      env: {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        FLEETVISOR_NATS_URL: config.natsUrl,
        FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
        FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
        FLEETVISOR_HOST: 'bench-host',
        FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile,
        FLEETVISOR_LOG_LEVEL: 'warn',
        FLEETVISOR_LOG_FORMAT: 'json',
        FLEETVISOR_RUNNER_HEALTH_STABLE: `${stableMs}ms`,
        // A restart here is a cold start of the 50 services, and the last stop takes them down
        // (live-restore, ADR 0007, would leave them running and adopt them).
        FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return child;
  };
  try {
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) shellLavap(fx.home.binaryPath(v, 'lavap'), v);
    fx.setCurrent('1.0.0');
    fx.writeHomeConfig({ upgrade: { parallelism: SERVICES, probe: 'none' } });
    for (let i = 0; i < SERVICES; i++) {
      fx.addService({ role: i % 2 ? 'consumer' : 'provider', from: `svc${i}`, chainLabel: 'LAV1', port: await freePort() });
    }
    await versionChanged('1.0.0');

    progress(`starting the runner with ${SERVICES} services`);
    runner = startRunner();
    await until('50 services started', async () => (await count('ServiceStarted')) >= SERVICES, 60_000);
    await new Promise((r) => setTimeout(r, 2_000)); // start-up work (catch-up, consumer set-up) settles
    const pid = runner.pid!;
    progress(`idle: sampling runner CPU and RSS for ${idleMs / 1000} s`);
    const cpu0 = procCpuMs(pid);
    const w0 = Date.now();
    let rssMb = procRssMb(pid);
    while (Date.now() - w0 < idleMs) {
      await new Promise((r) => setTimeout(r, 500));
      rssMb = Math.max(rssMb, procRssMb(pid));
    }
    const idleCpuPercent = Math.round(((procCpuMs(pid) - cpu0) / (Date.now() - w0)) * 10_000) / 100;

    progress('parallel upgrade of 50 services');
    let t = await versionChanged('1.1.0');
    await until('50 upgraded to 1.1.0 (parallel)', async () => (await count('ServiceUpgraded', '1.1.0')) >= SERVICES, 120_000);
    const upgrade50ParallelMs = Date.now() - t;
    const rssAfterUpgradeMb = procRssMb(pid);

    progress('restarting the runner with parallelism 1 (rolling)');
    runner.kill('SIGTERM');
    await new Promise((r) => runner!.once('exit', r));
    fx.writeHomeConfig({ upgrade: { parallelism: 1, probe: 'none' } });
    const startedBefore = await count('ServiceStarted');
    runner = startRunner();
    await until('50 services started again', async () => (await count('ServiceStarted')) >= startedBefore + SERVICES, 60_000);
    t = await versionChanged('1.2.0');
    await until('50 upgraded to 1.2.0 (rolling)', async () => (await count('ServiceUpgraded', '1.2.0')) >= SERVICES, 300_000);
    const upgrade50RollingMs = Date.now() - t;
    const failed = await count('UpgradeFailed');

    const result = {
      bench: 'service-runner',
      quick,
      services: SERVICES,
      healthStableMs: stableMs,
      upgrade50ParallelMs,
      upgrade50RollingMs,
      idleCpuPercent,
      rssMb,
      rssAfterUpgradeMb,
      upgradeFailures: failed,
      targets: { idleCpuPercent: 1, rssMb: 120 },
      wallMs: Date.now() - t0,
    };
    process.stderr.write(
      textTable(
        ['measure', 'value', 'target'],
        [
          ['VersionChanged -> 50 healthy, parallel', `${upgrade50ParallelMs} ms`, ''],
          ['VersionChanged -> 50 healthy, rolling', `${upgrade50RollingMs} ms (${(upgrade50RollingMs / SERVICES).toFixed(0)} ms/service)`, ''],
          ['runner CPU, 50 idle children', `${idleCpuPercent} % of a core`, '< 1 %'],
          ['runner RSS, 50 idle children (peak)', `${rssMb} MB`, '< 120 MB'],
          ['runner RSS after the parallel upgrade', `${rssAfterUpgradeMb} MB`, ''],
        ],
      ) + '\n',
    );
    emitResult(result);
  } finally {
    if (runner && runner.exitCode === null) {
      runner.kill('SIGTERM');
      await new Promise((r) => runner!.once('exit', r));
    }
    await core.jsm.streams.delete(bus.eventStreamName).catch(() => undefined);
    await core.jsm.streams.delete(`${bus.eventStreamName}_DLQ`).catch(() => undefined);
    await core.close();
    await db.drop();
    fx.remove();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
