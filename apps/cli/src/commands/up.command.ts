// `fleetvisor up`: the main job. Brings the backbone up on this machine — database and schema,
// JetStream streams, the outbox relay (leader or standby) — records that this host is online,
// starts the local chain node (devnet) and the services as child processes (chain-watcher,
// worker-registry, simulated worker-agents, stats-collector with metering proxies in front of a
// simulated venus node), and prints every event that reaches the bus until
// interrupted.
import 'reflect-metadata';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { HostOffline, HostOnline, newEvent } from '@fleetvisor/contracts';
import { connectNats, deadLetterStreamName, FLEET_CORE, keysBucketName, migrateFleetStreams, NatsUnavailableError, type FleetCore } from '@fleetvisor/messaging';
import { createLogger, DependencyUnreachableError, fleetvisorVersion, PinoNestLogger, isConnectFailure, readUpStateDir, redactUrl } from '@fleetvisor/platform';
import { defineCliCommand, parseDuration, UsageError, type Logger } from '@fleetvisor/platform';
import { appSchemaMigrations } from '../app-routes';
import { inheritedEnv, loadCliConfig, type CliConfig } from '../config';
import { processRunning, reapLeftovers } from '../up/leftovers';
import { relayComponentLine } from '../up/component-log';
import { gatewayPort, prepareDemoGateway } from '../up/demo-gateway';
import { prepareDemoRunner, type DemoRunner } from '../up/demo-runner';
import { prepareStatsDemo, type StatsDemo } from '../up/stats-demo';
import { startProvingDemo, type ProvingDemo } from '../up/proving-demo';
import { Stack, type ComponentSpec } from '../up/stack';
import { startBusTail } from '../bus-tail';
import { formatEventJson, formatEventLine } from '../event-format';
import { UpModule } from '../up/up.module';
import { LiveView } from '../up/live-view';
import { chainResumePoint, type ChainResume, type ChainVersion } from '../up/chain-resume';
import { provisionLocalTrust } from '../up/local-trust';


