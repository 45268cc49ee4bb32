// The lifecycle every private server shares (start / kill / shutdown / restart / stop), once for a
// local process and once for a container (testcontainers), plus the choice between the two.
import { spawnSync } from 'node:child_process';
import { readTestingConfig } from './config';
import {
  type ManagedProcess,
  onExitCleanup,
  removeTreeSync,
  ServerStartError,
  waitUntilReady,
} from './private-process';

export type PrivateServerBackend = 'process' | 'container';

export interface PrivateServerOptions {
  /**
   * `process`: a local server process (initdb/pg_ctl binaries, nats-server). `container`: a
   * container through testcontainers (needs a Docker engine and Node >= 22); fails if it cannot.
   * `auto` (default): `container` when FLEETVISOR_TESTCONTAINERS=1 and it can be had, else
   * `process` (with a warning saying why, when containers were asked for).
   */
  backend?: 'auto' | PrivateServerBackend;
  /** Fixed client port; default a free one. */
  port?: number;
  /** How long start and restart may take before they fail with the server's log. Default 60 s. */
  startTimeoutMs?: number;
  /** Parent folder of the instance's temp folder (process backend). Default the OS temp folder. */
  baseDir?: string;
  /** Keep the temp folder after stop(), for a post-mortem. Default false. */
  keepFiles?: boolean;
  /** Container image (container backend). */
  image?: string;
}

/** What every private server offers; see PrivatePostgres and PrivateNats for the rest. */
export interface PrivateServer {
  readonly backend: PrivateServerBackend;
  /** Client URL. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Shuts the server down (if running) and removes its files or container. Idempotent; call it in afterAll. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. Files stay; restart() brings the server back on the same port. */
  kill(): Promise<void>;
  /** Graceful shutdown that keeps the files; restart() brings the server back. */
  shutdown(): Promise<void>;
  /** Starts again on the same port with the same data (after kill() or shutdown(); shuts down first if running). */
  restart(): Promise<void>;
  isRunning(): boolean;
  /** The end of the server's log, for failure messages. */
  logTail(lines?: number): Promise<string>;
}

/** The lifecycle half of a PrivateServer, delegated to whichever lifecycle runs it. */
export type LifecycleMethods = Pick<PrivateServer, 'stop' | 'kill' | 'shutdown' | 'restart' | 'isRunning'>;

export function lifecycleMethods(life: LifecycleMethods): LifecycleMethods {
  return {
    stop: () => life.stop(),
    kill: () => life.kill(),
    shutdown: () => life.shutdown(),
    restart: () => life.restart(),
    isRunning: () => life.isRunning(),
  };
}

export const DEFAULT_START_TIMEOUT_MS = 60_000;
const GRACE_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Local process

export interface ProcessDriver {
  /** e.g. `private Postgres`. */
  what: string;
  /** The instance's temp folder: removed by stop(). */
  baseDir: string;
  spawn(): Promise<ManagedProcess>;
  ready(): Promise<void>;
  log(lines?: number): string;
  /** Signal for a graceful shutdown. */
  gracefulSignal: NodeJS.Signals;
  /** Chooses new ports after a port clash at first start; undefined when the ports are fixed. */
  repickPorts?: () => Promise<void>;
  /** Runs after the server has exited for good (stop), e.g. to release IPC resources a crash left. */
  afterStopSync?: () => void;
}

export class ProcessServerLifecycle {
  private proc: ManagedProcess | undefined;
  private stopped = false;
  private readonly unregister: () => void;

  constructor(
    private readonly driver: ProcessDriver,
    private readonly opts: { startTimeoutMs: number; keepFiles: boolean },
  ) {
    this.unregister = onExitCleanup({ cleanupSync: () => this.cleanupSync() });
  }

  /** First start: retries on new ports if another process took ours in the meantime. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (e) {
        if (e instanceof ServerStartError && e.portInUse && this.driver.repickPorts && attempt < 5) {
          await this.driver.repickPorts();
          continue;
        }
        await this.stop();
        throw e;
      }
    }
  }

  private async startOnce(): Promise<void> {
    const proc = await this.driver.spawn();
    this.proc = proc;
    try {
      await waitUntilReady(this.driver.what, () => this.driver.ready(), {
        timeoutMs: this.opts.startTimeoutMs,
        proc,
        log: () => this.driver.log(),
      });
    } catch (e) {
      await proc.killGroup();
      throw e;
    }
  }

  isRunning(): boolean {
    return this.proc?.running ?? false;
  }

  async kill(): Promise<void> {
    // SIGKILL for the main process and every child: the server gets no chance to clean up, as in a
    // crash of its host, and no orphaned child holds on to the data folder for the next start.
    if (this.proc) await this.proc.killGroup();
  }

  async shutdown(): Promise<void> {
    if (this.proc?.running) await this.proc.terminate(this.driver.gracefulSignal, GRACE_MS);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`${this.driver.what}: restart() after stop(): the files are gone`);
    await this.shutdown();
    // a crash may leave children that still hold resources; they die with their postmaster/parent
    if (this.proc && !this.proc.groupGone()) await this.proc.killGroup();
    await this.startOnce();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.shutdown();
      if (this.proc && !this.proc.groupGone()) await this.proc.killGroup();
    } finally {
      this.driver.afterStopSync?.();
      if (!this.opts.keepFiles) removeTreeSync(this.driver.baseDir);
      this.unregister();
    }
  }

  private cleanupSync(): void {
    this.proc?.signalGroup('SIGKILL');
    this.driver.afterStopSync?.();
    if (!this.opts.keepFiles) removeTreeSync(this.driver.baseDir);
  }
}

// ---------------------------------------------------------------------------------------------
// Container (testcontainers)

type Testcontainers = typeof import('testcontainers');
type StartedContainer = Awaited<ReturnType<InstanceType<Testcontainers['GenericContainer']>['start']>>;

export interface ContainerDriver {
  what: string;
  image: string;
  env?: Record<string, string>;
  command?: string[];
  /** Container port -> host port (fixed, so that the port stays the same across restarts). */
  ports: { container: number; host: number }[];
  /** Called with the container's host once it runs. */
  ready(host: string): Promise<void>;
}

