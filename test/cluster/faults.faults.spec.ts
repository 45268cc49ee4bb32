// Issue 17, the proof: a three-host cluster in network namespaces (test/cluster/cluster.ts), under
// steady load (two simulated workers reporting every 500 ms with threads changing state every
// second, runner heartbeats every second, protocol version bumps on the devnet chain, API calls of
// two simulated venus-sealers through a metering proxy), takes one fault after another: kill -9 of
// the leading registry and chain-watcher with their standbys running (the standby must take over
// within the bound, the old leader restarted must stand by), kill -9 of each other service process
// then a restart, a NATS node killed and restarted, Postgres restarted, and a runner host cut off
// (link down) past the expiry while the chain's version changes. After each fault the checks of
// test/cluster/checks.ts must hold: every event of the log on the bus exactly once and in order per
// stream, the registry's and the stats-collector's projections equal to a rebuild from the log,
// every durable consumer caught up, the calls made through the meter in the log (none lost but
// what a killed meter may lose by design, none counted twice), the REST gateway listing the fleet's
// workers, no double execution, the supervised services never stopped but for upgrades. Each fault's figures go to tmp/faults-report.json
// (FLEETVISOR_TEST_FAULTS_REPORT to write elsewhere; FLEETVISOR_TEST_KEEP_CLUSTER_DIR=1 keeps the logs), from which docs/reliability.md is written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually, netnsUnavailableReason } from '@fleetvisor/testing';
import { CHAIN, EXPIRY_MS, FleetCluster, LEADER_RETRY_MS, METER, PAIRS, RUNNER_HOSTS, VERSIONS, type AutoRestart, type HostName, type PairName } from './cluster';
import { readClusterTestConfig } from './config';
import {
  checkCallStats,
  checkDurableConsumers,
  checkLivenessTransitions,
  checkLogOnBus,
  checkNoDoubleExecution,
  checkStatsProjection,
  checkSupervised,
  checkWorkerProjection,
  logHead,
  type BusCheck,
  type CallStatsCheck,
  type ConsumerCheck,
  type DoubleExecutionCheck,
  type LivenessCheck,
  type ProjectionCheck,
  type SupervisionCheck,
} from './checks';

const ROOT = path.resolve(__dirname, '../..');
const REPORT = readClusterTestConfig().faultsReport ?? path.join(ROOT, 'tmp', 'faults-report.json');
const SERVICE = 'provider1-LAV1';
const REPRODUCE = 'npm run build && npm run test:faults';

interface FaultRecord {
  fault: string;
  description: string;
  /** How long the fault lasted (process down, node down, link down), ms. */
  downMs: number;
  /** From the end of the fault (restart, link up) until every check passed, ms. */
  recoveryMs: number;
  versionBump?: string;
  bus: BusCheck;
  consumers: ConsumerCheck[];
  projection: ProjectionCheck;
  /** The stats-collector's rollups against their rebuild. */
  statsProjection: ProjectionCheck;
  /** The calls made through the metering proxy against the calls in the log. */
  calls: CallStatsCheck;
  /** For a leader killed: how long until its standby held the lock, and until it served. */
  takeover?: { service: string; from: string; to: string; lockMs: number; servingMs?: number; boundMs: number; oldLeaderStandsBy: boolean };
  doubleExecution: DoubleExecutionCheck;
  liveness: LivenessCheck;
  supervised: SupervisionCheck[];
  /** Processes that exited on their own during the fault and were started again by the restart policy. */
  autoRestarts: AutoRestart[];
  notes: string[];
  reproduce: string;
}

const report: { startedAt: string; finishedAt?: string; cluster: Record<string, unknown>; faults: FaultRecord[] } = {
  startedAt: new Date().toISOString(),
  cluster: {},
  faults: [],
};

function writeReport(): void {
  mkdirSync(path.dirname(REPORT), { recursive: true });
  writeFileSync(REPORT, JSON.stringify(report, null, 2) + '\n');
}

/** The running test's own name as a `-t` pattern (regex specials escaped), to run that fault alone. */
function testNamePattern(): string {
  const name = (expect.getState().currentTestName ?? '').split(' > ').pop() ?? '';
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/'/g, '.');
}

