// The metering proxy against JSON-RPC servers the test starts: a raw one answering fixed bytes
// (odd spacing, key order, a 5 MB result, errors, batches, statuses, WebSocket text and binary
// frames, server notifications) to prove the answers reach the client byte for byte and the counts
// are exact; the simulated venus node for token-named callers; and the publisher pushing counts
// over real NATS to a stand-in collector on the scoped push subject, keeping them while none answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { createSubjects, StatsPush, type ApiCallsBatch } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { startFilecoinNode, type FilecoinNodeHandle } from '@fleetvisor/devnet';
import { createLogger } from '@fleetvisor/platform';
import { expectEventually, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import type { NatsConnection } from 'nats';
import { MeterCounter } from './meter-counter';
import { MeterProxy } from './meter-proxy';
import { MeterPublisher } from './meter-publisher';

const logger = createLogger({ name: 'meter-test', level: 'silent', format: 'json' });
const BIG = Buffer.from(`{"jsonrpc":"2.0","id":3,"result":[${Array.from({ length: 60_000 }, (_, i) => `{"SectorNumber":${i},"note":"error \\" }"}`).join(',')}]}`);

/** Fixed answers by method, as bytes (spacing and key order a JSON re-encoder would change). */
function rawAnswer(body: string): { status: number; bytes: Buffer } {
  const v = JSON.parse(body) as { id?: unknown; method?: string } | { id?: unknown; method?: string }[];
  const one = (r: { id?: unknown; method?: string }): string | undefined => {
    if (r.id === undefined) return undefined;
    if (r.method === 'Filecoin.ChainHead') return `{ "id" : ${JSON.stringify(r.id)},"jsonrpc":"2.0",  "result":{"Height":  12, "Cids":[]}}`;
    if (r.method === 'Fail') return `{"jsonrpc":"2.0","id":${JSON.stringify(r.id)},"error":{"code":1,"message":"result: not found"}}`;
    return `{"jsonrpc":"2.0","id":${JSON.stringify(r.id)},"result":"\\u00e9\u00e9"}`;
  };
  if (Array.isArray(v)) return { status: 200, bytes: Buffer.from(`[${v.map(one).filter((x) => x !== undefined).join(' ,\n')}]`) };
  if (v.method === 'Big') return { status: 200, bytes: BIG };
  if (v.method === 'Status500') return { status: 500, bytes: Buffer.from('boom') };
  return { status: 200, bytes: Buffer.from(one(v) ?? '') };
}

let raw: http.Server;
let rawUrl: string;
let wss: WebSocketServer;
let proxy: MeterProxy;
let counter: MeterCounter;
let proxyUrl: string;
let node: FilecoinNodeHandle;
let nodeProxy: MeterProxy;
let nodeCounter: MeterCounter;
let nodeProxyUrl: string;
let now = Date.parse('2026-12-07T10:00:05.000Z');
const clock = () => now;

function listen(s: http.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
}

beforeAll(async () => {
  raw = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      // An informational answer first, as a server sending 103 Early Hints does.
      if (text.includes('"Early"')) res.writeEarlyHints({ link: '</rpc/v1>; rel=preconnect' });
      if (text.includes('"Cut"')) {
        // Headers and part of the answer, then the connection dies.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"jsonrpc":"2.0","id":9,"result":[');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      const a = rawAnswer(text);
      res.writeHead(a.status, { 'content-type': 'application/json', 'x-upstream': 'raw', 'set-cookie': ['a=1', 'b=2'] });
      // The big answer in pieces, as a server streaming it would.
      if (a.bytes.length > 65_536) {
        for (let i = 0; i < a.bytes.length; i += 65_536) res.write(a.bytes.subarray(i, i + 65_536));
        res.end();
      } else res.end(a.bytes);
    });
  });
  wss = new WebSocketServer({ server: raw });
  wss.on('connection', (ws) => {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        ws.send(Buffer.concat([Buffer.from([0xff, 0x00]), data as Buffer]), { binary: true });
        return;
      }
      ws.send('{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,{"Height":5}]}');
      ws.send(rawAnswer((data as Buffer).toString('utf8')).bytes, { binary: false });
    });
  });
  rawUrl = `http://127.0.0.1:${await listen(raw)}`;
  counter = new MeterCounter({ source: 'meter-test', component: 'venus', windowSeconds: 10 });
  proxy = new MeterProxy({ upstream: new URL(rawUrl), caller: { kind: 'header', header: 'x-caller' }, counter, logger, clock });
  const p = await proxy.listen('127.0.0.1', 0);
  proxyUrl = `http://127.0.0.1:${p.port}`;

  node = await startFilecoinNode({ miners: [{ id: 't01000', sectors: 100 }] });
  nodeCounter = new MeterCounter({ source: 'meter-venus', component: 'venus', windowSeconds: 10 });
  nodeProxy = new MeterProxy({ upstream: new URL(node.url), caller: { kind: 'claim', claim: 'name' }, counter: nodeCounter, logger, clock });
  nodeProxyUrl = `http://127.0.0.1:${(await nodeProxy.listen('127.0.0.1', 0)).port}/rpc/v1`;
});