export class ContainerServerLifecycle {
  private container: StartedContainer | undefined;
  private running = false;
  private stopped = false;
  private unregister: (() => void) | undefined;

  constructor(
    private readonly tc: Testcontainers,
    private readonly driver: ContainerDriver,
    private readonly opts: { startTimeoutMs: number },
  ) {}

  get host(): string {
    return this.container?.getHost() ?? '127.0.0.1';
  }

  async start(): Promise<void> {
    let c = new this.tc.GenericContainer(this.driver.image)
      .withExposedPorts(...this.driver.ports)
      .withWaitStrategy(this.tc.Wait.forListeningPorts())
      .withStartupTimeout(this.opts.startTimeoutMs);
    if (this.driver.env) c = c.withEnvironment(this.driver.env);
    if (this.driver.command) c = c.withCommand(this.driver.command);
    this.container = await c.start();
    const id = this.container.getId();
    this.unregister = onExitCleanup({
      // testcontainers' reaper removes it too; this is for a run that ends abruptly without one
      cleanupSync: () => void spawnSync('docker', ['rm', '-f', '-v', id], { stdio: 'ignore', timeout: 15_000 }),
    });
    this.running = true;
    try {
      await this.waitReady();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  private async waitReady(): Promise<void> {
    await waitUntilReady(this.driver.what, () => this.driver.ready(this.host), {
      timeoutMs: this.opts.startTimeoutMs,
      log: () => '(see `docker logs` of the container)',
    });
  }

  private async handle() {
    if (!this.container) throw new Error(`${this.driver.what}: not started`);
    const client = await this.tc.getContainerRuntimeClient();
    return { client, container: client.container.getById(this.container.getId()) };
  }

  isRunning(): boolean {
    return this.running;
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    const { container } = await this.handle();
    await container.kill({ signal: 'SIGKILL' });
    this.running = false;
  }

  async shutdown(): Promise<void> {
    if (!this.running) return;
    const { client, container } = await this.handle();
    await client.container.stop(container, { timeout: Math.round(GRACE_MS / 1000) });
    this.running = false;
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`${this.driver.what}: restart() after stop(): the container is gone`);
    await this.shutdown();
    const { client, container } = await this.handle();
    await client.container.start(container);
    this.running = true;
    await this.waitReady();
  }

  async stop(): Promise<void> {
    if (this.stopped || !this.container) return;
    this.stopped = true;
    try {
      const { container } = await this.handle();
      await container.remove({ force: true, v: true });
    } finally {
      this.running = false;
      this.unregister?.();
    }
  }

  async logTail(lines = 30): Promise<string> {
    if (!this.container || this.stopped) return '';
    const stream = await this.container.logs({ tail: lines });
    return await new Promise<string>((resolve) => {
      const chunks: string[] = [];
      const timer = setTimeout(done, 2_000);
      function done() {
        clearTimeout(timer);
        stream.removeAllListeners();
        stream.destroy();
        resolve(chunks.join('').trimEnd());
      }
      stream.on('data', (d: Buffer | string) => chunks.push(d.toString()));
      stream.on('end', done);
      stream.on('error', done);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Which backend

let containerProbe: Promise<Testcontainers> | undefined;
let fallbackWarned = false;

async function loadTestcontainers(): Promise<Testcontainers> {
  let tc: Testcontainers;
  try {
    // Lazily, and only here: testcontainers 12 (its undici) does not load on Node 20.
    tc = await import('testcontainers');
  } catch (e) {
    const major = Number(process.versions.node.split('.')[0]);
    const hint = major < 22 ? ' (testcontainers 12 needs Node >= 22)' : '';
    throw new Error(`the testcontainers package could not be loaded on Node ${process.version}${hint}: ${(e as Error).message}`);
  }
  try {
    await tc.getContainerRuntimeClient();
  } catch (e) {
    throw new Error(`testcontainers found no reachable container engine (Docker): ${(e as Error).message}`);
  }
  return tc;
}

export type ResolvedBackend = { kind: 'process' } | { kind: 'container'; tc: Testcontainers };

/** Picks the backend for `requested` (see PrivateServerOptions.backend). */
export async function resolveBackend(requested: PrivateServerOptions['backend'] = 'auto'): Promise<ResolvedBackend> {
  if (requested === 'process') return { kind: 'process' };
  if (requested === 'auto' && !readTestingConfig().testcontainers) return { kind: 'process' };
  containerProbe ??= loadTestcontainers();
  try {
    return { kind: 'container', tc: await containerProbe };
  } catch (e) {
    const why = (e as Error).message;
    if (requested === 'container') throw new Error(`private server in a container: ${why}`);
    if (!fallbackWarned) {
      fallbackWarned = true;
      process.emitWarning(
        `FLEETVISOR_TESTCONTAINERS=1, but ${why}. Private servers run as local processes instead.`,
        'FleetvisorTestingWarning',
      );
    }
    return { kind: 'process' };
  }
}
