// `fleetvisor nats-config`: writes a nats-server configuration with one NKey user per Fleetvisor
// identity and the least permissions each needs (libs/messaging nats-permissions.ts decides them),
// a 0600 seed file and an env file per identity. Seeds already in the directory are kept, so adding
// a host, a worker or a meter is a re-run with one more --host / --worker / --meter: the others'
// credentials stay valid.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './install-files';
import path from 'node:path';
import { nkeys } from 'nats';
import { natsIdentities, renderIdentityEnv, renderNatsServerConfig, type NatsIdentity } from '@fleetvisor/messaging/core';
import { defineCliCommand, fleetvisorVersion, UsageError } from '@fleetvisor/platform';

/** The part of nkeys.js (re-exported untyped by nats.js) used here. */
interface KeyPair {
  getPublicKey(): string;
  getSeed(): Uint8Array;
}
const nk = nkeys as { createUser(): KeyPair; fromSeed(seed: Uint8Array): KeyPair };

interface WrittenIdentity {
  id: string;
  role: string;
  for?: string;
  publicKey: string;
  seedFile: string;
  envFile: string;
  inboxPrefix: string;
  created: boolean;
}

/** The identity's seed from its file, or a new one written there (0600). */
function seedOf(file: string): { kp: KeyPair; created: boolean } {
  if (existsSync(file)) {
    const seed = readFileSync(file, 'utf8').trim();
    if (!/^SU[A-Z2-7]{56}$/.test(seed)) throw new Error(`${file} does not hold an NKey user seed; move it away to make a new one`);
    chmodSync(file, 0o600);
    return { kp: nk.fromSeed(new TextEncoder().encode(seed)), created: false };
  }
  const kp = nk.createUser();
  writeFileAtomic(file, new TextDecoder().decode(kp.getSeed()) + '\n', 0o600);
  return { kp, created: true };
}

/** The routes' password: kept in its file across re-runs (the nodes of a running cluster keep agreeing), else a new one. */
function routeSecret(file: string): string {
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (!/^[A-Za-z0-9_-]{32,}$/.test(text)) throw new Error(`${file} does not hold a route secret; move it away to make a new one`);
    chmodSync(file, 0o600);
    return text;
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileAtomic(file, secret + '\n', 0o600);
  return secret;
}

