// What each Fleetvisor identity may publish and subscribe on NATS (ADR 0006, "Subjects with
// identity"), and the nats-server configuration that enforces it: one NKey user per identity with
// least-privilege permissions. Pure functions: `fleetvisor nats-config` (apps/cli) makes the keys and
// writes the files; the tests read the same permissions.
//
// Who holds what (docs/security.md "Permissions" has the table):
// - central services (chain-watcher, worker-registry, stats-collector, gateway): the
//   outbox relay runs inside them (one leader, elected in Postgres), so they are the only identities
//   that may publish events (<root>.evt.>). Each serves its own commands, consumes the event stream
//   and writes dead letters; chain-watcher and worker-registry also serve the hosts' event intake.
// - the service-runner of each host: takes only its host's commands (<root>.cmd.service-runner.<host>.*)
//   and the fleet-wide read-only queries; consumes only its own durable consumer; sends only its own
//   host's event intake and stats.
// - the worker-agent of each worker: takes only its worker's commands
//   (<root>.cmd.worker-agent.<worker>.>) and the fleet-wide read-only queries every agent hears
//   (`proving-check`), and publishes only its own report (<root>.cmd.worker-registry.report.<worker>)
//   and replies.
// - a metering proxy (`fleetvisor meter --source NAME`): publishes only its own stats push
//   (<root>.cmd.stats-collector.push.<NAME>) and reads the replies; it takes no command. The
//   collector refuses a batch whose source is not the subject's, so with this permission a meter
//   can count only under its own name.
// - operators' CLI: sends any command but a report, an intake or a stats push; reads the streams.
// - a read-only bus tool: reads events and dead letters; sends nothing.
// - admin: the JetStream API (streams, consumers) and writes to the key-revocation bucket; what
//   `fleetvisor migrate` and `fleetvisor keys` need.
// Every identity subscribes only its own inbox prefix (`_INBOX_<role>_<id>`), so no one reads
// another's replies, and replies to requests it received through `allow_responses`.
import { createHash } from 'node:crypto';
import { encodeSubjectToken } from '@fleetvisor/contracts';
import { DEFAULT_EVENT_STREAM_MAX_MSG_SIZE, deadLetterStreamName, keysBucketName } from './event-stream';

export const NATS_ROLES = ['central', 'service-runner', 'worker-agent', 'meter', 'cli', 'reader', 'admin'] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

/** The central services: each its own identity, all holding the relay's permission to publish events. */
export const CENTRAL_SERVICES = ['chain-watcher', 'worker-registry', 'stats-collector', 'gateway'] as const;

/** The central services that serve the hosts' event intake (<root>.cmd.event-intake.append.<host>). */
const EVENT_INTAKE_HOSTS: readonly CentralService[] = ['chain-watcher', 'worker-registry'];
export type CentralService = (typeof CENTRAL_SERVICES)[number];

/** The fleet-wide read-only queries every runner hears (broadcast); anything a runner executes is addressed. */
export const RUNNER_BROADCAST_VERBS = ['list', 'status', 'upgrades-list'] as const;

/**
 * The fleet-wide read-only queries every worker-agent hears (<root>.cmd.worker-agent.<verb>, one token
 * short of a worker's own commands, so no worker name can collide with them). Only agents may
 * subscribe them: an answer on such a subject comes from an agent's credential.
 */
export const AGENT_BROADCAST_VERBS = ['proving-check'] as const;

/**
 * The server's max_payload: the event stream's message limit, so nothing larger than the stream
 * accepts can be published at all (a flood of oversized junk is refused by the server itself).
 */
export const NATS_MAX_PAYLOAD = DEFAULT_EVENT_STREAM_MAX_MSG_SIZE;

export interface NatsPermissionSet {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  /** Replies to requests this identity received (nats-server `allow_responses`). */
  allowResponses: boolean;
}

export interface NatsIdentity {
  /** File-safe id, unique in one configuration: `worker-registry`, `runner-h1`, `agent-w1`, `cli`, `reader`, `admin`. */
  id: string;
  role: NatsRole;
  /** The host, worker or central service it is for. */
  subject?: string;
  /** FLEETVISOR_NATS_INBOX_PREFIX of this identity. */
  inboxPrefix: string;
  permissions: NatsPermissionSet;
  /** One line for the operator: what it is for and who runs with it. */
  description: string;
}

