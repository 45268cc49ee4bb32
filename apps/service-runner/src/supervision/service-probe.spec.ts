// The generic probes (tcp, http GET, JSON-RPC method) against a loopback server, and the token
// files they read (venus' `<token>:<multiaddr>` api-info or the bare token).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fleetvisor/testing';
import { readToken, runProbe } from './service-probe';

const TOKEN = 'probe-spec-token-123';
let server: Server;
let addr: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fv-probe-'));
  // venus-wallet's API: Filecoin.Version needs a read token; /healthcheck answers anyone.
  server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(req.url === '/healthcheck' ? 200 : 404);
      res.end();
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const r = JSON.parse(body) as { id: number; method: string };
      if (req.headers.authorization !== undefined && req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401);
        res.end();
        return;
      }
      const answer =
        req.headers.authorization === undefined
          ? { error: { code: 1, message: "missing permission to invoke 'Version' (need 'read')" } }
          : r.method === 'Filecoin.Version'
            ? { result: { Version: '1.20.0', APIVersion: 65536 } }
            : { error: { code: -32601, message: `method '${r.method}' not found` } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: r.id, ...answer }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('service probes', () => {
  it('json-rpc: answers with the token from its file, fails without it or with a wrong one, and never shows the token', async () => {
    const infoFile = path.join(dir, 'api-info');
    writeFileSync(infoFile, `${TOKEN}:/ip4/127.0.0.1/tcp/5678/http\n`);
    const bare = path.join(dir, 'token');
    writeFileSync(bare, `${TOKEN}\n`);
    expect(readToken(infoFile)).toBe(TOKEN);
    expect(readToken(bare)).toBe(TOKEN);
    const probe = { type: 'json-rpc' as const, address: addr, path: '/rpc/v0', method: 'Filecoin.Version', everyMs: 1_000 };
    expect(await runProbe({ ...probe, tokenFile: infoFile })).toEqual({ ok: true, detail: 'version 1.20.0' });
    expect(await runProbe(probe)).toEqual({ ok: false, detail: "Filecoin.Version: missing permission to invoke 'Version' (need 'read')" });
    const wrong = path.join(dir, 'wrong');
    writeFileSync(wrong, 'not-the-token');
    const refused = await runProbe({ ...probe, tokenFile: wrong });
    expect(refused).toEqual({ ok: false, detail: 'HTTP 401: the API token was refused' });
    expect(await runProbe({ ...probe, tokenFile: infoFile, method: 'Filecoin.Nope' })).toMatchObject({ ok: false });
    const missing = await runProbe({ ...probe, tokenFile: path.join(dir, 'absent') });
    expect(missing.ok).toBe(false);
    for (const r of [refused, missing]) expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it('http GET needs a 2xx; tcp needs a listener', async () => {
    expect(await runProbe({ type: 'http', address: addr, path: '/healthcheck', everyMs: 1_000 })).toEqual({ ok: true, detail: 'HTTP 200' });
    expect(await runProbe({ type: 'http', address: addr, path: '/', everyMs: 1_000 })).toEqual({ ok: false, detail: 'HTTP 404' });
    expect(await runProbe({ type: 'tcp', address: addr, everyMs: 1_000 })).toEqual({ ok: true });
    const closed = `127.0.0.1:${await freePort()}`;
    expect(await runProbe({ type: 'tcp', address: closed, everyMs: 1_000 })).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
    expect(await runProbe({ type: 'json-rpc', address: closed, path: '/rpc/v0', method: 'Venus.Version', everyMs: 1_000 })).toMatchObject({ ok: false });
  });
});
