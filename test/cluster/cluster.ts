// A three-host Fleetvisor cluster in network namespaces, set up the way docs/deployment.md says:
// `fleetvisor keys` for the trust root and signing keys, `fleetvisor nats-config --cluster` for the
// three NATS nodes and every process's NKey identity, `fleetvisor migrate` with three replicas,
// then each process started with its own identity, on its own host:
//
//   host a: nats-1, Postgres, the devnet chain, chain-watcher ×2 and worker-registry ×2 (each a
//           leader and a standby, as docs/deployment.md runs them), stats-collector
//   host b: nats-2, service-runner (one supervised fake lavap provider), worker-agent (simulated worker),
//           a metering proxy (`fleetvisor meter`) in front of a simulated venus node
//   host c: nats-3, service-runner, worker-agent
//
// Hosts b and c hold no database setting (so the standbys, which need it, run on host a too). The
// venus node and its callers are the world outside Fleetvisor: they run in the test process
// (call-load.ts) and reach the meter over the observer link. Each process is a real process inside its host's
// namespace (`ip netns exec`), so kill -9 hits the service itself and a link down cuts a whole host.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, nkeyAuthenticator, type NatsConnection } from 'nats';
import { Client, Pool } from 'pg';
import { providerConfigYaml, writeFakeLavap } from '@fleetvisor/devnet';
import { CallLoad } from './call-load';
import { readClusterTestConfig } from './config';
import { createNetnsNetwork, expectEventually, findNatsServer, findPostgresBinDir, inheritedEnvironment, type ManagedProcess, type NetnsNetwork } from '@fleetvisor/testing';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'bin/fleetvisor.js');
export const CHAIN = 'lava-fv-cluster';
export const VERSIONS = ['0.21.0', '0.22.0', '0.23.0', '0.24.0', '0.25.0', '0.26.0'];
/** The expiry of hosts and workers in the registry, short so a cut-off host expires within the suite. */
export const EXPIRY_MS = 4_000;
/** How often a standby tries its leader lock (chain-watcher's FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY; the registry's is fixed at 1 s). */
export const LEADER_RETRY_MS = 1_000;

export type HostName = 'a' | 'b' | 'c';
export const RUNNER_HOSTS = ['b', 'c'] as const;
/** The metering proxy: its host, its name on the push subject (`nats-config --meter`), its flush window. */
/** The gateway's port on host a. */
export const GATEWAY_PORT = 8080;
export const METER = { host: 'b' as HostName, source: 'venus-b', component: 'venus', port: 3454, windowSeconds: 10 };
/** Each central service that runs as a leader and a standby: the two processes, and where each serves health. */
export const PAIRS = {
  'chain-watcher': ['chain-watcher', 'chain-watcher-2'],
  'worker-registry': ['worker-registry', 'worker-registry-2'],
} as const;
export type PairName = keyof typeof PAIRS;

interface ProcessSpec {
  name: string;
  host: HostName;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /**
   * Started again when it exits on its own, like `Restart=on-failure` of the systemd units and
   * `restart: unless-stopped` of docker/compose.yml (a central service stops when it loses its
   * Postgres leader lock and counts on that). Not after kill9() or stopProcess(): the test restarts those.
   */
  restart?: boolean;
}

/** An exit the cluster's restart policy answered with a new start. */
export interface AutoRestart {
  name: string;
  at: string;
  exit: string;
  pid: number;
}

/** How long the restart policy waits before starting an exited process again (systemd's RestartSec). */
const RESTART_DELAY_MS = 1_000;