export interface NatsPermissionsOptions {
  /** Subject root (default `fleet`). */
  root?: string;
  /** Event stream name (default FLEET_EVENTS). */
  eventStream?: string;
  hosts?: readonly string[];
  workers?: readonly string[];
  /** Metering proxies, by the source name each pushes its counts under (`fleetvisor meter --source`). */
  meters?: readonly string[];
}

const SAFE = /^[A-Za-z0-9_-]+$/;

/**
 * A name as one file-name / subject token of [A-Za-z0-9_-]: kept when it is one already, otherwise
 * what it cannot hold becomes `_` and a short hash of the original keeps two names apart.
 */
export function safeIdToken(name: string): string {
  if (name.length === 0) throw new Error('an identity name must not be empty');
  if (SAFE.test(name) && name.length <= 64) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48)}_${hash}`;
}

/** The durable consumer a runner uses for its chain's VersionChanged (service-runner.controller.ts: `service-runner-{host}`). */
export function runnerDurableName(host: string): string {
  return `service-runner-${host.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 200);
}

function inbox(role: string, id: string): string {
  return `_INBOX_${role}_${safeIdToken(id)}`;
}

/** Reads of the key-revocation bucket: everyone (watching it is how a revocation reaches a host). */
function keysRead(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/** What a process that opens JetStream needs first: the account check nats.js makes, and the stream check services make. */
function jsBasics(stream: string): string[] {
  return ['$JS.API.INFO', `$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.INFO.${deadLetterStreamName(stream)}`];
}

/** Pulling from and acking any consumer of the event stream (central services: their durables; the CLI and readers: ordered ones). */
function consumeAny(stream: string): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
  ];
}

/** One durable consumer only: its name is the token a permission can pin. */
function consumeOne(stream: string, durable: string): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}