export const upCommand = defineCliCommand({
  path: ['up'],
  summary: 'Run Fleetvisor on this machine: backbone, local chain, chain-watcher, worker registry, simulated workers',
  description:
    'Runs migrate first (creates the database and applies migrations, creates or updates the JetStream streams), runs the ' +
    'outbox relay (one leader across all processes; others stand by), starts a local chain node ' +
    '(devnet, CometBFT JSON-RPC) and the services as child processes — chain-watcher on the devnet, ' +
    'worker-registry, simulated sealing workers each with its worker-agent, and a service-runner for a ' +
    'demo host with a lavap provider and consumer (simulated binaries, published with checksums by a ' +
    'local release server; 0.23.1 is a broken release that gets rolled back) — then shows what an ' +
    'operator watches: version changes, upgrades and rollbacks, anomalies, pauses and drains with who asked, ' +
    'workers expiring and returning, and a fleet summary every --summary-every (every event with --verbose, ' +
    'as JSON with --json). Services that die are restarted with backoff. Stop with Ctrl-C.\n\n' +
    'Try, from another terminal: fleetvisor devnet set-version --provider-target 0.22.1 --provider-min 0.21.0 ' +
    '--consumer-target 0.22.1 --consumer-min 0.21.0; fleetvisor chain status; fleetvisor worker list; ' +
    'fleetvisor worker pause sim-worker-01 0.',
  options: {
    json: { type: 'boolean', description: 'every event as a JSON line on stdout, logs as JSON on stderr (for scripts)' },
    verbose: { type: 'boolean', description: 'every event, one line each (default: what an operator watches, and a fleet summary)' },
    'summary-every': { type: 'string', description: 'how often the live view prints its fleet summary', default: '10s', placeholder: 'duration' },
    'no-tail': { type: 'boolean', description: 'run without printing events' },
    'backbone-only': { type: 'boolean', description: 'run only the backbone (schema, streams, relay): no devnet, no services' },
    'no-devnet': { type: 'boolean', description: 'no local chain: the chain-watcher watches FLEETVISOR_CHAINS' },
    'chain-id': { type: 'string', description: 'chain id of the local chain', default: 'lava-testnet-2', placeholder: 'id' },
    'block-time': { type: 'string', description: 'block interval of the local chain', default: '1s', placeholder: 'duration' },
    'devnet-port': { type: 'string', description: 'RPC port of the local chain (0 = any free port)', default: '26657', placeholder: 'port' },
    workers: { type: 'string', description: 'simulated sealing workers (each with its worker-agent)', default: '3', placeholder: 'n' },
    'gateway-port': { type: 'string', description: 'port of the gateway and its dashboard on 127.0.0.1 (taken: any free one; 0 = any free port)', default: '8080', placeholder: 'port' },
    'no-runner': { type: 'boolean', description: 'no demo host: skip the service-runner with its lavap provider and consumer' },
    'state-dir': { type: 'string', description: 'where the demo host and its state are kept between starts (default $FLEETVISOR_UP_STATE_DIR, else ~/.fleetvisor-up)', placeholder: 'dir' },
    reset: { type: 'boolean', description: 'start clean: remove the state directory, drop the database and delete the JetStream streams of this configuration' },
  },
  examples: ['fleetvisor up', 'fleetvisor up --reset', 'fleetvisor up --verbose', 'fleetvisor up --workers 10 --block-time 500ms', 'fleetvisor up --backbone-only --json', 'FLEETVISOR_LOG_LEVEL=debug fleetvisor up'],
  async run({ options, io }) {
    const config = loadCliConfig();
    const blockTimeMs = parseDuration(options['block-time']);
    if (blockTimeMs === undefined || blockTimeMs < 100) throw new UsageError(`--block-time: expected a duration of at least 100ms, e.g. 1s, got "${options['block-time']}"`);
    const devnetPort = Number(options['devnet-port']);
    if (!Number.isInteger(devnetPort) || devnetPort < 0 || devnetPort > 65_535) throw new UsageError(`--devnet-port: expected a port number, got "${options['devnet-port']}"`);
    const gatewayPort = Number(options['gateway-port']);
    if (!Number.isInteger(gatewayPort) || gatewayPort < 0 || gatewayPort > 65_535) throw new UsageError(`--gateway-port: expected a port number, got "${options['gateway-port']}"`);
    const workers = Number(options.workers);
    if (!Number.isInteger(workers) || workers < 0 || workers > 200) throw new UsageError(`--workers: expected 0..200, got "${options.workers}"`);
    const summaryEveryMs = parseDuration(options['summary-every']);
    if (summaryEveryMs === undefined || summaryEveryMs < 1_000) throw new UsageError(`--summary-every: expected a duration of at least 1s, got "${options['summary-every']}"`);
    // Logs go to stderr so stdout carries only events; readable lines unless scripts asked for JSON.
    const logFormat = options.json ? 'json' : config.logFormat === 'auto' ? 'pretty' : config.logFormat;
    const logger = createLogger({ name: 'fleetvisor-up', level: config.logLevel, format: logFormat, stream: 'stderr' });
    const stateDir = path.resolve(options['state-dir'] ?? readUpStateDir());
    const state = await takeStateDir(stateDir, logger);
    if (options.reset) await resetState(stateDir, config, logger);
    // `migrate` first: the database schema is applied by the backbone below (migrations 'apply'),
    // the JetStream streams by migrate's own function, since no service creates them any more.
    await migrateFleetStreams(config, logger);
    const app = await NestFactory.createApplicationContext(UpModule.register(config, logger, await appSchemaMigrations()), { logger: new PinoNestLogger(logger), abortOnError: false }).catch(
      (e: unknown) => {
        throw explainStartupError(e, config.databaseUrl);
      },
    );
    await app.init();
    const core = app.get<FleetCore>(FLEET_CORE);
    const view = options['no-tail'] || options.json || options.verbose ? undefined : new LiveView();
    const tail = options['no-tail']
      ? undefined
      : await startBusTail({
          js: core.js,
          streamName: config.eventStreamName,
          filterSubject: core.subjects.allEvents(),
          onEvent: (e) => {
            const line = view ? view.onEvent(e) : options.json ? formatEventJson(e) : formatEventLine(e);
            if (line !== undefined) io.out(line + '\n');
          },
          onInvalid: (subject, reason) => logger.warn({ subject, reason }, 'invalid message on the event stream'),
        });
    const summaries = view ? setInterval(() => io.out(view.summary() + '\n'), summaryEveryMs) : undefined;
    summaries?.unref();
    const hostStream = config.host;
    await core.store.appendToStream(`host-${hostStream}`, [
      newEvent(HostOnline, hostStream, { host: config.host, process: 'fleetvisor-up', pid: process.pid, fleetvisorVersion: fleetvisorVersion() }, { host: config.host, actor: 'fleetvisor-up' }),
    ]);
    logger.info(
      { database: redactUrl(config.databaseUrl), nats: redactUrl(config.natsUrl), stream: config.eventStreamName, relay: core.relay?.status() },
      'Fleetvisor backbone is up',
    );
    const services = options['backbone-only']
      ? undefined
      : await startServices(logger, {
          chainId: options['chain-id'],
          blockTimeMs,
          devnetPort,
          workers,
          devnet: !options['no-devnet'],
          runner: !options['no-runner'],
          gatewayPort,
          stateDir,
          chainResume: () => devnetResume(core, options['chain-id'], stateDir),
        });
    logger.info('press Ctrl-C to stop');
    const signal = await io.interrupted;
    logger.info({ signal }, 'shutting down');
    await services?.stop();
    await core.store
      .appendToStream(`host-${hostStream}`, [
        newEvent(HostOffline, hostStream, { host: config.host, process: 'fleetvisor-up', pid: process.pid, reason: `received ${signal}` }, { host: config.host, actor: 'fleetvisor-up' }),
      ])
      .catch((err: unknown) => logger.warn({ err }, 'could not record HostOffline'));
    if (summaries) clearInterval(summaries);
    await tail?.stop();
    await app.close();
    state.release();
  },
});

