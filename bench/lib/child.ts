// Bench phases run in processes of their own (own heap, own RSS, own pg type parsers: Emmett's
// connection layer replaces the global json/jsonb parsers of `pg`). The orchestrator drives them
// over the IPC channel: call(op, args) -> result. A phase file lists its operations and calls
// serveOps() when started as an entry point. The child's stdout goes to our stderr, so the
// orchestrator's stdout stays the result contract.
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const RUN_TS = path.join(REPO_ROOT, 'bin', 'run-ts.js');

interface Request {
  id: number;
  op: string;
  args: unknown;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

// Operation table of a phase; args arrive as JSON, so each op declares its own input type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous op signatures, typed at each call site
export type Ops = Record<string, (args: any) => Promise<unknown>>;

export class PhaseProcess<O extends Ops> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (msg: Reply) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`${name}: ${msg.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`${name} exited (code ${code}, signal ${signal})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  static start<O extends Ops>(entryFile: string, name = path.basename(entryFile, '.ts')): PhaseProcess<O> {
    const child = fork(RUN_TS, [entryFile], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    child.stdout?.pipe(process.stderr);
    return new PhaseProcess<O>(name, child);
  }

  call<K extends keyof O & string>(op: K, args: Parameters<O[K]>[0]): Promise<Awaited<ReturnType<O[K]>>> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const req: Request = { id, op, args };
      this.child.send(req);
    });
  }

  /** Asks the phase to exit (after its ops finished) and waits for it. */
  async stop(): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await done;
    clearTimeout(timer);
  }
}

/** True when `filename` is the entry point given to bin/run-ts.js (it rewrites argv[1]). */
export function isEntryPoint(filename: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === filename;
}

/**
 * Serves a phase's operations to the orchestrator until it disconnects. `onExit` runs before the
 * process ends (close pools and connections).
 */
export function serveOps(ops: Ops, onExit?: () => Promise<void>): void {
  if (!process.send) {
    process.stderr.write('this bench phase is started by bench/event-store.bench.ts, not directly\n');
    process.exit(2);
  }
  // Ctrl-C reaches the whole process group: the orchestrator decides when phases stop (it
  // disconnects them, and they clean up), so a phase does not die half-way on SIGINT.
  process.on('SIGINT', () => undefined);
  let queue = Promise.resolve();
  process.on('message', (req: Request) => {
    // One operation at a time, in order: phases are measurements, never concurrent with each other.
    queue = queue.then(async () => {
      let reply: Reply;
      try {
        const op = ops[req.op];
        if (!op) throw new Error(`unknown operation "${req.op}"`);
        reply = { id: req.id, ok: true, result: await op(req.args) };
      } catch (e) {
        reply = { id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      }
      process.send?.(reply);
    });
  });
  process.on('disconnect', () => {
    void queue
      .then(() => onExit?.())
      .catch((e: unknown) => process.stderr.write(`phase cleanup failed: ${String(e)}\n`))
      .finally(() => process.exit(0));
  });
}