/** Every identity, with its permissions, for one fleet. */
export function natsIdentities(opts: NatsPermissionsOptions = {}): NatsIdentity[] {
  const root = opts.root ?? 'fleet';
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(root)) throw new Error(`invalid subject root "${root}": lowercase letters, digits, _`);
  const stream = opts.eventStream ?? 'FLEET_EVENTS';
  if (!SAFE.test(stream)) throw new Error(`invalid event stream name "${stream}"`);
  const dlq = deadLetterStreamName(stream);
  const bucket = keysBucketName(root);
  const cmd = `${root}.cmd`;
  const hosts = unique(opts.hosts ?? [], 'host');
  const workers = unique(opts.workers ?? [], 'worker');
  const meters = unique(opts.meters ?? [], 'meter');
  // A runner pushes its host's scraped stats as source <host>: a meter of the same name would share
  // that subject, and so that source's counts, with the runner.
  for (const m of meters) if (hosts.includes(m)) throw new Error(`meter ${m} has the name of a --host: the two would push stats as one source; name the meter apart`);
  const out: NatsIdentity[] = [];

  // What no requester but the identity itself may send (the identity is in the subject).
  const identitySubjects = [`${cmd}.worker-registry.report`, `${cmd}.worker-registry.report.>`, `${cmd}.worker-registry.host-heartbeat.>`, `${cmd}.event-intake.>`, `${cmd}.stats-collector.push.>`, `${cmd}.chain-watcher.rollout-admit.>`];

  for (const service of CENTRAL_SERVICES) {
    const ib = inbox('svc', service);
    const publish = [
      // The outbox relay runs in the central services: only they publish events.
      `${root}.evt.>`,
      `${root}.dlq.>`,
      ...jsBasics(stream),
      ...consumeAny(stream),
      `$JS.ACK.${stream}.>`,
      ...keysRead(bucket),
    ];
    const subscribe = [`${ib}.>`, `${cmd}.${service}.>`, ...(EVENT_INTAKE_HOSTS.includes(service) ? [`${cmd}.event-intake.>`] : [])];
    // Host liveness: the registry hears the relayed host events (HostOnline / HostOffline) as they pass.
    if (service === 'worker-registry') subscribe.push(`${root}.evt.host.>`);
    // Requests each sends to others (beyond its own service, e.g. chain-watcher leader-status).
    if (service === 'chain-watcher') publish.push(`${cmd}.chain-watcher.>`);
    if (service === 'worker-registry') publish.push(`${cmd}.worker-agent.*.*`);
    if (service === 'gateway') publish.push(`${cmd}.>`);
    // Scrape discovery: the collector asks every runner's services (with their metrics addresses).
    if (service === 'stats-collector') publish.push(`${cmd}.service-runner.list`);
    out.push({
      id: service,
      role: 'central',
      subject: service,
      inboxPrefix: ib,
      permissions: {
        publish: { allow: publish, ...(service === 'gateway' ? { deny: identitySubjects } : {}) },
        subscribe: { allow: subscribe },
        allowResponses: true,
      },
      description: `central service ${service} (its replicas share it); holds the relay's right to publish ${root}.evt.>`,
    });
  }

  for (const host of hosts) {
    const token = encodeSubjectToken(host);
    const durable = runnerDurableName(host);
    const ib = inbox('runner', host);
    out.push({
      id: `runner-${safeIdToken(host)}`,
      role: 'service-runner',
      subject: host,
      inboxPrefix: ib,
      permissions: {
        publish: {
          allow: [
            ...jsBasics(stream),
            ...consumeOne(stream, durable),
            // Catching up on its chain's last VersionChanged: a read of one message by subject
            // (STREAM.MSG.GET with last_by_subj), not an ordered consumer, whose random name no
            // permission could tell from another runner's durable.
            `$JS.API.STREAM.MSG.GET.${stream}`,
            `$JS.API.DIRECT.GET.${stream}.>`,
            `${root}.dlq.${encodeSubjectToken(durable)}`,
            `${cmd}.event-intake.append.${token}`,
            // Its liveness heartbeat (HostHeartbeat), scoped to its host like the event intake.
            `${cmd}.worker-registry.host-heartbeat.${token}`,
            `${cmd}.stats-collector.push.${token}`,
            `${cmd}.chain-watcher.status`,
            // Its chain's last VersionChanged from the watcher when the stream no longer has it.
            `${cmd}.chain-watcher.version-event`,
            // Rollout admission (ADR 0009), scoped to its host: it can ask only for itself.
            `${cmd}.chain-watcher.rollout-admit.${token}`,
            ...keysRead(bucket),
          ],
        },
        subscribe: {
          allow: [`${ib}.>`, `${cmd}.service-runner.${token}.*`, ...RUNNER_BROADCAST_VERBS.map((v) => `${cmd}.service-runner.${v}`)],
        },
        allowResponses: true,
      },
      description: `service-runner of host ${host}: its host's commands, its own durable consumer ${durable}`,
    });
  }

  for (const worker of workers) {
    const token = encodeSubjectToken(worker);
    const ib = inbox('agent', worker);
    out.push({
      id: `agent-${safeIdToken(worker)}`,
      role: 'worker-agent',
      subject: worker,
      inboxPrefix: ib,
      permissions: {
        publish: { allow: [`${cmd}.worker-registry.report.${token}`, '$JS.API.INFO', ...keysRead(bucket)] },
        subscribe: { allow: [`${ib}.>`, `${cmd}.worker-agent.${token}.>`, ...AGENT_BROADCAST_VERBS.map((v) => `${cmd}.worker-agent.${v}`)] },
        allowResponses: true,
      },
      description: `worker-agent of worker ${worker}: only its worker's commands, the agents' read-only broadcasts, and its reports`,
    });
  }

  for (const meter of meters) {
    const ib = inbox('meter', meter);
    out.push({
      id: `meter-${safeIdToken(meter)}`,
      role: 'meter',
      subject: meter,
      inboxPrefix: ib,
      permissions: {
        // No JetStream and no key bucket: a meter only sends its counts as a request and reads the reply.
        publish: { allow: [`${cmd}.stats-collector.push.${encodeSubjectToken(meter)}`] },
        subscribe: { allow: [`${ib}.>`] },
        allowResponses: false,
      },
      description: `metering proxy ${meter} (fleetvisor meter --source ${meter}): only its own stats push`,
    });
  }

  out.push({
    id: 'cli',
    role: 'cli',
    inboxPrefix: inbox('cli', 'operators'),
    permissions: {
      publish: {
        allow: [`${cmd}.>`, ...jsBasics(stream), ...consumeAny(stream), `$JS.API.STREAM.MSG.GET.${dlq}`, `$JS.API.DIRECT.GET.${dlq}.>`, ...keysRead(bucket)],
        deny: identitySubjects,
      },
      subscribe: { allow: [`${inbox('cli', 'operators')}.>`] },
      allowResponses: false,
    },
    description: "operators' fleetvisor CLI: every command (no report, intake or stats push), events tail, dead letters",
  });

  out.push({
    id: 'reader',
    role: 'reader',
    inboxPrefix: inbox('reader', 'bus'),
    permissions: {
      publish: { allow: [...jsBasics(stream), ...consumeAny(stream), `$JS.API.STREAM.MSG.GET.${stream}`, `$JS.API.STREAM.MSG.GET.${dlq}`, `$JS.API.DIRECT.GET.${dlq}.>`, ...keysRead(bucket)] },
      subscribe: { allow: [`${inbox('reader', 'bus')}.>`, `${root}.evt.>`, `${root}.dlq.>`] },
      allowResponses: false,
    },
    description: 'read-only bus tool: follows events and dead letters; sends no command and publishes nothing',
  });

  out.push({
    id: 'admin',
    role: 'admin',
    inboxPrefix: inbox('admin', 'admin'),
    permissions: {
      publish: { allow: ['$JS.API.>', `$KV.${bucket}.>`, '$JS.FC.>', '$JS.ACK.>'] },
      subscribe: { allow: [`${inbox('admin', 'admin')}.>`] },
      allowResponses: false,
    },
    description: 'admin: fleetvisor migrate (create/update/purge streams) and fleetvisor keys (writes the key-revocation bucket)',
  });

  const ids = new Set<string>();
  for (const i of out) {
    if (ids.has(i.id)) throw new Error(`two identities would be named ${i.id}; rename a host or worker`);
    ids.add(i.id);
  }
  return out;
}

