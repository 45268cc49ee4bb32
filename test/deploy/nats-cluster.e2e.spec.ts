// Issue 17: the NATS cluster of a multi-host deployment, as `fleetvisor nats-config --cluster`
// writes it. Three nats-servers started from the three generated files form one JetStream cluster
// (routes authenticated with the generated route secret), `fleetvisor migrate` with the admin
// identity and FLEETVISOR_EVENT_STREAM_REPLICAS=3 replicates the event stream on all three, the
// stream keeps taking events with one node down, an event consumer whose consumer leader dies hears
// the next event within seconds (its pull request died with the node), and a server without the
// route secret cannot join.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, nkeyAuthenticator, type NatsConnection } from 'nats';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, HostOffline, newEvent } from '@fleetvisor/contracts';
import { EventConsumer } from '@fleetvisor/messaging';
import { freePort } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, inheritedEnvironment, startPrivateNats, type PrivateNats, type TestDatabase } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const run = promisify(execFile);

function getJson<T>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch (e) {
          reject(e as Error);
        }
      });
    }).on('error', reject);
  });
}

/** KEY=value lines of an env file written by nats-config. */
function envFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe('a three-node NATS cluster from fleetvisor nats-config --cluster', () => {
  let dir: string;
  let db: TestDatabase;
  const nodes: PrivateNats[] = [];
  let intruder: PrivateNats | undefined;
  let written: { configs: string[]; cluster: string };
  const routePorts: number[] = [];
  let nc: NatsConnection | undefined;
  let relay: NatsConnection | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fv-nats-cluster-'));
    for (let i = 0; i < 3; i++) routePorts.push(await freePort());
    const r = await run(process.execPath, [
      CLI, 'nats-config', '--dir', dir, '--cluster', 'tfleet',
      ...routePorts.flatMap((p, i) => ['--node', `n${i + 1}=127.0.0.1:${p}`]),
      '--host', 'h1', '--worker', 'w1', '--json',
    ], { env: inheritedEnvironment() });
    written = JSON.parse(r.stdout.trim().split('\n').pop()!) as typeof written;
    // Started together: a JetStream cluster node is ready only once the meta group has a leader.
    nodes.push(...(await Promise.all(written.configs.map((f) => startPrivateNats({ config: readFileSync(f, 'utf8'), startTimeoutMs: 90_000 })))));
    db = await createTestDatabase('fvt_nats_cluster');
  }, 120_000);

  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    await relay?.close().catch(() => undefined);
    await intruder?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes one config per node, 0600, each routing to the other two with the route secret', () => {
    expect(written.cluster).toBe('tfleet');
    expect(written.configs.map((f) => path.basename(f))).toEqual(['nats-n1.conf', 'nats-n2.conf', 'nats-n3.conf']);
    const secret = readFileSync(path.join(dir, 'cluster-route.secret'), 'utf8').trim();
    for (const [i, f] of written.configs.entries()) {
      expect(statSync(f).mode & 0o777).toBe(0o600);
      const text = readFileSync(f, 'utf8');
      expect(text).toContain(`server_name: "n${i + 1}"`);
      const routes = [...text.matchAll(/nats-route:\/\/route:([^@]+)@127\.0\.0\.1:(\d+)/g)];
      expect(routes.map((m) => Number(m[2])).sort()).toEqual(routePorts.filter((_, j) => j !== i).sort());
      expect(routes.every((m) => m[1] === secret)).toBe(true);
    }
  });

  it('forms one cluster, and migrate replicates the event stream on all three nodes', async () => {
    await expectEventually(async () => {
      for (const n of nodes) expect((await getJson<{ num_routes: number }>(`${n.monitorUrl}/routez`)).num_routes).toBe(2);
    }, { timeoutMs: 30_000 });

    const admin = envFile(path.join(dir, 'identities/admin.env'));
    const env = {
      ...inheritedEnvironment(),
      ...admin,
      FLEETVISOR_NATS_URL: nodes.map((n) => n.url).join(','),
      FLEETVISOR_DATABASE_URL: db.url,
      FLEETVISOR_EVENT_STREAM_REPLICAS: '3',
      FLEETVISOR_EVENT_STREAM_MAX_BYTES: String(64 * 1024 ** 2),
      FLEETVISOR_DEAD_LETTER_STREAM_MAX_BYTES: String(16 * 1024 ** 2),
      FLEETVISOR_LOG_LEVEL: 'warn',
    };
    const m = await run(process.execPath, [CLI, 'migrate', '--json'], { env }).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`migrate failed: ${e.stderr ?? e.message}`);
    });
    expect(m.stdout).toContain('FLEET_EVENTS');

    const seed = readFileSync(admin['FLEETVISOR_NATS_NKEY_SEED_FILE']!, 'utf8').trim();
    nc = await connect({ servers: nodes.map((n) => n.url), authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), inboxPrefix: admin['FLEETVISOR_NATS_INBOX_PREFIX']! });
    const jsm = await nc.jetstreamManager();
    for (const stream of ['FLEET_EVENTS', 'FLEET_EVENTS_DLQ', 'KV_fleet_keys']) {
      const info = await jsm.streams.info(stream);
      expect(info.config.num_replicas, stream).toBe(3);
      expect(info.cluster?.replicas?.length, stream).toBe(2);
    }
  });

  it('keeps taking events with one node down', async () => {
    // The relay's publish, with the identity of a central service (only they may publish events).
    const registry = envFile(path.join(dir, 'identities/worker-registry.env'));
    const seed = readFileSync(registry['FLEETVISOR_NATS_NKEY_SEED_FILE']!, 'utf8').trim();
    relay = await connect({ servers: nodes.map((n) => n.url), authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), inboxPrefix: registry['FLEETVISOR_NATS_INBOX_PREFIX']! });
    const victim = nodes[2]!;
    await victim.kill();
    const js = relay.jetstream();
    // Acknowledged by the two remaining replicas.
    const ack = await expectEventually(() => js.publish('fleet.evt.host.h1.HostOnline', new TextEncoder().encode('{}'), { msgID: 'cluster-test-1' }), { timeoutMs: 30_000 });
    expect(ack.stream).toBe('FLEET_EVENTS');
    await victim.restart();
    await expectEventually(async () => expect((await getJson<{ num_routes: number }>(`${victim.monitorUrl}/routez`)).num_routes).toBe(2), { timeoutMs: 30_000 });
  });

  it("an event consumer whose consumer leader dies hears the next event within seconds (its pull was lost with the node)", async () => {
    // The consumer's own connection stays on one node that is not the consumer's leader: it is
    // never told that the leader died, and only the idle heartbeats of its pull can show it.
    const admin = envFile(path.join(dir, 'identities/admin.env'));
    const seed = readFileSync(admin['FLEETVISOR_NATS_NKEY_SEED_FILE']!, 'utf8').trim();
    const home = nodes[0]!;
    const cnc = await connect({ servers: [home.url], ignoreClusterUpdates: true, authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), inboxPrefix: admin['FLEETVISOR_NATS_INBOX_PREFIX']! });
    const subjects = createSubjects('fleet');
    const seen: string[] = [];
    const consumer = new EventConsumer({
      nc: cnc,
      subjects,
      streamName: 'FLEET_EVENTS',
      name: 'leader-loss-test',
      filter: subjects.eventFilter({ area: 'host', streamId: 'host-h9' }),
      deliverPolicy: 'new',
      handler: (e) => {
        seen.push(e.id);
        return Promise.resolve();
      },
      logger: pino({ level: 'silent' }),
    });
    const jsm = await cnc.jetstreamManager();
    const names = await Promise.all(nodes.map(async (n) => (await getJson<{ server_name: string }>(`${n.monitorUrl}/varz`)).server_name));
    let victim: PrivateNats | undefined;
    try {
      await consumer.start();
      const leaderName = async () => (await jsm.consumers.info('FLEET_EVENTS', 'leader-loss-test')).cluster?.leader;
      // Lead elsewhere than on the consumer's own node.
      await expectEventually(async () => {
        const leader = await leaderName();
        if (leader === names[0]) await cnc.request('$JS.API.CONSUMER.LEADER.STEPDOWN.FLEET_EVENTS.leader-loss-test', undefined, { timeout: 5_000 }).catch(() => undefined);
        expect(names.slice(1)).toContain(await leaderName());
      }, { timeoutMs: 30_000, intervalMs: 500 });
      const js = relay!.jetstream();
      const publish = async (i: number) => {
        const e = newEvent(HostOffline, 'host-h9', { host: 'h9', process: 'leader-loss-test', pid: i + 1, reason: `r${i}` });
        await expectEventually(() => js.publish(subjects.event(e.stream, e.type), Buffer.from(JSON.stringify(e)), { msgID: e.id }), { timeoutMs: 30_000 });
        return e.id;
      };
      const first = await publish(0);
      await expectEventually(() => expect(seen).toEqual([first]), { timeoutMs: 15_000 });
      // The pull now waits at the leader: kill that node.
      victim = nodes[names.indexOf((await leaderName())!)]!;
      await victim.kill();
      const second = await publish(1);
      const publishedAt = Date.now();
      await expectEventually(() => expect(seen).toEqual([first, second]), { timeoutMs: 45_000, intervalMs: 100 });
      // A new consumer leader's election and two missed heartbeats; with nats.js's default
      // heartbeats two of them alone are past this bound (docs/reliability.md).
      expect(Date.now() - publishedAt).toBeLessThan(20_000);
    } finally {
      await consumer.stop();
      await consumer.delete().catch(() => undefined);
      await cnc.close();
      if (victim) {
        await victim.restart();
        await expectEventually(async () => expect((await getJson<{ num_routes: number }>(`${victim!.monitorUrl}/routez`)).num_routes).toBe(2), { timeoutMs: 30_000 });
      }
    }
  }, 120_000);

  it('refuses a route without the route secret', async () => {
    const port = await freePort();
    intruder = await startPrivateNats({
      jetstream: false,
      config: `cluster {\n  name: "tfleet"\n  listen: "127.0.0.1:${port}"\n  routes: ["nats-route://127.0.0.1:${routePorts[0]}"]\n}\n`,
    });
    // The node names the refusal in its log; the intruder never holds a route.
    await expectEventually(async () => expect(await nodes[0]!.logTail(200)).toMatch(/rid:\d+ - authentication error/), { timeoutMs: 30_000 });
    expect((await getJson<{ num_routes: number }>(`${intruder.monitorUrl}/routez`)).num_routes).toBe(0);
    expect((await getJson<{ num_routes: number }>(`${nodes[0]!.monitorUrl}/routez`)).num_routes).toBe(2);
  });
});
