// Local control of a running `fleetvisor start`: a Unix socket in the home (mode 0600), one JSON
// request per line, one JSON reply per line. `fleetvisor services list|status|restart|stop|start`
// on the same host talk to it, and `create-service` hands a new service to it.
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';

/** `add`: take up a service `create-service` just defined (see Runner.addService). */
/** `upgrades-show`: one service's versions and upgrade history (upgrades/upgrade-history.ts). */
/** `password`: the operator stored a new password for the service (`secrets set-password <service>`): read it and deliver it. */
export type ControlRequest = { op: 'list' } | { op: 'upgrades' } | { op: 'status' | 'restart' | 'stop' | 'start' | 'add' | 'upgrades-show' | 'password'; service: string };
export type ControlReply = { ok: true; result: unknown } | { ok: false; error: string };

export class ControlServer {
  private server: Server | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly handle: (req: ControlRequest) => Promise<unknown>,
  ) {}

  async start(): Promise<void> {
    if (existsSync(this.socketPath)) rmSync(this.socketPath, { force: true });
    this.server = createServer((sock) => {
      let buf = '';
      sock.on('error', () => undefined);
      sock.on('data', (d) => {
        buf += d.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl < 0) {
          if (buf.length > 64 * 1024) sock.destroy();
          return;
        }
        const line = buf.slice(0, nl);
        buf = '';
        void (async () => {
          let reply: ControlReply;
          try {
            reply = { ok: true, result: await this.handle(JSON.parse(line) as ControlRequest) };
          } catch (e) {
            reply = { ok: false, error: (e as Error).message };
          }
          sock.end(JSON.stringify(reply) + '\n');
        })();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socketPath, () => resolve());
    });
    chmodSync(this.socketPath, 0o600);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((r) => this.server!.close(() => r()));
    rmSync(this.socketPath, { force: true });
  }
}

/** Sends one request to a running runner; rejects with ENOENT/ECONNREFUSED when none runs. */
export function controlRequest(socketPath: string, req: ControlRequest, timeoutMs = 60_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const t = setTimeout(() => sock.destroy(new Error('the runner did not answer in time')), timeoutMs);
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d) => (buf += d.toString('utf8')));
    sock.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    sock.on('end', () => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(buf) as ControlReply);
      } catch {
        reject(new Error('malformed reply from the runner'));
      }
    });
  });
}
