// A NATS server (with JetStream, file storage) of the test's own, for fault tests that crash or
// restart the bus without touching the shared one on 4222.
import { get as httpGet } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTestingConfig } from './config';
import { freePort } from '@fleetvisor/platform';
import { createInstanceDir, isExecutable, ManagedProcess, tailFile, whichSync } from './private-process';
import {
  ContainerServerLifecycle,
  lifecycleMethods,
  DEFAULT_START_TIMEOUT_MS,
  ProcessServerLifecycle,
  type PrivateServer,
  type PrivateServerOptions,
  resolveBackend,
} from './private-server';

export interface PrivateNatsOptions extends PrivateServerOptions {
  /** nats-server binary. Default: FLEETVISOR_TEST_NATS_SERVER, then PATH, /usr/sbin, /usr/bin, /usr/local/bin. */
  bin?: string;
  /** Fixed monitoring port; default a free one. */
  monitorPort?: number;
  /** JetStream on (default true). */
  jetstream?: boolean;
  /** Extra nats-server arguments. */
  args?: string[];
  /**
   * A nats-server configuration (its text: authorization, tls, operator, resolver blocks), written
   * into the instance folder and given with `-c`; the address, ports and JetStream flags above still
   * win. Process backend only. Files it names must be readable by nats-server.
   */
  config?: string;
}

export interface PrivateNats extends PrivateServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** JetStream store folder (`-sd`); it survives kill() and restart() (inside the container for the container backend). */
  readonly storeDir: string;
  readonly monitorPort: number;
  /** `http://127.0.0.1:<monitorPort>` (/healthz, /varz, /jsz). */
  readonly monitorUrl: string;
  /** The configuration file written from opts.config; rewrite it and restart() to change the server's auth. */
  readonly configFile?: string;
}

export function findNatsServer(explicit?: string): string {
  const configured = explicit ?? readTestingConfig().natsServerBin;
  if (configured) {
    if (!isExecutable(configured)) throw new Error(`nats-server not executable at ${configured} (FLEETVISOR_TEST_NATS_SERVER / bin)`);
    return configured;
  }
  const found =
    whichSync('nats-server', readTestingConfig().searchPath) ??
    ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((f) => isExecutable(f));
  if (!found) {
    throw new Error('nats-server not found on PATH or in /usr/sbin, /usr/bin, /usr/local/bin: install the Debian package `nats-server`, or set FLEETVISOR_TEST_NATS_SERVER');
  }
  return found;
}

/** 200 from /healthz: the server is up and, with JetStream, JetStream is ready. */
function healthz(host: string, monitorPort: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host, port: monitorPort, path: '/healthz', timeout: 2_000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`/healthz answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('/healthz timed out')));
    req.on('error', reject);
  });
}

/** The client port takes a connection and the server greets with INFO. */
function clientPortAnswers(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = tcpConnect({ host, port });
    const timer = setTimeout(() => sock.destroy(new Error('no INFO within 2 s')), 2_000);
    sock.once('data', (d) => {
      clearTimeout(timer);
      sock.destroy();
      if (d.toString('utf8').startsWith('INFO')) resolve();
      else reject(new Error(`unexpected greeting: ${d.toString('utf8').slice(0, 40)}`));
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function natsAnswers(host: string, port: number, monitorPort: number): Promise<void> {
  await healthz(host, monitorPort);
  await clientPortAnswers(host, port);
}

/**
 * Starts a private nats-server (`-js -sd <tmp> -a 127.0.0.1 -p <free port>`, monitoring on another
 * free port) and resolves once /healthz says ready and the client port greets. JetStream keeps its
 * data in file storage under storeDir, so streams and messages survive kill() and restart().
 */
export async function startPrivateNats(opts: PrivateNatsOptions = {}): Promise<PrivateNats> {
  const backend = await resolveBackend(opts.backend);
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const jetstream = opts.jetstream ?? true;
  let port = opts.port ?? (await freePort());
  let monitorPort = opts.monitorPort ?? (await freePort());

  if (backend.kind === 'container') {
    if (opts.config !== undefined) throw new Error('startPrivateNats: a server config (opts.config) needs the process backend');
    const storeDir = '/data';
    const life = new ContainerServerLifecycle(
      backend.tc,
      {
        what: 'private NATS (container)',
        image: opts.image ?? 'nats:2.10',
        command: [...(jetstream ? ['-js', '-sd', storeDir] : []), '-p', '4222', '-m', '8222', ...(opts.args ?? [])],
        ports: [
          { container: 4222, host: port },
          { container: 8222, host: monitorPort },
        ],
        ready: (host) => natsAnswers(host, port, monitorPort),
      },
      { startTimeoutMs },
    );
    await life.start();
    return {
      backend: 'container',
      get host() {
        return life.host;
      },
      get url() {
        return `nats://${life.host}:${port}`;
      },
      port,
      monitorPort,
      get monitorUrl() {
        return `http://${life.host}:${monitorPort}`;
      },
      storeDir,
      ...lifecycleMethods(life),
      logTail: (lines) => life.logTail(lines),
    };
  }

  const bin = findNatsServer(opts.bin);
  const host = '127.0.0.1';
  const baseDir = createInstanceDir(opts.baseDir ?? tmpdir(), 'fv-nats-');
  const storeDir = path.join(baseDir, 'store');
  const logFile = path.join(baseDir, 'nats-server.log');
  const configFile = path.join(baseDir, 'nats-server.conf');
  if (opts.config !== undefined) writeFileSync(configFile, opts.config, { mode: 0o600 });

  const life = new ProcessServerLifecycle(
    {
      what: `private NATS (${baseDir})`,
      baseDir,
      gracefulSignal: 'SIGTERM',
      spawn: () =>
        ManagedProcess.spawn({
          command: bin,
          args: [
            ...(opts.config !== undefined ? ['-c', configFile] : []),
            '-a', host,
            '-p', String(port),
            '-m', String(monitorPort),
            '-n', `fv-private-${path.basename(baseDir)}`, // same name across restarts
            ...(jetstream ? ['-js', '-sd', storeDir] : []),
            ...(opts.args ?? []),
          ],
          logFile,
          cwd: baseDir,
        }),
      ready: () => natsAnswers(host, port, monitorPort),
      log: (lines) => tailFile(logFile, lines),
      repickPorts:
        opts.port === undefined && opts.monitorPort === undefined
          ? async () => {
              port = await freePort();
              monitorPort = await freePort();
            }
          : undefined,
    },
    { startTimeoutMs, keepFiles: opts.keepFiles ?? false },
  );
  await life.start();

  return {
    backend: 'process',
    host,
    get port() {
      return port;
    },
    get url() {
      return `nats://${host}:${port}`;
    },
    get monitorPort() {
      return monitorPort;
    },
    get monitorUrl() {
      return `http://${host}:${monitorPort}`;
    },
    storeDir,
    ...(opts.config !== undefined ? { configFile } : {}),
    ...lifecycleMethods(life),
    logTail: async (lines) => tailFile(logFile, lines),
  };
}