interface ClusterNodes {
  cluster: string;
  list: { name: string; host: string; routePort: number; listen?: string }[];
}

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** --cluster with its --node NAME=HOST[:PORT] (and --node-listen NAME=HOST:PORT), checked; undefined: one server. */
export function clusterNodes(cluster: string | undefined, nodes: readonly string[] | undefined, listens: readonly string[] | undefined): ClusterNodes | undefined {
  const given = nodes ?? [];
  if (cluster === undefined) {
    if (given.length > 0 || (listens ?? []).length > 0) throw new UsageError('--node and --node-listen need --cluster NAME');
    return undefined;
  }
  if (!NODE_NAME.test(cluster)) throw new UsageError(`--cluster: "${cluster}" is not a valid cluster name (letters, digits, . _ -)`);
  if (given.length < 3) throw new UsageError(`--cluster needs at least three --node: JetStream keeps a replicated stream only with a majority of three or more (got ${given.length})`);
  const list = given.map((spec) => {
    const m = /^([^=]+)=(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(spec);
    if (!m || !NODE_NAME.test(m[1]!)) throw new UsageError(`--node: expected NAME=HOST[:ROUTE_PORT], got "${spec}"`);
    const routePort = m[3] === undefined ? 6222 : Number(m[3]);
    if (routePort < 1 || routePort > 65_535) throw new UsageError(`--node ${spec}: route port out of range`);
    return { name: m[1]!, host: m[2]!, routePort } as ClusterNodes['list'][number];
  });
  const names = new Set<string>();
  for (const n of list) {
    if (names.has(n.name)) throw new UsageError(`--node: ${n.name} given twice`);
    names.add(n.name);
  }
  for (const spec of listens ?? []) {
    const m = /^([^=]+)=(.+:\d{1,5})$/.exec(spec);
    const node = m ? list.find((n) => n.name === m[1]) : undefined;
    if (!m || !node) throw new UsageError(`--node-listen: expected NAME=HOST:PORT for a --node, got "${spec}"`);
    node.listen = m[2]!;
  }
  return { cluster, list };
}

function checkReadable(option: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new UsageError(`${option}: ${abs} does not exist`);
  return abs;
}

export const natsConfigCommand = defineCliCommand({
  path: ['nats-config'],
  summary: 'Write a nats-server configuration with one NKey user per Fleetvisor identity and least-privilege permissions',
  description:
    'One NKey user per identity, each with only the subjects it needs (docs/security.md, "Permissions"): the central services ' +
    '(chain-watcher, worker-registry, stats-collector, gateway; the outbox relay runs inside them, so they alone may ' +
    'publish events), the service-runner of each --host, the worker-agent of each --worker, the metering proxy of each --meter ' +
    '(it may push counts under its own source name only), operators\' CLI, a read-only bus tool, ' +
    'and admin (streams: run `fleetvisor migrate` with it). Writes <dir>/nats-server.conf, and per identity <dir>/identities/<id>.nk ' +
    '(its seed, mode 0600) and <dir>/identities/<id>.env (FLEETVISOR_NATS_NKEY_SEED_FILE, FLEETVISOR_NATS_INBOX_PREFIX, ...). ' +
    'Seeds already there are kept: re-run with more --host / --worker to add them, then reload the server (nats-server --signal reload). ' +
    'TLS: give --tls-cert and --tls-key (and --tls-ca to require client certificates). Works with nats-server 2.9 (no auth callout). ' +
    'A JetStream cluster: --cluster NAME and one --node NAME=HOST[:ROUTE_PORT] per server write <dir>/nats-<node>.conf for each ' +
    '(same users, routes to the others, mode 0600: it holds the routes\' password, kept in <dir>/cluster-route.secret across re-runs) ' +
    'instead of nats-server.conf. --seeds-at DIR writes each env file\'s seed path as DIR/<id>.nk (where a container mounts it).',
  options: {
    dir: { type: 'string', description: 'directory to write into (created if missing)', default: 'nats-config', placeholder: 'dir' },
    host: { type: 'list', description: 'a host running a service-runner', placeholder: 'host' },
    worker: { type: 'list', description: 'a sealing worker with its worker-agent', placeholder: 'name' },
    meter: { type: 'list', description: 'a metering proxy (fleetvisor meter --source NAME): may push stats as NAME only', placeholder: 'name' },
    root: { type: 'string', description: 'subject root', default: 'fleet', placeholder: 'root' },
    stream: { type: 'string', description: 'event stream name', default: 'FLEET_EVENTS', placeholder: 'name' },
    listen: { type: 'string', description: 'address the server listens on', default: '0.0.0.0:4222', placeholder: 'host:port' },
    'store-dir': { type: 'string', description: 'JetStream store directory (default: the server\'s)', placeholder: 'dir' },
    'nats-url': { type: 'string', description: 'FLEETVISOR_NATS_URL to write into each env file', placeholder: 'url' },
    'tls-cert': { type: 'string', description: "the server's certificate (PEM)", placeholder: 'file' },
    'tls-key': { type: 'string', description: "the server's key (PEM)", placeholder: 'file' },
    'tls-ca': { type: 'string', description: 'CA that signs client certificates (clients must present one)', placeholder: 'file' },
    cluster: { type: 'string', description: 'JetStream cluster name: write one config per --node', placeholder: 'name' },
    node: { type: 'list', description: 'a cluster node and where its route listener is reached (route port default 6222)', placeholder: 'name=host[:port]' },
    'node-listen': { type: 'list', description: "a node's own client address, where nodes share a machine (default --listen)", placeholder: 'name=host:port' },
    'monitor-listen': { type: 'string', description: 'the monitoring endpoint (GET /healthz) of each server', placeholder: 'host:port' },
    'seeds-at': { type: 'string', description: 'the directory each process finds its seed in, as written into the env files (default: where they are written)', placeholder: 'dir' },
    json: { type: 'boolean', description: 'print what was written as JSON' },
  },
  examples: [
    'fleetvisor nats-config --dir /etc/fleetvisor/nats --host h1 --host h2 --worker w-01 --worker w-02',
    'fleetvisor nats-config --dir /etc/fleetvisor/nats --host h1 --host h2 --host h3   # adds h3, keeps every other seed',
    'fleetvisor nats-config --dir /etc/fleetvisor/nats --host h1 --meter t01000-messager   # then: fleetvisor meter --source t01000-messager …',
    'fleetvisor nats-config --dir nats --host h1 --tls-cert server.pem --tls-key server-key.pem --tls-ca ca.pem --nats-url tls://nats.example:4222',
    'nats-server -c nats/nats-server.conf && FLEETVISOR_NATS_NKEY_SEED_FILE=nats/identities/admin.nk fleetvisor migrate',
    'fleetvisor nats-config --dir docker/generated/nats --cluster fleet --node nats-1=nats-1 --node nats-2=nats-2 --node nats-3=nats-3 --monitor-listen 0.0.0.0:8222 --seeds-at /run/secrets --nats-url nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222',
  ],
  async run({ options, io }) {
    const certFile = checkReadable('--tls-cert', options['tls-cert']);
    const keyFile = checkReadable('--tls-key', options['tls-key']);
    const caFile = checkReadable('--tls-ca', options['tls-ca']);
    if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    if (caFile !== undefined && certFile === undefined) throw new UsageError('--tls-ca needs --tls-cert and --tls-key (the server must offer TLS to verify clients)');
    let identities: NatsIdentity[];
    try {
      identities = natsIdentities({ root: options.root, eventStream: options.stream, hosts: options.host, workers: options.worker, meters: options.meter });
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    const nodes = clusterNodes(options.cluster, options.node, options['node-listen']);
    const dir = path.resolve(options.dir);
    const idDir = path.join(dir, 'identities');
    mkdirSync(idDir, { recursive: true, mode: 0o700 });
    chmodSync(idDir, 0o700);
    const written: WrittenIdentity[] = [];
    const users: { identity: NatsIdentity; publicKey: string }[] = [];
    for (const identity of identities) {
      const seedFile = path.join(idDir, `${identity.id}.nk`);
      const envFile = path.join(idDir, `${identity.id}.env`);
      const { kp, created } = seedOf(seedFile);
      const seedPath = options['seeds-at'] ? path.posix.join(options['seeds-at'], `${identity.id}.nk`) : seedFile;
      const publicKey = kp.getPublicKey();
      users.push({ identity, publicKey });
      writeFileAtomic(
        envFile,
        renderIdentityEnv({ identity, seedFile: seedPath, root: options.root, eventStream: options.stream, ...(options['nats-url'] ? { natsUrl: options['nats-url'] } : {}), ...(caFile ? { tlsCaFile: caFile } : {}) }),
        0o600,
      );
      written.push({ id: identity.id, role: identity.role, ...(identity.subject ? { for: identity.subject } : {}), publicKey, seedFile, envFile, inboxPrefix: identity.inboxPrefix, created });
    }
    const tls = certFile && keyFile ? { certFile, keyFile, ...(caFile ? { caFile } : {}) } : undefined;
    const header = `Written by fleetvisor nats-config (Fleetvisor ${fleetvisorVersion()}). Re-run it to add hosts or workers; edits here are overwritten.\nSubject root ${options.root}, event stream ${options.stream}. Roles and permissions: docs/security.md, "Permissions".`;
    const common = {
      users,
      ...(tls ? { tls } : {}),
      ...(options['store-dir'] ? { storeDir: path.resolve(options['store-dir']) } : {}),
      ...(options['monitor-listen'] ? { monitorListen: options['monitor-listen'] } : {}),
    };
    const configFiles: string[] = [];
    if (nodes === undefined) {
      const configFile = path.join(dir, 'nats-server.conf');
      writeFileAtomic(configFile, renderNatsServerConfig({ ...common, listen: options.listen, header }), 0o644);
      configFiles.push(configFile);
    } else {
      const routePassword = routeSecret(path.join(dir, 'cluster-route.secret'));
      for (const n of nodes.list) {
        const configFile = path.join(dir, `nats-${n.name}.conf`);
        const cluster = { clusterName: nodes.cluster, serverName: n.name, listen: `0.0.0.0:${n.routePort}`, peers: nodes.list.filter((o) => o !== n).map((o) => `${o.host}:${o.routePort}`), routeUser: 'route', routePassword };
        // 0600: the file holds the routes' password.
        writeFileAtomic(configFile, renderNatsServerConfig({ ...common, listen: n.listen ?? options.listen, cluster, header: `${header}\nNode ${n.name} of cluster ${nodes.cluster}.` }), 0o600);
        configFiles.push(configFile);
      }
    }
    const configFile = configFiles[0]!;
    if (options.json) {
      io.out(JSON.stringify({ config: configFile, configs: configFiles, ...(nodes ? { cluster: nodes.cluster } : {}), tls: tls !== undefined, clientCertificates: caFile !== undefined, root: options.root, identities: written }) + '\n');
      if (!tls) io.err('WARNING: TLS is OFF: commands and events cross the network in clear text (pass --tls-cert, --tls-key and --tls-ca)\n');
      return;
    }
    for (const f of configFiles) io.out(`wrote ${f}\n`);
    for (const w of written) io.out(`  ${w.created ? 'new ' : 'kept'} ${w.id.padEnd(28)} ${w.role.padEnd(15)} ${w.envFile}\n`);
    if (!tls) {
      io.out('\n' + '!'.repeat(78) + '\n');
      io.out('WARNING: TLS is OFF. NKey seeds never cross the wire, but every command and event does, in clear\n');
      io.out('text, and anyone on the path can read them. Pass --tls-cert and --tls-key (and --tls-ca to require\n');
      io.out('client certificates) before this leaves a test bench.\n');
      io.out('!'.repeat(78) + '\n');
    } else {
      io.out(`TLS on${caFile ? ', client certificates required (set FLEETVISOR_NATS_TLS_CERT / FLEETVISOR_NATS_TLS_KEY on every host)' : ''}\n`);
    }
    io.out(
      '\nNext: start nats-server -c ' +
        configFiles.join(' (and each node: -c ') + (configFiles.length > 1 ? ')' : '') +
        ', run `fleetvisor migrate` with admin.env, and give each process its env file (docs/operations.md, "NATS permissions").\n',
    );
  },
});