/**
 * Makes the state directory this up's: refuses it while another live up holds it (its demo
 * processes would be stopped below), then stops what an earlier up that was killed left running.
 */
async function takeStateDir(stateDir: string, logger: Logger): Promise<{ release(): void }> {
  mkdirSync(stateDir, { recursive: true });
  const pidFile = path.join(stateDir, 'up.pid');
  const holder = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(holder) && holder !== process.pid && processRunning(holder)) {
    throw new Error(`another fleetvisor up (pid ${holder}) is using ${stateDir}: stop it, or give this one --state-dir <other dir>`);
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  const reaped = await reapLeftovers(stateDir);
  if (reaped.length > 0) {
    logger.warn({ stateDir, processes: reaped.map((p) => ({ pid: p.pid, command: p.command.slice(0, 200) })) }, 'stopped processes an earlier fleetvisor up left running');
  }
  return {
    release: () => {
      if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
    },
  };
}

/** `--reset`: the demo host's directory, the event log database and the streams, gone. */
async function resetState(stateDir: string, config: CliConfig, logger: Logger): Promise<void> {
  for (const entry of readdirSync(stateDir)) if (entry !== 'up.pid') rmSync(path.join(stateDir, entry), { recursive: true, force: true });
  const { dropDatabase } = await import('@fleetvisor/event-store');
  await dropDatabase(config, logger);
  const nc = await connectNats(config, logger);
  try {
    const jsm = await nc.jetstreamManager();
    for (const name of [config.eventStreamName, deadLetterStreamName(config.eventStreamName), `KV_${keysBucketName(config.subjectRoot)}`]) {
      if (await jsm.streams.delete(name).catch(() => false)) logger.info({ stream: name }, 'deleted JetStream stream');
    }
  } finally {
    await nc.close();
  }
  logger.info({ stateDir, database: redactUrl(config.databaseUrl) }, 'reset: starting clean');
}

interface ServicesOptions {
  stateDir: string;
  /** Where the local chain continues from (chain-resume.ts). */
  chainResume: () => Promise<ChainResume | undefined>;
  chainId: string;
  blockTimeMs: number;
  devnetPort: number;
  workers: number;
  devnet: boolean;
  runner: boolean;
  gatewayPort: number;
}