function unique(names: readonly string[], what: string): string[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (n.trim() === '' || n !== n.trim()) throw new Error(`invalid ${what} name "${n}"`);
    if (/[*>\s]/.test(n)) throw new Error(`invalid ${what} name "${n}": no wildcards or spaces`);
    if (seen.has(n)) throw new Error(`${what} ${n} given twice`);
    seen.add(n);
  }
  return [...seen];
}

export interface NatsServerTls {
  certFile: string;
  keyFile: string;
  /** With a CA, clients must present a certificate it signed (verify). */
  caFile?: string;
}

export interface NatsServerConfigOptions {
  /** Each identity with the NKey public key it authenticates with. */
  users: { identity: NatsIdentity; publicKey: string }[];
  tls?: NatsServerTls;
  /** `listen` (default 0.0.0.0:4222). */
  listen?: string;
  /** JetStream store directory; omitted: the server's default (or -sd). */
  storeDir?: string;
  /** A line saying what wrote it, and when. */
  header?: string;
  /** This server as one node of a JetStream cluster (every node gets the same users). */
  cluster?: NatsClusterNode;
  /** `http`: the monitoring endpoint (GET /healthz?js-enabled-only=true for health checks); omitted: none. */
  monitorListen?: string;
}

/** One node of a NATS cluster: its name, where its routes listen, and the routes to the others. */
export interface NatsClusterNode {
  clusterName: string;
  serverName: string;
  /** host:port the route listener binds. */
  listen: string;
  /** host:port of every other node's route listener. */
  peers: string[];
  /**
   * The routes' own credential: a node accepts a route only with it, so nothing that reaches the
   * cluster port joins the cluster (the client users above never apply to routes).
   */
  routeUser: string;
  routePassword: string;
}

/** NATS config strings: double-quoted, backslash and quote escaped. */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function list(items: readonly string[], indent: string): string {
  return `[\n${items.map((i) => `${indent}  ${q(i)}`).join(',\n')}\n${indent}]`;
}

