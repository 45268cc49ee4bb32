// The health server every service runs on FLEETVISOR_HEALTH_LISTEN, over real HTTP on loopback.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { parseListen } from './config';
import { createLogger } from './logger';
import { readiness, startHealthServer, type HealthServer } from './health-server';

const logger = createLogger({ name: 'health-test', level: 'silent', format: 'json' });

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startHealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('is live while it answers, ready only when every check passes, naming the ones that fail', async () => {
    let dbUp = true;
    server = await startHealthServer({
      listen: '127.0.0.1:0',
      logger,
      checks: [
        { name: 'postgres', check: () => { if (!dbUp) throw new Error('connection refused'); } },
        { name: 'nats', check: async () => undefined },
      ],
      metrics: { contentType: 'text/plain; version=0.0.4', text: async () => 'fleetvisor_up 1\n' },
    });
    expect(await get(server.port, '/health/live')).toMatchObject({ status: 200 });
    const ready = await get(server.port, '/health/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', checks: [{ name: 'postgres', ok: true }, { name: 'nats', ok: true }] });

    dbUp = false;
    const unready = await get(server.port, '/health/ready');
    expect(unready.status).toBe(503);
    expect(JSON.parse(unready.body)).toEqual({ status: 'unready', checks: [{ name: 'postgres', ok: false, error: 'connection refused' }, { name: 'nats', ok: true }] });
    // Liveness does not depend on the checks: a process waiting for its database is not restarted.
    expect(await get(server.port, '/health/live')).toMatchObject({ status: 200 });

    expect(await get(server.port, '/metrics')).toEqual({ status: 200, type: 'text/plain; version=0.0.4', body: 'fleetvisor_up 1\n' });
    expect(await get(server.port, '/nope')).toMatchObject({ status: 404 });
    expect(await get(server.port, '/health/live', 'POST')).toMatchObject({ status: 405 });
    expect(await get(server.port, '/health/ready', 'HEAD')).toMatchObject({ status: 503, body: '' });
  });

  it('fails a check that hangs, and refuses an address in use', async () => {
    const report = await readiness([{ name: 'stuck', check: () => new Promise(() => undefined) }], 50);
    expect(report).toEqual({ status: 'unready', checks: [{ name: 'stuck', ok: false, error: 'no answer within 50 ms' }] });
    server = await startHealthServer({ listen: '127.0.0.1:0', logger, checks: [] });
    await expect(startHealthServer({ listen: `127.0.0.1:${server.port}`, logger, checks: [] })).rejects.toThrow(/EADDRINUSE/);
  });

  it('reads host:port, naming the variable when it cannot', () => {
    expect(parseListen('X', '0.0.0.0:9472')).toEqual({ host: '0.0.0.0', port: 9472 });
    expect(parseListen('X', '[::1]:9472')).toEqual({ host: '::1', port: 9472 });
    expect(() => parseListen('FLEETVISOR_HEALTH_LISTEN', '9472')).toThrow(/^FLEETVISOR_HEALTH_LISTEN: expected host:port/);
    expect(() => parseListen('FLEETVISOR_HEALTH_LISTEN', 'h:99999')).toThrow(/expected host:port/);
  });
});
