// The password the runner delivers through a wallet's API (Filecoin.Unlock), and when "password
// not set" is the operator's problem: only when the runner holds no password, or the one it holds
// was refused. A loopback JSON-RPC server stands in for the wallet's API.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@fleetvisor/contracts';
import { expectEventually, freePort } from '@fleetvisor/testing';
import { EventRecorder } from '../events/event-recorder';
import { EventSpool } from '../events/event-spool';
import type { ServiceDefinition } from '../home/runner-home';
import { ServiceChecks } from './service-checks';

const LINE = 'ERROR\twallet_event\twallet_event/listenevent.go:236\tWalletSign error password not set\t{"api hub": "/ip4/127.0.0.1/tcp/45132"}\n';
const TOKEN = 'admin-token-of-the-spec';

let dir: string;
let server: Server | undefined;
const checks: ServiceChecks[] = [];

afterEach(async () => {
  for (const c of checks.splice(0)) c.stop();
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A wallet API that holds `stored` (or no password) and answers Unlock as venus-wallet does. */
function walletApi(port: number, stored: string | undefined, calls: { method: string; auth: string | undefined }[]): Promise<void> {
  let password = stored;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const r = JSON.parse(body) as { id: number; method: string; params: string[] };
      calls.push({ method: r.method, auth: req.headers.authorization });
      let answer: object = { result: null };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) answer = { error: { code: 1, message: "missing permission to invoke 'Unlock' (need 'admin')" } };
      else if (password === undefined) password = r.params[0];
      else if (password !== r.params[0]) answer = { error: { code: 1, message: 'password mismatch' } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: r.id, ...answer }));
    });
  });
  return new Promise((resolve) => server!.listen(port, '127.0.0.1', () => resolve()));
}

function setup(port: number, password: () => string | undefined) {
  dir = mkdtempSync(path.join(tmpdir(), 'fv-checks-'));
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}:/ip4/127.0.0.1/tcp/${port}/http\n`);
  const def: ServiceDefinition = {
    name: 'wallet-1',
    role: 'wrapped',
    kind: 'venus-wallet',
    binary: 'venus-wallet',
    configPath: path.join(dir, 'config.toml'),
    args: ['run'],
    keyringPassword: true,
    passwordVia: 'json-rpc',
    probe: { type: 'json-rpc', address: `127.0.0.1:${port}`, path: '/rpc/v0', method: 'Filecoin.Version', tokenFile, everyMs: 60_000 },
  };
  const recorder = new EventRecorder(new EventSpool(path.join(dir, 'spool')), 'host-1');
  const recorded: EventEnvelope[] = [];
  recorder.onRecorded((e) => recorded.push(e));
  const c = new ServiceChecks({ def, recorder, logger: pino({ level: 'silent' }), password, pid: () => 4242, deliveryRetryMs: 20, deliveryAttempts: 500 });
  checks.push(c);
  return { c, recorded, tokenFile };
}

describe('password delivery through the service API', () => {
  it('a stored password is delivered after the start, even before the API listens; the line printed meanwhile is no problem of the operator', async () => {
    const port = await freePort();
    const { c, recorded } = setup(port, () => 'right-pw');
    const calls: { method: string; auth: string | undefined }[] = [];
    c.onRunStart();
    c.watch.feed(LINE);
    // Not listening yet: the runner keeps asking.
    await walletApi(port, undefined, calls);
    await expectEventually(() => expect(calls.map((x) => x.method)).toContain('Filecoin.Unlock'));
    expect(calls.find((x) => x.method === 'Filecoin.Unlock')!.auth).toBe(`Bearer ${TOKEN}`);
    await expectEventually(() => expect(c.attention()).toEqual([]));
    expect(recorded.filter((e) => e.type === 'ServiceNeedsAttention')).toEqual([]);
  });

  it('no password stored: "password not set" is ServiceNeedsAttention naming set-password <service>, open until the password stored then is delivered', async () => {
    const port = await freePort();
    const stored: { password?: string } = {};
    const { c, recorded } = setup(port, () => stored.password);
    const calls: { method: string; auth: string | undefined }[] = [];
    await walletApi(port, undefined, calls);
    c.onRunStart();
    c.watch.feed(LINE);
    c.watch.feed(LINE);
    const att = recorded.filter((e) => e.type === 'ServiceNeedsAttention');
    expect(att).toHaveLength(1);
    expect(att[0]!.data).toMatchObject({ service: 'wallet-1', pattern: 'venus-wallet.password-not-set', remedy: 'fleetvisor secrets set-password wallet-1', pid: 4242 });
    expect(c.attention()).toHaveLength(1);
    const unlocks = () => calls.filter((x) => x.method === 'Filecoin.Unlock');
    expect(unlocks()).toEqual([]);
    // `secrets set-password wallet-1`: the runner reads it and delivers it to the running wallet.
    stored.password = 'new-pw';
    expect(c.passwordChanged()).toBe('delivering');
    await expectEventually(() => expect(c.attention()).toEqual([]));
    expect(unlocks()).toHaveLength(1);
    expect(recorded.filter((e) => e.type === 'ServiceNeedsAttention')).toHaveLength(1);
  });

  it('a stored password the wallet refuses: the problem is reported with the line, and the refusal itself when no line came', async () => {
    const port = await freePort();
    const { c, recorded } = setup(port, () => 'wrong-pw');
    const calls: { method: string; auth: string | undefined }[] = [];
    await walletApi(port, 'right-pw', calls);
    c.onRunStart();
    const refused = await expectEventually(() => {
      const a = recorded.filter((e) => e.type === 'ServiceNeedsAttention');
      expect(a).toHaveLength(1);
      return a[0]!;
    });
    expect(refused.data).toMatchObject({ pattern: 'password-delivery', remedy: 'fleetvisor secrets set-password wallet-1' });
    expect((refused.data as { problem: string }).problem).toContain('password mismatch');
    // The wallet now prints its line: the runner's remedy failed, so it is the operator's problem.
    c.watch.feed(LINE);
    const all = recorded.filter((e) => e.type === 'ServiceNeedsAttention');
    expect(all.map((e) => (e.data as { pattern: string }).pattern)).toEqual(['password-delivery', 'venus-wallet.password-not-set']);
    expect(JSON.stringify(all)).not.toContain('wrong-pw');
  });
});

describe('password delivery refused for the token', () => {
  it('a token the wallet does not take is reported with the token file as the remedy, not set-password', async () => {
    const port = await freePort();
    const { c, recorded, tokenFile } = setup(port, () => 'right-pw');
    const calls: { method: string; auth: string | undefined }[] = [];
    await walletApi(port, undefined, calls);
    writeFileSync(tokenFile, 'some-other-token\n');
    c.onRunStart();
    const [e] = await expectEventually(() => {
      const a = recorded.filter((x) => x.type === 'ServiceNeedsAttention');
      expect(a).toHaveLength(1);
      return a;
    });
    expect(e!.data).toMatchObject({ pattern: 'password-delivery', remedy: expect.stringContaining('venus-wallet auth api-info --perm admin') });
    expect(JSON.stringify(e)).not.toContain('right-pw');
  });
});