/** The variables of `names` that are set in env (an operator's own settings win over up's tuning). */
function pick(env: Readonly<Record<string, string | undefined>>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/** The local chain (in this process) and the services (child processes), stopped together. */
async function startServices(logger: Logger, opts: ServicesOptions): Promise<{ stop(): Promise<void> }> {
  const inherited = inheritedEnv();
  // Every demo process trusts the local root (and the operator's own, if set); see local-trust.ts.
  const trust = provisionLocalTrust(path.join(opts.stateDir, 'keys'), inherited);
  if (trust.created) logger.info({ keys: trust.dir }, 'made the local fleet\'s keys: a root, and keys for the chain-watcher, the registry and you (operator.key.json, used by the CLI when FLEETVISOR_SIGNING_KEY_FILE is not set)');
  const { FLEETVISOR_TRUST_ROOT: _inline, ...withoutInlineRoot } = inherited;
  const env: typeof inherited = { ...withoutInlineRoot, FLEETVISOR_TRUST_ROOT_FILE: trust.rootsFile };
  let devnet: { rpcUrl: string; stop(): Promise<void> } | undefined;
  let chains = env['FLEETVISOR_CHAINS'];
  if (opts.devnet) {
    // Loaded here so that commands which never start a chain don't pay for it.
    const { startDevnetChain } = await import('@fleetvisor/devnet');
    const resume = await opts.chainResume();
    const chain = await startDevnetChain({ chainId: opts.chainId, port: opts.devnetPort, blockTimeMs: opts.blockTimeMs, ...(resume ?? {}) });
    const savedFile = path.join(opts.stateDir, 'devnet.json');
    devnet = {
      rpcUrl: chain.rpcUrl,
      stop: async () => {
        // What the next start continues from, besides the log (a killed up leaves only the log).
        writeFileSync(savedFile, JSON.stringify({ chainId: opts.chainId, height: chain.height(), version: chain.version() }) + '\n');
        await chain.stop();
      },
    };
    chains = `${opts.chainId}=${chain.rpcUrl}`;
    logger.info(
      { chainId: opts.chainId, rpc: chain.rpcUrl, blockTimeMs: opts.blockTimeMs, ...(resume ? { continuesAt: resume.initialHeight } : {}) },
      resume ? 'local chain (devnet) continues where the log left it' : 'local chain (devnet) is producing blocks',
    );
  }
  // A Filecoin chain with two miners for the proving watch, one of which develops a fault.
  let proving: ProvingDemo | undefined;
  if (opts.devnet && env['FLEETVISOR_FILECOIN_CHAINS'] === undefined) {
    proving = await startProvingDemo({ log: (msg) => logger.info({ chain: 'devnet-fil' }, `proving demo: ${msg}`) });
    logger.info({ rpc: proving.url, miners: proving.env['FLEETVISOR_FILECOIN_MINERS'] }, 'local Filecoin chain (proving devnet) is producing epochs: try `fleetvisor proving info --miner t01001`');
  }
  const stack = new Stack({ logger, baseEnv: { ...env, FLEETVISOR_LOG_FORMAT: 'json' }, onLine: (component, line) => relayComponentLine(logger, component, line) });
  const components: ComponentSpec[] = [];
  if (chains) {
    components.push({ name: 'chain-watcher', app: 'chain-watcher', args: ['chain-watcher', 'run'], env: {
        FLEETVISOR_CHAINS: chains,
        FLEETVISOR_SIGNING_KEY_FILE: trust.chainWatcherKey,
        FLEETVISOR_CHAIN_WATCHER_RELAY: 'false',
        // Tuned to the local chain's block time: a silent socket is dropped after 4 blocks, a
        // standby tries the lock twice per block (takeover within two blocks).
        ...(opts.devnet
          ? { FLEETVISOR_CHAIN_WATCHER_WS_STALL: `${Math.max(4 * opts.blockTimeMs, 2_000)}ms`, FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY: `${Math.max(Math.floor(opts.blockTimeMs / 2), 100)}ms` }
          : {}),
        ...pick(env, ['FLEETVISOR_CHAIN_WATCHER_WS_STALL', 'FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY']),
        ...(proving?.env ?? {}),
      },
    });
  } else {
    logger.warn('no chain to watch: --no-devnet without FLEETVISOR_CHAINS; the chain-watcher is not started');
  }
  // A 2 x 32 MB young generation: at thousands of reports a second each report's parsed JSON is
  // garbage within milliseconds, and twice the default room halves the scavenges and what they
  // promote (docs/benchmarks.md, worker registry; docs/operations.md, process memory).
  components.push({ name: 'worker-registry', app: 'worker-registry', args: ['worker-registry', 'run'], nodeFlags: ['--max-semi-space-size=32'], env: { FLEETVISOR_SIGNING_KEY_FILE: trust.registryKey } });
  for (let i = 1; i <= opts.workers; i++) {
    const name = `sim-worker-${String(i).padStart(2, '0')}`;
    components.push({
      name: `worker-agent ${name}`,
      app: 'worker-agent',
      args: ['worker-agent', 'run'],
      env: { FLEETVISOR_WORKER_NAME: name, FLEETVISOR_WORKER_SOURCE: 'simulated', FLEETVISOR_WORKER_REPORT_INTERVAL: '5s', FLEETVISOR_WORKER_SIM_STEP: '3s' },
    });
  }
  components.push({ name: 'stats-collector', app: 'stats-collector', args: ['stats-collector', 'run', '--no-relay'] });
  // Metering proxies in front of a simulated venus chain service, with simulated callers.
  const stats: StatsDemo | undefined = opts.devnet ? await prepareStatsDemo() : undefined;
  if (stats) components.push(...stats.components);
  let demo: DemoRunner | undefined;
  if (opts.runner && devnet) {
    // A demo host: the operator's own init + create-service, then `start` as a component.
    demo = await prepareDemoRunner({ logger, env, chainId: opts.chainId, rpcUrl: devnet.rpcUrl, directory: path.join(opts.stateDir, 'demo-host'), onLine: (line) => relayComponentLine(logger, 'service-runner', line) });
    components.push(demo.component);
  }
  // The gateway and its dashboard, with a token for the operator (its file named, never its value).
  const port = await gatewayPort(opts.gatewayPort);
  if (opts.gatewayPort !== 0 && port !== opts.gatewayPort) logger.warn({ wanted: opts.gatewayPort, port }, 'the gateway port is taken; the gateway uses another');
  const gateway = prepareDemoGateway({ stateDir: opts.stateDir, port, keyFile: trust.gatewayKey, env });
  await gateway.ensureToken();
  components.push(gateway.component);
  for (const c of components) stack.start(c);
  stats?.start();
  logger.info(
    { dashboard: gateway.url, tokenFile: gateway.tokenFile },
    `dashboard at ${gateway.url} — sign in with the token in ${gateway.tokenFile}, or open ${gateway.url}#token=$(cat ${gateway.tokenFile})`,
  );
  return {
    stop: async () => {
      await stats?.close();
      await stack.stop();
      await demo?.close();
      await proving?.close();
      await devnet?.stop();
    },
  };
}

/** The local chain's resume point from the log, the watcher's scan checkpoint and what the last up saved. */
async function devnetResume(core: FleetCore, chainId: string, stateDir: string): Promise<ChainResume | undefined> {
  const { events } = await core.store.readStream(`chain-${chainId}`);
  // The chain-watcher's scan checkpoint (its scanCheckpointName; apps do not import each other).
  const scanCheckpoint = await core.checkpoints.find(`chain-watcher:scanned:${chainId}`);
  const savedFile = path.join(stateDir, 'devnet.json');
  let saved: { height: number; version?: ChainVersion } | undefined;
  if (existsSync(savedFile)) {
    const s = JSON.parse(readFileSync(savedFile, 'utf8')) as { chainId?: string; height?: number; version?: ChainVersion };
    if (s.chainId === chainId && typeof s.height === 'number') saved = { height: s.height, ...(s.version ? { version: s.version } : {}) };
  }
  return chainResumePoint({ events, scanCheckpoint, saved });
}

/** NATS failures already name FLEETVISOR_NATS_URL (NatsUnavailableError); name the database's too. */
function explainStartupError(e: unknown, databaseUrl: string): unknown {
  if (e instanceof NatsUnavailableError || e instanceof DependencyUnreachableError) return e;
  return isConnectFailure(e) ? new DependencyUnreachableError('FLEETVISOR_DATABASE_URL', databaseUrl, e, 'PostgreSQL') : e;
}