afterAll(async () => {
  await proxy?.close();
  await nodeProxy?.close();
  await node?.close();
  wss?.close();
  await new Promise<void>((r) => (raw ? raw.close(() => r()) : r()));
});

async function post(base: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: Buffer; informational: { status: number; link?: unknown }[] }> {
  return new Promise((resolve, reject) => {
    const informational: { status: number; link?: unknown }[] = [];
    const req = http.request(`${base}/rpc/v0`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks), informational }));
      // The connection closed before the answer's end.
      res.on('error', reject);
    });
    req.on('information', (info) => informational.push({ status: info.statusCode, link: info.headers['link'] }));
    req.on('error', reject);
    req.end(body);
  });
}

/** Everything counted so far in ended windows: caller/method -> [calls, errors, transport]. */
function drain(c: MeterCounter): Map<string, [number, number, number]> {
  c.close(Number.MAX_SAFE_INTEGER);
  const out = new Map<string, [number, number, number]>();
  for (let b = c.peek(); b; b = c.peek()) {
    for (const r of b.records) {
      const k = `${r.caller} ${r.method}`;
      const v = out.get(k) ?? [0, 0, 0];
      out.set(k, [v[0] + r.calls, v[1] + r.errors, v[2] + (r.transportErrors ?? 0)]);
    }
    c.sent();
  }
  return out;
}