export interface ClusterProcess {
  readonly spec: ProcessSpec;
  proc: ManagedProcess | undefined;
  /** Set while the test itself stops it (no automatic restart then). */
  deliberate: boolean;
  readonly logFile: string;
  /** Every pid it ran as, in order (a restart adds one). */
  readonly pids: number[];
  /** Where its log file ended when it was last started (what this life wrote comes after). */
  logOffset: number;
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

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export class FleetCluster {
  readonly processes = new Map<string, ClusterProcess>();
  /** Every automatic restart, oldest first. */
  readonly autoRestarts: AutoRestart[] = [];
  private stopping = false;
  pool!: Pool;
  /** The admin identity's connection (the test's view of the bus: stream and consumer info). */
  admin!: NatsConnection;
  private dbPassword = '';
  /** The simulated venus node and the calls made through the meter. */
  calls!: CallLoad;

  private constructor(
    readonly net: NetnsNetwork,
    readonly dir: string,
  ) {}

  addr(host: HostName): string {
    return this.net.host(host).address;
  }
  get natsUrls(): string[] {
    return (['a', 'b', 'c'] as const).map((h) => `nats://${this.addr(h)}:4222`);
  }
  /** Client URLs as a host's process lists them: its own node first. */
  natsUrlFrom(host: HostName): string {
    const own = `nats://${this.addr(host)}:4222`;
    return [own, ...this.natsUrls.filter((u) => u !== own)].join(',');
  }
  get databaseUrl(): string {
    return `postgres://fleetvisor@${this.addr('a')}:5432/fleetvisor`;
  }
  /** How the test process reaches the database (through the observer link), as the fleetvisor role. */
  get pgConnection(): { host: string; port: number; user: string; password: string; database: string } {
    return { host: this.addr('a'), port: 5432, user: 'fleetvisor', password: this.dbPassword, database: 'fleetvisor' };
  }
  /** A read token of the gateway (made at set-up). */
  gatewayToken = '';
  get gatewayUrl(): string {
    return `http://${this.addr('a')}:${GATEWAY_PORT}`;
  }
  /** Where the callers reach the metering proxy. */
  get meterUrl(): string {
    return `http://${this.addr(METER.host)}:${METER.port}/rpc/v1`;
  }
  get devnetUrl(): string {
    return `http://${this.addr('a')}:26657`;
  }
  runnerDir(host: HostName): string {
    return path.join(this.dir, `home-${host}`);
  }
  servicePort(host: HostName): number {
    return host === 'b' ? 22001 : 22002;
  }
  /** Where a central process serves its health (chain-watchers: /healthz and /metrics). */
  healthPort(name: string): number {
    const ports: Record<string, number> = { 'chain-watcher': 9471, 'chain-watcher-2': 9481, 'worker-registry': 9472, 'worker-registry-2': 9482, 'stats-collector': 9473 };
    const p = ports[name];
    if (p === undefined) throw new Error(`no health port for ${name}`);
    return p;
  }

  static async start(opts: { log?: (line: string) => void } = {}): Promise<FleetCluster> {
    const log = opts.log ?? (() => undefined);
    const net = await createNetnsNetwork({ hosts: ['a', 'b', 'c'], prefix: 'fvc' });
    const dir = mkdtempSync(path.join(tmpdir(), 'fv-cluster-'));
    chmodSync(dir, 0o755);
    const cluster = new FleetCluster(net, dir);
    try {
      await cluster.setUp(log);
    } catch (e) {
      const logs = [...cluster.processes.values()].map((p) => `--- ${p.spec.name} ---\n${tail(p.logFile, 20)}`).join('\n');
      await cluster.stop();
      throw new Error(`cluster set-up failed: ${(e as Error).message}\n${logs}`);
    }
    return cluster;
  }

  private cli(args: string[], env: Record<string, string> = {}, host?: HostName): Promise<{ stdout: string; stderr: string }> {
    const full = { ...inheritedEnvironment(), FLEETVISOR_LOG_FORMAT: 'json', FLEETVISOR_LOG_LEVEL: 'warn', ...env } as NodeJS.ProcessEnv;
    const [cmd, argv] = host ? this.net.argv(host, process.execPath, [CLI, ...args]) : [process.execPath, [CLI, ...args]];
    return run(cmd, argv, { env: full, maxBuffer: 16 * 1024 * 1024 }).catch((e: Error & { stderr?: string; stdout?: string }) => {
      throw new Error(`fleetvisor ${args.join(' ')} failed: ${e.stderr || e.message}`);
    });
  }

  private async setUp(log: (line: string) => void): Promise<void> {
    const d = (p: string) => path.join(this.dir, p);
    // Keys: the root (its public half is every process's trust root) and the signing keys.
    const keys = d('keys');
    await this.cli(['keys', 'init', '--dir', keys, '--name', 'fleet-root']);
    for (const [name, role] of [['chain-watcher', 'chain-watcher'], ['worker-registry', 'service'], ['gateway', 'gateway']] as const) {
      await this.cli(['keys', 'create', '--offline', '--role', role, '--name', name, '--root-key', path.join(keys, 'fleet-root.key.json'), '--out', path.join(keys, `${name}.key.json`)]);
    }
    // NATS: one config per node (routes on each host's address), an identity per process.
    await this.cli([
      'nats-config', '--dir', d('nats'), '--cluster', 'fvc',
      ...(['a', 'b', 'c'] as const).flatMap((h, i) => ['--node', `nats-${i + 1}=${this.addr(h)}:6222`]),
      '--monitor-listen', '0.0.0.0:8222',
      ...RUNNER_HOSTS.flatMap((h) => ['--host', `host-${h}`]),
      ...RUNNER_HOSTS.flatMap((h) => ['--worker', `w-${h}`]),
      '--meter', METER.source,
    ]);
    for (const [i, h] of (['a', 'b', 'c'] as const).entries()) {
      const store = d(`nats-store-${h}`);
      mkdirSync(store);
      this.define({ name: `nats-${i + 1}`, host: h, command: findNatsServer(), args: ['-c', d(`nats/nats-nats-${i + 1}.conf`), '-sd', store], env: {} });
    }
    await Promise.all(['nats-1', 'nats-2', 'nats-3'].map((n) => this.startProcess(n)));
    await Promise.all((['a', 'b', 'c'] as const).map((h) => this.natsReady(h)));
    log('nats cluster up');

    await this.setUpPostgres();
    log('postgres up');

    this.define({ name: 'devnet', host: 'a', command: process.execPath, args: [CLI, 'devnet', 'start', '--host', '0.0.0.0', '--port', '26657', '--chain-id', CHAIN, '--block-time', '1s', '--provider-target', VERSIONS[0]!, '--provider-min', VERSIONS[0]!, '--consumer-target', VERSIONS[0]!, '--consumer-min', VERSIONS[0]!], env: this.baseEnv() });
    await this.startProcess('devnet');

    // Schema and streams, once, with the admin identity (three replicas).
    await this.cli(['migrate', '--json'], { ...this.centralEnv('admin'), FLEETVISOR_EVENT_STREAM_REPLICAS: '3' }, 'a');
    log('migrated');
    const adminEnv = envFile(d('nats/identities/admin.env'));
    this.admin = await connect({
      servers: this.natsUrls,
      authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(adminEnv['FLEETVISOR_NATS_NKEY_SEED_FILE']!, 'utf8').trim())),
      inboxPrefix: adminEnv['FLEETVISOR_NATS_INBOX_PREFIX']!,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });

    // A leader and a standby of each, with the same settings but their own name and ports.
    for (const name of PAIRS['chain-watcher']) {
      this.define({ name, host: 'a', restart: true, command: process.execPath, args: [CLI, 'chain-watcher', 'run'], env: {
        ...this.centralEnv('chain-watcher'),
        FLEETVISOR_HOST: name,
        FLEETVISOR_SIGNING_KEY_FILE: path.join(keys, 'chain-watcher.key.json'),
        FLEETVISOR_CHAINS: `${CHAIN}=${this.devnetUrl}`,
        FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '0.0.0.0',
        FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: String(this.healthPort(name)),
        FLEETVISOR_CHAIN_WATCHER_WS_STALL: '4s',
        FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY: `${LEADER_RETRY_MS}ms`,
      } });
    }
    for (const name of PAIRS['worker-registry']) {
      this.define({ name, host: 'a', restart: true, command: process.execPath, args: [CLI, 'worker-registry', 'run'], env: {
        ...this.centralEnv('worker-registry'),
        FLEETVISOR_HOST: name,
        FLEETVISOR_SIGNING_KEY_FILE: path.join(keys, 'worker-registry.key.json'),
        FLEETVISOR_HEALTH_LISTEN: `0.0.0.0:${this.healthPort(name)}`,
        FLEETVISOR_WORKER_EXPIRATION: `${EXPIRY_MS}ms`,
        FLEETVISOR_HOST_EXPIRATION: `${EXPIRY_MS}ms`,
        FLEETVISOR_WORKER_EXPIRY_CHECK_INTERVAL: '250ms',
      } });
    }
    this.define({ name: 'stats-collector', host: 'a', restart: true, command: process.execPath, args: [CLI, 'stats-collector', 'run'], env: {
      ...this.centralEnv('stats-collector'),
      FLEETVISOR_HEALTH_LISTEN: '0.0.0.0:9473',
    } });
    // The REST gateway, with the gateway identity of the generated NATS configuration and a gateway key.
    this.define({ name: 'gateway', host: 'a', restart: true, command: process.execPath, args: [CLI, 'gateway', 'run'], env: {
      ...this.centralEnv('gateway'),
      FLEETVISOR_SIGNING_KEY_FILE: path.join(keys, 'gateway.key.json'),
      FLEETVISOR_GATEWAY_LISTEN: `0.0.0.0:${GATEWAY_PORT}`,
    } });
    // The first of each pair starts alone and leads; its standby starts once it does.
    await this.startProcess('worker-registry');
    await this.startProcess('chain-watcher');
    await this.startProcess('stats-collector');
    await expectEventually(() => {
      if (!this.registryLeads('worker-registry')) throw new Error('not leading yet');
    }, { timeoutMs: 90_000, intervalMs: 250, message: `worker-registry leads\n${tail(this.process('worker-registry').logFile)}` });
    await this.startProcess('worker-registry-2');
    // The watcher records the chain's first version; the relay puts it on the bus.
    await expectEventually(async () => {
      const r = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM fv_events WHERE stream_id = $1 AND type = 'VersionChanged'`, [`chain-${CHAIN}`]);
      if (Number(r.rows[0]!.n) < 1) throw new Error('no VersionChanged yet');
    }, { timeoutMs: 90_000, intervalMs: 250, message: `chain-watcher recorded the chain's version\n${tail(this.processes.get('chain-watcher')!.logFile)}` });
    await this.startProcess('chain-watcher-2');
    await this.startProcess('gateway');
    await expectEventually(async () => {
      const res = await fetch(`${this.gatewayUrl}/health/ready`);
      if (res.status !== 200) throw new Error(`gateway /health/ready ${res.status}`);
    }, { timeoutMs: 90_000, intervalMs: 250, message: `gateway ready\n${tail(this.process('gateway').logFile)}` });
    this.gatewayToken = (JSON.parse((await this.cli(['token', 'create', '--role', 'read', '--name', 'cluster-read', '--json'], this.centralEnv('admin'), 'a')).stdout) as { token: string }).token;
    log('central services up');

    // The metering proxy on host b in front of the simulated venus node (in this process, on the observer's address).
    this.calls = await CallLoad.startNode(this.net.observerAddress);
    this.define({ name: 'meter', host: METER.host, restart: true, command: process.execPath, args: [
      CLI, 'meter', '--listen', `${this.addr(METER.host)}:${METER.port}`, '--upstream', this.calls.node.url,
      '--component', METER.component, '--source', METER.source, '--window', String(METER.windowSeconds),
    ], env: { ...this.hostEnv(METER.host, `meter-${METER.source}`) } });
    await this.startProcess('meter');

    for (const h of RUNNER_HOSTS) await this.setUpRunnerHost(h);
    log('runner hosts up');
  }

  private async natsReady(host: HostName): Promise<void> {
    await expectEventually(async () => {
      const res = await fetch(`http://${this.addr(host)}:8222/healthz?js-enabled-only=true`);
      if (res.status !== 200) throw new Error(`healthz ${res.status}`);
    }, { timeoutMs: 90_000, intervalMs: 250, message: `nats on ${host}` });
  }

  private async setUpPostgres(): Promise<void> {
    const bin = findPostgresBinDir();
    const pgDir = path.join(this.dir, 'pg');
    mkdirSync(pgDir);
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(pgDir, uid, gid);
    const data = path.join(pgDir, 'data');
    const sock = path.join(pgDir, 'sock');
    await run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'], { uid, gid, cwd: pgDir });
    mkdirSync(sock);
    chownSync(sock, uid, gid);
    // Hosts of the private network reach it with a password, like the deployment's.
    appendFileSync(path.join(data, 'pg_hba.conf'), `host all all ${this.net.subnet}.0/24 scram-sha-256\n`);
    this.define({ name: 'postgres', host: 'a', command: 'setpriv', args: [
      '--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--',
      path.join(bin, 'postgres'), '-D', data, '-k', sock, '-p', '5432',
      '-c', `listen_addresses=${this.addr('a')}`, '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=32MB', '-c', 'max_connections=100', '-c', 'dynamic_shared_memory_type=mmap',
    ], env: { PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin' }, cwd: pgDir });
    await this.startProcess('postgres');
    // The role and database, over the Unix socket (local trust, as the server's own user would).
    const admin = await expectEventually(async () => {
      const c = new Client({ host: sock, port: 5432, user: 'postgres', database: 'postgres' });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return c;
      } catch (e) {
        await c.end().catch(() => undefined);
        throw e;
      }
    }, { timeoutMs: 60_000, intervalMs: 200, message: 'postgres answers on its socket' });
    this.dbPassword = (await run('openssl', ['rand', '-hex', '24'])).stdout.trim();
    await admin.query(`CREATE ROLE fleetvisor LOGIN PASSWORD '${this.dbPassword}'`);
    await admin.query('CREATE DATABASE fleetvisor OWNER fleetvisor');
    await admin.end();
    writeFileSync(path.join(this.dir, 'postgres-password'), `${this.dbPassword}\n`, { mode: 0o600 });
    this.pool = new Pool({ host: this.addr('a'), port: 5432, user: 'fleetvisor', password: this.dbPassword, database: 'fleetvisor', max: 3 });
    this.pool.on('error', () => undefined);
  }

  private baseEnv(): Record<string, string> {
    return {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      HOME: this.dir,
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'info',
    };
  }

  /** A central service's environment on host a: the database, its NATS identity, the trust root. */
  centralEnv(identity: string): Record<string, string> {
    const id = envFile(path.join(this.dir, 'nats', 'identities', `${identity}.env`));
    return {
      ...this.baseEnv(),
      ...id,
      FLEETVISOR_HOST: identity,
      FLEETVISOR_NATS_URL: this.natsUrlFrom('a'),
      FLEETVISOR_DATABASE_URL: this.databaseUrl,
      FLEETVISOR_DATABASE_PASSWORD_FILE: path.join(this.dir, 'postgres-password'),
      FLEETVISOR_TRUST_ROOT_FILE: path.join(this.dir, 'keys', 'fleet-root.pub'),
      FLEETVISOR_EVENT_STREAM_MAX_BYTES: String(64 * 1024 ** 2),
      FLEETVISOR_DEAD_LETTER_STREAM_MAX_BYTES: String(16 * 1024 ** 2),
    };
  }

  /** A runner host's environment: its NATS identity and the trust root; no database setting. */
  hostEnv(host: HostName, identity: string): Record<string, string> {
    const id = envFile(path.join(this.dir, 'nats', 'identities', `${identity}.env`));
    return {
      ...this.baseEnv(),
      ...id,
      HOME: this.runnerDir(host),
      FLEETVISOR_HOST: `host-${host}`,
      FLEETVISOR_NATS_URL: this.natsUrlFrom(host),
      FLEETVISOR_TRUST_ROOT_FILE: path.join(this.dir, 'keys', 'fleet-root.pub'),
    };
  }

  private async setUpRunnerHost(h: HostName): Promise<void> {
    const home = this.runnerDir(h);
    mkdirSync(home);
    // The binaries of every version the suite moves the chain to, where `init --auto-download` would put them.
    for (const v of VERSIONS) writeFakeLavap(path.join(home, '.fleetvisor', 'upgrades', `v${v}`), { version: v });
    const env = {
      ...this.hostEnv(h, `runner-${h === 'b' ? 'host-b' : 'host-c'}`),
      FLEETVISOR_RUNNER_CHAIN_RPC: this.devnetUrl,
      FLEETVISOR_RUNNER_HEARTBEAT_INTERVAL: '1s',
      FLEETVISOR_RUNNER_HEALTH_STABLE: '500ms',
      FLEETVISOR_RUNNER_HEALTH_TIMEOUT: '5s',
      FLEETVISOR_RUNNER_STOP_GRACE: '2s',
      FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms',
      FLEETVISOR_RUNNER_RESTART_MAX: '1s',
      FLEETVISOR_HEALTH_LISTEN: '0.0.0.0:9474',
    };
    await expectEventually(() => this.cli(['init', '--directory', home, '--chain-id', CHAIN, '--json'], env, h), { timeoutMs: 60_000, intervalMs: 500, message: `init on host ${h}` });
    const cfg = path.join(home, 'provider.yml');
    writeFileSync(cfg, providerConfigYaml('LAV1', `${this.addr(h)}:${this.servicePort(h)}`, this.devnetUrl));
    await this.cli(['create-service', 'provider', cfg, '--directory', home, '--geolocation', '1', '--from', 'provider1', '--keyring-backend', 'test', '--chain-id', CHAIN, '--node', this.devnetUrl, '--json'], env, h);
    this.define({ name: `runner-${h}`, host: h, restart: true, command: process.execPath, args: [CLI, 'start', '--directory', home], env });
    await this.startProcess(`runner-${h}`);
    this.define({ name: `agent-${h}`, host: h, restart: true, command: process.execPath, args: [CLI, 'worker-agent', 'run'], env: {
      ...this.hostEnv(h, `agent-w-${h}`),
      FLEETVISOR_WORKER_NAME: `w-${h}`,
      FLEETVISOR_WORKER_SOURCE: 'simulated',
      FLEETVISOR_WORKER_DEST: `${this.addr(h)}:17890`,
      FLEETVISOR_WORKER_REPORT_INTERVAL: '500ms',
      FLEETVISOR_WORKER_SIM_THREADS: '2',
      FLEETVISOR_WORKER_SIM_STEP: '1s',
      FLEETVISOR_HEALTH_LISTEN: '0.0.0.0:9475',
    } });
    await this.startProcess(`agent-${h}`);
  }

  private define(spec: ProcessSpec): void {
    this.processes.set(spec.name, { spec, proc: undefined, deliberate: false, logFile: path.join(this.dir, `${spec.name}.log`), pids: [], logOffset: 0 });
  }

  process(name: string): ClusterProcess {
    const p = this.processes.get(name);
    if (!p) throw new Error(`no cluster process ${name}`);
    return p;
  }

  async startProcess(name: string): Promise<ManagedProcess> {
    const p = this.process(name);
    p.logOffset = existsSync(p.logFile) ? statSync(p.logFile).size : 0;
    const proc = await this.net.spawn(p.spec.host, { command: p.spec.command, args: p.spec.args, env: p.spec.env, logFile: p.logFile, ...(p.spec.cwd ? { cwd: p.spec.cwd } : {}) });
    p.proc = proc;
    p.deliberate = false;
    p.pids.push(proc.pid);
    if (p.spec.restart) {
      void proc.exited.then(() => {
        if (this.stopping || p.deliberate || p.proc !== proc) return;
        this.autoRestarts.push({ name, at: new Date().toISOString(), exit: proc.exitDescription ?? 'exited', pid: proc.pid });
        setTimeout(() => {
          if (!this.stopping && !p.deliberate && p.proc === proc) void this.startProcess(name).catch(() => undefined);
        }, RESTART_DELAY_MS);
      });
    }
    return proc;
  }

  /** kill -9 of the process itself (not its group: a runner's children must survive it). */
  async kill9(name: string): Promise<void> {
    const p = this.process(name);
    if (!p.proc) throw new Error(`${name} is not running`);
    p.deliberate = true;
    p.proc.signal('SIGKILL');
    if (!(await p.proc.waitExit(10_000))) throw new Error(`${name} survived SIGKILL`);
  }

  /** A graceful stop (SIGINT, Postgres's fast shutdown; SIGTERM otherwise), waiting for the exit. */
  async stopProcess(name: string, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.process(name);
    p.deliberate = true;
    p.proc?.signal(sig);
    if (p.proc && !(await p.proc.waitExit(30_000))) throw new Error(`${name} did not stop on ${sig}`);
  }

  logTail(name: string, lines = 40): string {
    return tail(this.process(name).logFile, lines);
  }

  /** The JSON log lines a process wrote in its current life (since it was last started), with their time in ms. */
  logSinceStart(name: string): { msg?: string; at: number; lock?: string }[] {
    const p = this.process(name);
    let text: string;
    try {
      text = readFileSync(p.logFile).subarray(p.logOffset).toString('utf8');
    } catch {
      return [];
    }
    const out: { msg?: string; at: number; lock?: string }[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const l = JSON.parse(line) as { msg?: string; time?: string | number; lock?: string };
        out.push({ ...(l.msg !== undefined ? { msg: l.msg } : {}), ...(l.lock !== undefined ? { lock: l.lock } : {}), at: typeof l.time === 'number' ? l.time : Date.parse(l.time ?? '') });
      } catch {
        // a line cut by a kill
      }
    }
    return out;
  }

  /** When this life of a process first logged `msg` (for a leader lock: with that lock's name), or undefined. */
  loggedAt(name: string, msg: string, lock?: string): number | undefined {
    return this.logSinceStart(name).find((l) => l.msg === msg && (lock === undefined || l.lock === lock))?.at;
  }

  /** When this life of a registry won the registry's leader lock (its own log says so), or undefined. */
  registryLeadSince(name: string): number | undefined {
    return this.loggedAt(name, 'leader lock acquired', 'fleetvisor:worker-registry');
  }
  registryLeads(name: string): boolean {
    return this.process(name).proc?.running === true && this.registryLeadSince(name) !== undefined;
  }
  /** Whether this life of a registry said it stands by (another registry is active). */
  registryStandsBy(name: string): boolean {
    return this.logSinceStart(name).some((l) => l.msg?.startsWith('another worker registry is active') === true);
  }

  /** Whether a chain-watcher replica leads the chain now (its chain_watcher_leader gauge). */
  async watcherLeads(name: string): Promise<boolean> {
    const res = await fetch(`http://${this.addr('a')}:${this.healthPort(name)}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    const line = text.split('\n').find((l) => l.startsWith(`chain_watcher_leader{chain="${CHAIN}"}`));
    return line !== undefined && Number(line.split(' ').pop()) === 1;
  }

  /** The pid the runner of `host` recorded for its supervised service. */
  servicePid(host: HostName, service = 'provider1-LAV1'): number {
    return (JSON.parse(readFileSync(path.join(this.runnerDir(host), '.fleetvisor', 'state', `${service}.pid`), 'utf8')) as { pid: number }).pid;
  }

  /** Events the runner of `host` holds in its spool, not yet confirmed in the log (apps/service-runner/src/events/event-spool.ts). */
  spooled(host: HostName): string[] {
    const dir = path.join(this.runnerDir(host), '.fleetvisor', 'spool');
    return existsSync(dir) ? readdirSync(dir).filter((f) => /^[0-9a-f-]{36}\.json$/.test(f)) : [];
  }

  /** Moves the devnet chain to the next protocol version (what a governance proposal does). */
  async bumpVersion(to: string): Promise<void> {
    await this.cli(['devnet', 'set-version', '--node', this.devnetUrl, '--provider-target', to, '--provider-min', to, '--consumer-target', to, '--consumer-min', to, '--json']);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.calls?.stop().catch(() => undefined);
    await this.admin?.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    // Everything inside the namespaces, the supervised services included, goes with them.
    await this.net.teardown();
    if (!readClusterTestConfig().keepClusterDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Supervised-service pid files left on a host (for diagnostics). */
  pidFiles(host: HostName): string[] {
    const dir = path.join(this.runnerDir(host), '.fleetvisor', 'state');
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pid')) : [];
  }
}