/** The nats-server (2.9+) configuration text: limits, optional TLS, JetStream, one NKey user per identity. */
export function renderNatsServerConfig(opts: NatsServerConfigOptions): string {
  const lines: string[] = [];
  if (opts.header) for (const h of opts.header.split('\n')) lines.push(`# ${h}`);
  lines.push(`listen: ${q(opts.listen ?? '0.0.0.0:4222')}`);
  lines.push(`# The event stream refuses messages over ${NATS_MAX_PAYLOAD} bytes; the server refuses them before they reach it.`);
  lines.push(`max_payload: ${NATS_MAX_PAYLOAD}`);
  if (opts.cluster) lines.push(`server_name: ${q(opts.cluster.serverName)}`);
  lines.push(opts.storeDir ? `jetstream {\n  store_dir: ${q(opts.storeDir)}\n}` : 'jetstream: enabled');
  if (opts.monitorListen) lines.push(`http: ${q(opts.monitorListen)}`);
  if (opts.cluster) {
    const c = opts.cluster;
    const cred = `${encodeURIComponent(c.routeUser)}:${encodeURIComponent(c.routePassword)}`;
    lines.push('cluster {');
    lines.push(`  name: ${q(c.clusterName)}`);
    lines.push(`  listen: ${q(c.listen)}`);
    lines.push(`  authorization { user: ${q(c.routeUser)}, password: ${q(c.routePassword)} }`);
    lines.push(`  routes: ${list(c.peers.map((p) => `nats-route://${cred}@${p}`), '  ')}`);
    lines.push('}');
  }
  if (opts.tls) {
    lines.push('tls {');
    lines.push(`  cert_file: ${q(opts.tls.certFile)}`);
    lines.push(`  key_file: ${q(opts.tls.keyFile)}`);
    if (opts.tls.caFile) {
      lines.push(`  ca_file: ${q(opts.tls.caFile)}`);
      lines.push('  # Clients present a certificate signed by that CA as well as their NKey.');
      lines.push('  verify: true');
    }
    lines.push('}');
  } else {
    lines.push('# WARNING: no TLS. NKey seeds never cross the wire, but every command and event does, in clear text.');
  }
  lines.push('authorization {');
  lines.push('  users: [');
  const users = opts.users.map(({ identity: i, publicKey }) => {
    const p = i.permissions;
    const pub = `publish: { allow: ${list(p.publish.allow, '          ')}${p.publish.deny ? `, deny: ${list(p.publish.deny, '          ')}` : ''} }`;
    const sub = `subscribe: { allow: ${list(p.subscribe.allow, '          ')}${p.subscribe.deny ? `, deny: ${list(p.subscribe.deny, '          ')}` : ''} }`;
    return [
      `    # ${i.id}: ${i.description}`,
      '    {',
      `      nkey: ${publicKey}`,
      '      permissions: {',
      `        ${pub}`,
      `        ${sub}`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    ].join('\n');
  });
  lines.push(users.join('\n'));
  lines.push('  ]');
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The env file of one identity: what its process needs to connect as it. */
export function renderIdentityEnv(opts: { identity: NatsIdentity; seedFile: string; root: string; eventStream?: string; natsUrl?: string; tlsCaFile?: string }): string {
  const lines = [
    `# Fleetvisor NATS identity ${opts.identity.id} (${opts.identity.role}): ${opts.identity.description}`,
    `FLEETVISOR_NATS_NKEY_SEED_FILE=${opts.seedFile}`,
    `FLEETVISOR_NATS_INBOX_PREFIX=${opts.identity.inboxPrefix}`,
  ];
  if (opts.root !== 'fleet') lines.push(`FLEETVISOR_SUBJECT_ROOT=${opts.root}`);
  if (opts.eventStream !== undefined && opts.eventStream !== 'FLEET_EVENTS') lines.push(`FLEETVISOR_EVENT_STREAM=${opts.eventStream}`);
  if (opts.natsUrl) lines.push(`FLEETVISOR_NATS_URL=${opts.natsUrl}`);
  if (opts.tlsCaFile) lines.push(`FLEETVISOR_NATS_TLS_CA=${opts.tlsCaFile}`, '# and, since the server verifies clients: FLEETVISOR_NATS_TLS_CERT / FLEETVISOR_NATS_TLS_KEY of this host');
  if (opts.identity.role === 'service-runner') lines.push(`FLEETVISOR_HOST=${opts.identity.subject!}`);
  if (opts.identity.role === 'worker-agent') lines.push(`FLEETVISOR_WORKER_NAME=${opts.identity.subject!}`);
  // The meter's source is a command-line option, not a variable: the env file says which one this identity may use.
  if (opts.identity.role === 'meter') lines.push(`# run as: fleetvisor meter --source ${opts.identity.subject!} --listen ... --upstream ... --component ...`);
  return lines.join('\n') + '\n';
}
