// bin/healthcheck.js, the image's HEALTHCHECK: healthy only on a 2xx from the service's
// /health/ready, at the URL given or derived from the service's FLEETVISOR_HEALTH_LISTEN.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inheritedEnvironment } from '@fleetvisor/testing';

const SCRIPT = path.resolve(__dirname, '../../bin/healthcheck.js');

function check(env: Record<string, string>, args: string[] = []): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env: { PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin', ...env } }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

describe('bin/healthcheck.js', () => {
  let server: Server;
  let port: number;
  let ready = true;
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(req.url === '/health/ready' && ready ? 200 : 503).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('is healthy on a 2xx from /health/ready at the listen address (0.0.0.0 asked on loopback)', async () => {
    ready = true;
    expect(await check({ FLEETVISOR_HEALTH_LISTEN: `0.0.0.0:${port}` })).toMatchObject({ code: 0 });
    expect(paths.at(-1)).toBe('/health/ready');
  });

  it('is unhealthy on a 503, naming the answer', async () => {
    ready = false;
    const r = await check({ FLEETVISOR_HEALTHCHECK_URL: `http://127.0.0.1:${port}/health/ready` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('answered 503');
  });

  it('is unhealthy when nothing listens, and when no endpoint is configured', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await check({}, [`http://127.0.0.1:${freePort}/health/ready`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ECONNREFUSED');
    const none = await check({});
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no FLEETVISOR_HEALTHCHECK_URL');
  });
});