describe('meter proxy: HTTP', () => {
  it('answers byte for byte what the upstream answers (single, batch, error, 5 MB, non-200), with its headers', async () => {
    const bodies = [
      '{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}',
      '[{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead"},{"jsonrpc":"2.0","method":"Note"},{"jsonrpc":"2.0","id":"x","method":"Fail"}]',
      '{"jsonrpc":"2.0","id":2,"method":"Fail"}',
      '{"jsonrpc":"2.0","id":3,"method":"Big"}',
      '{"jsonrpc":"2.0","id":4,"method":"Status500"}',
      '{"jsonrpc":"2.0","id":5,"method":"Early"}',
    ];
    for (const body of bodies) {
      const direct = await post(rawUrl, body);
      const viaProxy = await post(proxyUrl, body, { 'x-caller': 't01000-sealer' });
      expect(viaProxy.status).toBe(direct.status);
      expect(viaProxy.bytes.equals(direct.bytes), body).toBe(true);
      expect(viaProxy.informational).toEqual(direct.informational);
      if (body.includes('"Early"')) expect(viaProxy.informational).toEqual([{ status: 103, link: '</rpc/v1>; rel=preconnect' }]);
      expect(viaProxy.headers['x-upstream']).toBe('raw');
      expect(viaProxy.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    }
    expect(drain(counter)).toEqual(
      new Map([
        ['t01000-sealer Filecoin.ChainHead', [2, 0, 0]],
        ['t01000-sealer Note', [1, 0, 0]],
        ['t01000-sealer Fail', [2, 2, 0]],
        ['t01000-sealer Big', [1, 0, 0]],
        ['t01000-sealer Status500', [1, 1, 0]],
        ['t01000-sealer Early', [1, 0, 0]],
      ]),
    );
  });

  it('counts exactly under concurrency, each call in the window it ended in', async () => {
    now = Date.parse('2026-12-07T10:00:15.000Z');
    await Promise.all(Array.from({ length: 200 }, (_, i) => post(proxyUrl, JSON.stringify({ jsonrpc: '2.0', id: i, method: i % 4 === 0 ? 'Fail' : 'Filecoin.ChainHead' }), { 'x-caller': `c${i % 2}` })));
    expect(drain(counter)).toEqual(
      new Map([
        ['c0 Fail', [50, 50, 0]],
        ['c0 Filecoin.ChainHead', [50, 0, 0]],
        ['c1 Filecoin.ChainHead', [100, 0, 0]],
      ]),
    );
  });

  it('answers 502 and counts a transport error when the upstream is gone, and keeps serving', async () => {
    const deadCounter = new MeterCounter({ source: 'm', component: 'venus', windowSeconds: 10 });
    const dead = new MeterProxy({ upstream: new URL('http://127.0.0.1:1'), caller: { kind: 'header', header: 'x-caller' }, counter: deadCounter, logger, clock });
    const port = (await dead.listen('127.0.0.1', 0)).port;
    const r = await post(`http://127.0.0.1:${port}`, '[{"id":1,"method":"A"},{"id":2,"method":"B"}]', { 'x-caller': 'w' });
    expect(r.status).toBe(502);
    expect(drain(deadCounter)).toEqual(new Map([['w A', [1, 0, 1]], ['w B', [1, 0, 1]]]));
    await dead.close();
  });

  it('an answer cut off upstream is cut off for the client too and counted as a transport error', async () => {
    now = Date.parse('2026-12-07T10:00:25.000Z');
    await expect(post(proxyUrl, '{"jsonrpc":"2.0","id":9,"method":"Cut"}', { 'x-caller': 'w' })).rejects.toThrow();
    // The proxy goes on serving.
    expect((await post(proxyUrl, '{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead"}', { 'x-caller': 'w' })).status).toBe(200);
    expect(drain(counter)).toEqual(new Map([['w Cut', [1, 0, 1]], ['w Filecoin.ChainHead', [1, 0, 0]]]));
  });
});

describe('meter proxy: WebSocket', () => {
  it('relays text and binary frames unchanged and in order, both ways, and counts answered calls by id', async () => {
    now = Date.parse('2026-12-07T10:00:25.000Z');
    const ws = new WebSocket(`${proxyUrl.replace('http', 'ws')}/rpc/v0`, { headers: { 'x-caller': 'ws-client' } });
    const got: { data: Buffer; binary: boolean }[] = [];
    ws.on('message', (d: RawData, binary: boolean) => got.push({ data: d as Buffer, binary }));
    await new Promise((r) => ws.once('open', r));
    ws.send('{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead"}');
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    ws.send('[{"jsonrpc":"2.0","id":2,"method":"Fail"},{"jsonrpc":"2.0","id":3,"method":"Filecoin.ChainHead"}]');
    await expectEventually(() => expect(got.length).toBe(5));
    expect(got.map((m) => [m.binary, m.data.toString('latin1')])).toEqual([
      [false, '{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,{"Height":5}]}'],
      [false, rawAnswer('{"id":1,"method":"Filecoin.ChainHead"}').bytes.toString('latin1')],
      [true, Buffer.from([0xff, 0, 1, 2, 3]).toString('latin1')],
      [false, '{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,{"Height":5}]}'],
      [false, rawAnswer('[{"id":2,"method":"Fail"},{"id":3,"method":"Filecoin.ChainHead"}]').bytes.toString('latin1')],
    ]);
    ws.close();
    expect(drain(counter)).toEqual(
      new Map([
        ['ws-client Filecoin.ChainHead', [2, 0, 0]],
        ['ws-client Fail', [1, 1, 0]],
      ]),
    );
  });
});

describe('meter proxy: the simulated venus node', () => {
  it('counts calls by the token name of each caller; the node refuses calls without a token', async () => {
    const call = (token: string | undefined, method: string, params: unknown[] = []) =>
      fetch(nodeProxyUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    const sealer = node.token('t01000-sealer');
    const wallet = node.token('t01000-wallet', 'read');
    expect(((await (await call(sealer, 'Filecoin.StateMinerProvingDeadline', ['t01000', []])).json()) as { result: { WPoStPeriodDeadlines: number } }).result.WPoStPeriodDeadlines).toBe(48);
    await call(sealer, 'Filecoin.ChainHead');
    expect(((await (await call(wallet, 'Filecoin.MpoolPushMessage', [{}, null])).json()) as { error: { message: string } }).error.message).toMatch(/missing permission/);
    expect((await call(undefined, 'Filecoin.ChainHead')).status).toBe(401);
    expect(drain(nodeCounter)).toEqual(
      new Map([
        ['t01000-sealer Filecoin.StateMinerProvingDeadline', [1, 0, 0]],
        ['t01000-sealer Filecoin.ChainHead', [1, 0, 0]],
        ['t01000-wallet Filecoin.MpoolPushMessage', [1, 1, 0]],
        ['unknown Filecoin.ChainHead', [1, 1, 0]],
      ]),
    );
  });
});

describe('meter publisher over NATS', () => {
  let nc: NatsConnection;
  const bus = testBusNames();
  beforeAll(async () => {
    nc = await connectNats({ natsUrl: sharedNatsUrl() } as never, logger);
  });
  afterAll(async () => {
    await nc?.close();
  });

  it('keeps the counts while no collector answers and pushes them, each window once, when one does', async () => {
    const commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger });
    const c = new MeterCounter({ source: 'meter-x', component: 'venus', windowSeconds: 10 });
    const t0 = Date.parse('2026-12-07T10:00:00.000Z');
    let t = t0;
    const publisher = new MeterPublisher(c, (b) => commands.request(StatsPush, b, { scope: 'meter-x', timeoutMs: 500 }), logger, { tickMs: 1_000_000, clock: () => t });
    for (let i = 0; i < 30; i++) c.record('a', 'M', 'ok', 1, t0 + i * 1_000);
    t = t0 + 30_000;
    await publisher.tick();
    expect(c.pendingBatches).toBe(3);
    expect(publisher.failedAttempts).toBe(1);
    const got: { scope: string | undefined; batch: ApiCallsBatch }[] = [];
    const server = commands.serve(
      StatsPush,
      async (batch, ctx) => {
        got.push({ scope: ctx.scope, batch });
        return { records: batch.records.length, calls: batch.records.reduce((n, r) => n + r.calls, 0), duplicate: false };
      },
      { scoped: true },
    );
    await server.ready;
    await publisher.tick();
    expect(c.pendingBatches).toBe(0);
    expect(got.map((g) => [g.scope, g.batch.windowStart, g.batch.records[0]!.calls])).toEqual([
      ['meter-x', '2026-12-07T10:00:00.000Z', 10],
      ['meter-x', '2026-12-07T10:00:10.000Z', 10],
      ['meter-x', '2026-12-07T10:00:20.000Z', 10],
    ]);
    await server.stop();
  });
});
