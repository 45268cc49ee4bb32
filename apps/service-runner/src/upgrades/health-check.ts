// Is a freshly started service healthy? It must stay up for `stableMs`, and when a probe is set,
// its network address must answer (TCP connect, or HTTP with any status < 500) before `timeoutMs`.
import { connect } from 'node:net';
import { request } from 'node:http';
import type { ExitInfo } from '../supervision/supervised-service';

export type HealthResult = { ok: true } | { ok: false; stage: 'start' | 'health'; reason: string };

export interface HealthCheckOptions {
  exited: Promise<ExitInfo> | undefined;
  stableMs: number;
  timeoutMs: number;
  probe: 'none' | 'tcp' | 'http';
  networkAddress: string | undefined;
}

function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host: host === '0.0.0.0' ? '127.0.0.1' : host, port: Number(addr.slice(i + 1)) };
}

export function probeOnce(kind: 'tcp' | 'http', addr: string): Promise<boolean> {
  const { host, port } = splitHostPort(addr);
  return new Promise((resolve) => {
    if (kind === 'tcp') {
      const s = connect({ host, port });
      const t = setTimeout(() => s.destroy(), 1_000);
      s.once('connect', () => {
        clearTimeout(t);
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        clearTimeout(t);
        resolve(false);
      });
      s.once('close', () => resolve(false));
      return;
    }
    // No keep-alive agent: a probe must not leave a pooled connection open to the service.
    const req = request({ host, port, path: '/', method: 'GET', timeout: 1_000, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function checkHealth(o: HealthCheckOptions): Promise<HealthResult> {
  if (!o.exited) return { ok: false, stage: 'start', reason: 'the process did not start' };
  const started = Date.now();
  let exit: ExitInfo | undefined;
  void o.exited.then((e) => (exit = e));
  const exitReason = (e: ExitInfo) =>
    `exited ${e.signal ? `on ${e.signal}` : `with code ${e.code}`} ${Date.now() - started} ms after start (needs ${o.stableMs} ms up)`;
  let probed = o.probe === 'none' || !o.networkAddress;
  const deadline = started + Math.max(o.timeoutMs, o.stableMs);
  while (Date.now() - started < o.stableMs || !probed) {
    if (exit) return { ok: false, stage: 'start', reason: exitReason(exit) };
    if (!probed && (await probeOnce(o.probe as 'tcp' | 'http', o.networkAddress!))) probed = true;
    if (exit) return { ok: false, stage: 'start', reason: exitReason(exit) };
    if (!probed && Date.now() >= deadline) {
      return { ok: false, stage: 'health', reason: `no ${o.probe.toUpperCase()} answer on ${o.networkAddress} within ${o.timeoutMs} ms` };
    }
    await Promise.race([o.exited, new Promise((r) => setTimeout(r, 100))]);
  }
  return { ok: true };
}