/** What the fake lavap on `address:port` greets a silent client with (`lavap <version>`). */
const banner = (host: string, port: number): Promise<string> =>
  new Promise((resolve) => {
    const s = tcpConnect({ host, port, timeout: 2_000 });
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => resolve(got.trim()));
    s.on('timeout', () => s.destroy());
    s.on('error', () => resolve(''));
  });

describe('a three-host cluster under faults', () => {
  let c: FleetCluster;
  let version = 0;
  /** The supervised service's pid per host, as last read, and the log position it was read at. */
  const servicePids = new Map<HostName, number>();
  let since = 0;
  let restartsSeen = 0;

  const count = async (stream: string, type: string, after = 0): Promise<number> =>
    Number((await c.pool.query<{ n: string }>('SELECT count(*) AS n FROM fv_events WHERE stream_id = $1 AND type = $2 AND global_position > $3', [stream, type, after])).rows[0]!.n);

  const ready = async (url: string): Promise<void> => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  };
  const readyUrl: Record<string, () => string> = {
    'worker-registry': () => `http://${c.addr('a')}:${c.healthPort('worker-registry')}/health/ready`,
    'worker-registry-2': () => `http://${c.addr('a')}:${c.healthPort('worker-registry-2')}/health/ready`,
    'stats-collector': () => `http://${c.addr('a')}:${c.healthPort('stats-collector')}/health/ready`,
    'chain-watcher': () => `http://${c.addr('a')}:${c.healthPort('chain-watcher')}/healthz`,
    'chain-watcher-2': () => `http://${c.addr('a')}:${c.healthPort('chain-watcher-2')}/healthz`,
    'runner-b': () => `http://${c.addr('b')}:9474/health/ready`,
    'runner-c': () => `http://${c.addr('c')}:9474/health/ready`,
    'agent-b': () => `http://${c.addr('b')}:9475/health/ready`,
    'agent-c': () => `http://${c.addr('c')}:9475/health/ready`,
    gateway: () => `${c.gatewayUrl}/health/ready`,
  };

  /** The meter accepts connections (checked without a call: every call it counts is the load's). */
  const meterListens = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = tcpConnect({ host: c.addr(METER.host), port: METER.port, timeout: 2_000 });
      s.on('connect', () => {
        s.destroy();
        resolve();
      });
      s.on('timeout', () => {
        s.destroy();
        reject(new Error('meter: connect timed out'));
      });
      s.on('error', reject);
    });
  /** Windows a killed meter may lose by design (the ones it had not sent when it died). */
  const lossByDesign: number[] = [];

  /** The registry of the pair that leads now. */
  const leadingRegistry = (): string => {
    const leading = PAIRS['worker-registry'].filter((n) => c.registryLeads(n));
    if (leading.length !== 1) throw new Error(`registries leading: ${leading.join(', ') || 'none'}`);
    return leading[0]!;
  };

  /** fleetvisor_hosts and fleetvisor_workers as the registry's /metrics says them now (for failure messages). */
  const registryGauges = async (): Promise<string> => {
    try {
      const text = await (await fetch(`http://${c.addr('a')}:${c.healthPort(leadingRegistry())}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
      return text.split('\n').filter((l) => /^fleetvisor_(hosts|workers)\{/.test(l)).join(', ');
    } catch (e) {
      return `(no /metrics: ${(e as Error).message})`;
    }
  };

  /** Both runner hosts run `v` (the log says upgraded, the service's banner says it). */
  const fleetRuns = async (v: string, hosts: readonly HostName[] = RUNNER_HOSTS): Promise<void> => {
    for (const h of hosts) {
      expect(await banner(c.addr(h), c.servicePort(h))).toBe(`lavap ${v}`);
      // The new process answers before its health check ends: the upgrade is over once the log
      // holds its ServiceUpgraded (the checks count a start without one as a replaced service).
      // The first version is where the services started: no upgrade brought them there.
      if (v === VERSIONS[0]) continue;
      const upgraded = await c.pool.query(`SELECT 1 FROM fv_events WHERE stream_id = $1 AND type = 'ServiceUpgraded' AND data->>'toVersion' = $2 LIMIT 1`, [`service-host-${h}/${SERVICE}`, v]);
      expect(upgraded.rowCount, `ServiceUpgraded to ${v} on host ${h} in the log`).toBe(1);
    }
  };

  /** Moves the chain to the next version (the watcher sees it and records VersionChanged). */
  const bump = async (): Promise<string> => {
    version++;
    const v = VERSIONS[version];
    if (!v) throw new Error('out of versions: add more to VERSIONS');
    await c.bumpVersion(v);
    return v;
  };

  /**
   * Waits until every check passes (the relay and the consumers catch up after a fault), then
   * records and asserts them. Returns the time it took.
   */
  const settleAndCheck = async (
    fault: string,
    description: string,
    t: { downMs: number; healedAt: number },
    extra: { versionBump?: string; notes?: string[]; takeover?: FaultRecord['takeover'] } = {},
  ): Promise<FaultRecord> => {
    // Under load the log keeps growing: a reading counts once the relay has published everything the
    // log held when it was read (lost 0); doubled, foreign and out-of-order events never heal, so the
    // reading that is kept is asserted on them below.
    const { bus, consumers } = await expectEventually(
      async () => {
        // The runners' spools are empty: what they recorded is in the log.
        for (const h of RUNNER_HOSTS) expect(c.spooled(h), `spool of host ${h}`).toEqual([]);
        const b = await checkLogOnBus(c.pool, c.admin);
        expect(b.lost, b.examples.join('; ')).toBe(0);
        const k = await checkDurableConsumers(c.admin);
        // Every runner's durable consumer is listed. Right after a partition heals, the answer to a
        // consumer list may leave some out (the stream leader could not reach them in time; the
        // API's `missing`): asked again, never taken as "every consumer caught up".
        expect(k.map((x) => x.name), 'the durable consumers of the event stream').toEqual(RUNNER_HOSTS.map((h) => `service-runner-host-${h}`));
        for (const x of k) expect({ name: x.name, pending: x.pending, ackPending: x.ackPending }).toEqual({ name: x.name, pending: 0, ackPending: 0 });
        return { bus: b, consumers: k };
      },
      { timeoutMs: 90_000, intervalMs: 250, message: `${fault}: the spools, the bus and the consumers caught up with the log` },
    );
    const recoveryMs = Date.now() - t.healedAt;
    // The calls of every flush window that ended two seconds ago (the meter sends an ended window
    // within a second) are in the log, unless a killed meter lost them by design.
    const until = Date.now() - 2_000;
    const readCalls = () => checkCallStats(c.pool, { source: METER.source, windowMs: METER.windowSeconds * 1000, ticks: c.calls.ticks, until, byDesign: lossByDesign });
    const calls = await expectEventually(
      async () => {
        const r = await readCalls();
        expect(r.lost, r.examples.join('; ')).toBe(0);
        return r;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: `${fault}: the calls made through the meter reached the log` },
    // Recorded with what was missing, then asserted below.
    ).catch(() => readCalls());
    // The gateway answers for the fleet after every fault: both workers, read through the registry.
    const gatewayWorkers = await expectEventually(
      async () => {
        const res = await fetch(`${c.gatewayUrl}/api/v1/workers`, { headers: { authorization: `Bearer ${c.gatewayToken}` } });
        expect(res.status).toBe(200);
        const names = ((await res.json()) as { workers: { name: string }[] }).workers.map((w) => w.name).sort();
        expect(names).toEqual(RUNNER_HOSTS.map((h) => `w-${h}`));
        return names;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: `${fault}: the gateway lists the workers\n${c.logTail('gateway')}` },
    );
    const projection = await checkWorkerProjection(c.pool, c.pgConnection);
    const statsProjection = await checkStatsProjection(c.pool, c.pgConnection);
    const doubleExecution = await checkNoDoubleExecution(c.pool);
    const liveness = await checkLivenessTransitions(c.pool);
    const supervised: SupervisionCheck[] = [];
    for (const h of RUNNER_HOSTS) {
      const pidAfter = c.servicePid(h);
      supervised.push(await checkSupervised(c.pool, { host: `host-${h}`, service: SERVICE, pidBefore: servicePids.get(h)!, pidAfter, fromPosition: since }));
      servicePids.set(h, pidAfter);
    }
    since = await logHead(c.pool);
    const autoRestarts = c.autoRestarts.slice(restartsSeen);
    restartsSeen = c.autoRestarts.length;
    const rec: FaultRecord = { fault, description, downMs: t.downMs, recoveryMs, ...(extra.versionBump ? { versionBump: extra.versionBump } : {}), bus, consumers, projection, statsProjection, calls, ...(extra.takeover ? { takeover: extra.takeover } : {}), doubleExecution, liveness, supervised, autoRestarts, notes: [...(extra.notes ?? []), `gateway: GET /api/v1/workers listed ${gatewayWorkers.join(', ')}`], reproduce: `${REPRODUCE} -- -t '${testNamePattern()}'` };
    report.faults.push(rec);
    writeReport();

    expect(bus.lost, bus.examples.join('; ')).toBe(0);
    expect(bus.doubled, bus.examples.join('; ')).toBe(0);
    expect(bus.foreign, bus.examples.join('; ')).toBe(0);
    expect(bus.outOfOrder, bus.examples.join('; ')).toBe(0);
    expect(consumers.map((x) => x.name)).toEqual(RUNNER_HOSTS.map((h) => `service-runner-host-${h}`));
    expect(projection.mismatches, projection.examples.join('\n')).toBe(0);
    expect(statsProjection.mismatches, statsProjection.examples.join('\n')).toBe(0);
    expect(calls.windows).toBeGreaterThan(0);
    expect({ lost: calls.lost, doubled: calls.doubled, doubledBatches: calls.doubledBatches }, calls.examples.join('; ')).toEqual({ lost: 0, doubled: 0, doubledBatches: 0 });
    expect(doubleExecution.doubled, doubleExecution.examples.join('; ')).toBe(0);
    expect(liveness.doubled, liveness.examples.join('; ')).toBe(0);
    for (const s of supervised) expect(s, JSON.stringify(s)).toMatchObject({ ok: true });
    return rec;
  };

  beforeAll(async () => {
    // Root and iproute2 are required (.ci/run runs as root): say so plainly rather than skip.
    const unavailable = netnsUnavailableReason();
    if (unavailable) throw new Error(`the fault suite needs network namespaces: ${unavailable}`);
    c = await FleetCluster.start();
    report.cluster = {
      hosts: c.net.hosts.map((h) => ({ name: h.name, address: h.address })),
      subnet: `${c.net.subnet}.0/24`,
      expiryMs: EXPIRY_MS,
      chain: CHAIN,
    };
    // Steady state: both services started on the chain's first version, both workers registered.
    await expectEventually(async () => {
      for (const h of RUNNER_HOSTS) {
        expect(await count(`service-host-${h}/${SERVICE}`, 'ServiceStarted')).toBe(1);
        expect(await count(`worker-w-${h}`, 'WorkerRegistered')).toBe(1);
      }
      await fleetRuns(VERSIONS[0]!);
    }, { timeoutMs: 60_000, intervalMs: 250, message: 'steady state' });
    for (const h of RUNNER_HOSTS) servicePids.set(h, c.servicePid(h));
    // API calls through the meter from here on, for the whole suite.
    await expectEventually(meterListens, { timeoutMs: 60_000, intervalMs: 200, message: `the meter listens\n${c.logTail('meter')}` });
    c.calls.start(c.meterUrl);
    // Steady: the first window of calls (partly covered by the load) counted and in the log.
    await expectEventually(async () => {
      const r = await checkCallStats(c.pool, { source: METER.source, windowMs: METER.windowSeconds * 1000, ticks: c.calls.ticks, until: Date.now() - 2_000, byDesign: [] });
      expect(r.windows).toBeGreaterThan(0);
      expect(r.callsInLog).toBeGreaterThan(0);
    }, { timeoutMs: 60_000, intervalMs: 500, message: `calls through the meter reach the log\n${c.logTail('meter')}` });
    since = await logHead(c.pool);
  }, 240_000);

  afterAll(async () => {
    report.finishedAt = new Date().toISOString();
    if (report.faults.length > 0) writeReport();
    await c?.stop();
  }, 60_000);

  it('starts clean: the log is on the bus, the projection equals its rebuild', async () => {
    await settleAndCheck('baseline', 'no fault: the cluster under load', { downMs: 0, healedAt: Date.now() });
  });

  // A leader killed: its standby takes the leader lock within the retry interval plus the time to
  // reconnect and (chain-watcher) one Params query, with the chain moving meanwhile; the old leader,
  // started again, stands by.
  const TAKEOVER_BOUND_MS = LEADER_RETRY_MS + 2_000;
  for (const service of ['worker-registry', 'chain-watcher'] as PairName[]) {
    it(`kill -9 the leading ${service}: its standby takes over, the old leader restarted stands by`, async () => {
      const pair = PAIRS[service];
      const leads = async (n: string): Promise<boolean> => (service === 'worker-registry' ? c.registryLeads(n) : c.watcherLeads(n).catch(() => false));
      const leading = await expectEventually(async () => {
        const l = [];
        for (const n of pair) if (await leads(n)) l.push(n);
        expect(l, `${service}: exactly one leads`).toHaveLength(1);
        return l[0]!;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      const standby = pair.find((n) => n !== leading)!;
      const killedAt = Date.now();
      await c.kill9(leading);
      const versionBump = await bump();
      // The standby's own log says when it won the lock and when it started acting on it (the
      // registry loaded from its projection; the watcher's chain state rebuilt from the log).
      const lock = service === 'worker-registry' ? 'fleetvisor:worker-registry' : `chain-watcher:${CHAIN}`;
      const serving = service === 'worker-registry' ? 'worker registry loaded from its projection' : 'leading chain: state rebuilt from the log';
      const [lockAt, servingAt] = await expectEventually(
        () => {
          const l = c.loggedAt(standby, 'leader lock acquired', lock);
          const s = c.loggedAt(standby, serving);
          if (l === undefined || s === undefined) throw new Error(`${standby}: lock ${l ?? 'not yet'}, serving ${s ?? 'not yet'}`);
          return [l, s] as const;
        },
        { timeoutMs: 60_000, intervalMs: 100, message: `${standby} takes over\n${c.logTail(standby, 20)}` },
      );
      await expectEventually(async () => expect(await leads(standby), `${standby} leads`).toBe(true), { timeoutMs: 30_000, intervalMs: 100 });
      await expectEventually(() => fleetRuns(versionBump), { timeoutMs: 60_000, intervalMs: 250, message: `fleet upgraded to ${versionBump} under ${standby}` });
      const restartedAt = Date.now();
      await c.startProcess(leading);
      await expectEventually(() => ready(readyUrl[leading]!()), { timeoutMs: 60_000, intervalMs: 200, message: `${leading} ready again\n${c.logTail(leading)}` });
      // Started again, the old leader stands by: the other keeps the lock.
      await expectEventually(async () => {
        if (service === 'worker-registry') expect(c.registryStandsBy(leading), `${leading} says it stands by`).toBe(true);
        expect({ old: await leads(leading), standby: await leads(standby) }).toEqual({ old: false, standby: true });
      }, { timeoutMs: 30_000, intervalMs: 200, message: `${leading} stands by\n${c.logTail(leading, 20)}` });
      const takeover = { service, from: leading, to: standby, lockMs: lockAt - killedAt, servingMs: servingAt - killedAt, boundMs: TAKEOVER_BOUND_MS, oldLeaderStandsBy: true };
      await settleAndCheck(
        `kill -9 ${service} (leader)`,
        `SIGKILL to the leading ${service} (${leading}) with its standby (${standby}) running; the chain moved to ${versionBump} meanwhile; then ${leading} started again`,
        { downMs: restartedAt - killedAt, healedAt: restartedAt },
        { versionBump, takeover },
      );
      expect(takeover.lockMs, `${standby} took the lock ${takeover.lockMs} ms after the kill`).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);
    });
  }

  for (const name of ['stats-collector', 'gateway', 'runner-b', 'runner-c', 'agent-b', 'agent-c', 'meter']) {
    it(`kill -9 ${name}, then restart`, async () => {
      const p = c.process(name);
      const before = p.proc!.pid;
      const killedAt = Date.now();
      await c.kill9(name);
      const deadAt = Date.now();
      const notes: string[] = [];
      if (name === 'meter') {
        // What a killed meter may lose (apps/stats-collector, "The metering proxy"): the windows it
        // had not sent. It sends an ended window at its next tick (1 s), waiting up to 5 s for the
        // reply, so the window running at the kill and one that ended up to 6 s before may be lost.
        const w = METER.windowSeconds * 1000;
        // (The kill lands between killedAt and deadAt: every window running in between counts.)
        for (let x = deadAt - (deadAt % w); x + w > killedAt - 6_000; x -= w) lossByDesign.push(x);
        notes.push(`windows a killed meter may lose: ${lossByDesign.map((x) => new Date(x).toISOString().slice(11, 19)).join(', ')}`);
      }
      const restartedAt = Date.now();
      await c.startProcess(name);
      expect(c.process(name).proc!.pid).not.toBe(before);
      if (name === 'meter') {
        await expectEventually(meterListens, { timeoutMs: 60_000, intervalMs: 200, message: `meter listens again\n${c.logTail(name)}` });
        // The restarted meter's first whole window in the log: the windows the kill hit are behind it.
        const next = new Date(Math.max(...lossByDesign) + METER.windowSeconds * 1000).toISOString();
        await expectEventually(async () => {
          const r = await c.pool.query(`SELECT 1 FROM fv_events WHERE type = 'ApiCallsRecorded' AND data->>'source' = $1 AND data->>'windowStart' = $2`, [METER.source, next]);
          expect(r.rowCount, `the batch of ${next}`).toBe(1);
        }, { timeoutMs: 60_000, intervalMs: 250, message: `the restarted meter's window ${next} in the log\n${c.logTail(name)}` });
      } else await expectEventually(() => ready(readyUrl[name]!()), { timeoutMs: 60_000, intervalMs: 200, message: `${name} ready again\n${c.logTail(name)}` });
      const rec = await settleAndCheck(`kill -9 ${name}`, `SIGKILL to the ${name} process itself, then the same command started again`, { downMs: restartedAt - killedAt, healedAt: restartedAt }, { notes });
      if (name === 'meter') rec.notes.push(`calls lost by design: ${rec.calls.lostByDesign}`);
    });
  }

  it('a NATS node killed (kill -9) and restarted while the chain moves', async () => {
    const killedAt = Date.now();
    await c.kill9('nats-2');
    const v = await bump();
    // Two of three nodes keep the quorum: the fleet upgrades meanwhile.
    await expectEventually(() => fleetRuns(v), { timeoutMs: 60_000, intervalMs: 250, message: `fleet upgraded to ${v} with nats-2 down` });
    const restartedAt = Date.now();
    await c.startProcess('nats-2');
    await expectEventually(() => ready(`http://${c.addr('b')}:8222/healthz?js-enabled-only=true`), { timeoutMs: 60_000, intervalMs: 200 });
    await settleAndCheck('kill -9 nats-2', 'SIGKILL to NATS node 2 (host b), the chain moves to the next version while it is down, then it is started again on its store', { downMs: restartedAt - killedAt, healedAt: restartedAt }, { versionBump: v });
  });

  it('Postgres restarted while the chain moves', async () => {
    const stoppedAt = Date.now();
    // A fast shutdown (SIGINT): every connection of every central service is cut.
    await c.stopProcess('postgres', 'SIGINT');
    const v = await bump();
    const restartedAt = Date.now();
    await c.startProcess('postgres');
    await expectEventually(() => c.pool.query('SELECT 1'), { timeoutMs: 60_000, intervalMs: 200, message: 'postgres back' });
    // Central services that lost their leader lock stop, and their restart policy starts them again.
    for (const name of ['worker-registry', 'worker-registry-2', 'chain-watcher', 'chain-watcher-2', 'stats-collector']) {
      await expectEventually(() => ready(readyUrl[name]!()), { timeoutMs: 60_000, intervalMs: 200, message: `${name} ready after the Postgres restart\n${c.logTail(name)}` });
    }
    await expectEventually(() => fleetRuns(v), { timeoutMs: 90_000, intervalMs: 250, message: `fleet upgraded to ${v} after the restart` });
    await settleAndCheck('restart postgres', 'Postgres stopped (fast shutdown) and started again; the chain moved to the next version while it was down', { downMs: restartedAt - stoppedAt, healedAt: restartedAt }, { versionBump: v });
  });

  it('host b cut off past the expiry while the version changes: it keeps running, holds its events, catches up, expires and returns', async () => {
    const from = await logHead(c.pool);
    const pidBefore = c.servicePid('b');
    const cutAt = Date.now();
    await c.net.linkDown('b');
    const v = await bump();
    // Host c upgrades; b cannot hear of it.
    await expectEventually(() => fleetRuns(v, ['c']), { timeoutMs: 60_000, intervalMs: 250, message: `host c upgraded to ${v}` });
    // Past the expiry, the registry records both the host and its worker as expired.
    await expectEventually(async () => {
      expect({ HostExpired: await count('host-host-b', 'HostExpired', from), WorkerExpired: await count('worker-w-b', 'WorkerExpired', from) }).toEqual({ HostExpired: 1, WorkerExpired: 1 });
    }, { timeoutMs: 60_000, intervalMs: 250, message: 'host b and worker w-b expired' }).catch(async (e: Error) => {
      throw new Error(`${e.message}\nthe registry's gauges now: ${await registryGauges()}\n${c.logTail('worker-registry', 10)}`);
    });
    // While cut off, its runner restarts (kill -9): it records HostOnline, which it can only hold.
    await c.kill9('runner-b');
    await c.startProcess('runner-b');
    // (Asked from inside host b: the test process is cut off from it too.)
    await expectEventually(async () => {
      const r = await c.net.run('b', process.execPath, ['-e', `fetch('http://${c.addr('b')}:9474/health/live').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))`]);
      expect(r.code).toBe(0);
    }, { timeoutMs: 60_000, intervalMs: 250, message: `runner b alive while cut off\n${c.logTail('runner-b', 20)}` });
    // Its service runs, on the old version (that it is the same process is checked below, with the
    // log: a runner that replaced it records a start without an upgrade).
    await expectEventually(async () => {
      const r = await c.net.run('b', process.execPath, ['-e', `require('net').connect(${c.servicePort('b')}, '${c.addr('b')}').on('data', (d) => { process.stdout.write(d); process.exit(0); }).on('error', () => process.exit(1))`]);
      expect(r.stdout.trim()).toBe(`lavap ${VERSIONS[version - 1]}`);
    }, { timeoutMs: 30_000, intervalMs: 250, message: 'the service on host b answers while cut off' });
    const pidWhileCut = c.servicePid('b');
    // Held: in its spool, not in the log.
    expect(await count('host-host-b', 'HostOnline', from)).toBe(0);
    await expectEventually(() => expect(c.spooled('b').length).toBeGreaterThan(0), { timeoutMs: 10_000, message: 'the restarted runner holds its events' });
    const held = c.spooled('b').length;
    const downMs = Date.now() - cutAt;
    expect(downMs).toBeGreaterThan(EXPIRY_MS);

    const healedAt = Date.now();
    await c.net.linkUp('b');
    await expectEventually(async () => {
      // Held events recorded, once; the registry says both came back.
      // Held events recorded, once; the registry says both came back (the last of their liveness
      // events is a return; whether each transition was recorded once is checked below).
      expect(await count('host-host-b', 'HostOnline', from)).toBe(1);
      const lastOf = async (stream: string) =>
        (await c.pool.query<{ type: string }>(`SELECT type FROM fv_events WHERE stream_id = $1 AND type LIKE ANY (ARRAY['%Expired', '%Returned']) AND global_position > $2 ORDER BY stream_version DESC LIMIT 1`, [stream, from])).rows[0]?.type;
      expect({ host: await lastOf('host-host-b'), worker: await lastOf('worker-w-b') }).toEqual({ host: 'HostReturned', worker: 'WorkerReturned' });
      // It catches up with the version.
      await fleetRuns(v, ['b']);
    }, { timeoutMs: 120_000, intervalMs: 250, message: `host b back: events recorded, upgraded to ${v}\n${c.logTail('runner-b', 20)}` });
    const liveness = {
      HostExpired: await count('host-host-b', 'HostExpired', from),
      HostReturned: await count('host-host-b', 'HostReturned', from),
      WorkerExpired: await count('worker-w-b', 'WorkerExpired', from),
      WorkerReturned: await count('worker-w-b', 'WorkerReturned', from),
    };
    const rec = await settleAndCheck('partition host b', `host b's link down for longer than the ${EXPIRY_MS} ms expiry while the chain moved to ${v}; its runner killed and restarted while cut off; then the link up`, { downMs, healedAt }, {
      versionBump: v,
      notes: [`${held} events held in host b's spool while cut off`, 'HostExpired and WorkerExpired recorded while cut off; HostOnline (held by the restarted runner) recorded once after the heal; host b upgraded after the heal', `liveness events of host b and w-b from the cut to the end: ${Object.entries(liveness).map(([k, v]) => `${k} ×${v}`).join(', ')}`],
    });
    expect(rec.supervised.find((s) => s.host === 'host-b')).toMatchObject({ upgrades: 1, stops: 0, starts: 1 });
    expect({ pidBefore, pidWhileCut }).toEqual({ pidBefore, pidWhileCut: pidBefore });
  });
});
