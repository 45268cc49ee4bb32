// Fault switches of the devnet node, observed through CosmJS and raw WebSockets on loopback.
import { Comet38Client, connectComet } from '@cosmjs/tendermint-rpc';
import { waitFor } from '@fleetvisor/testing';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DevnetChain } from './api';
import { decodeLavaParamsResponse, LAVA_PARAMS_QUERY_PATH, LavaParamsDecodeError } from './lava-protocol';
import { startDevnetChain } from './node';

const chains: DevnetChain[] = [];
const clients: Comet38Client[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(chains.splice(0).map((c) => c.stop()));
});

async function setup(): Promise<{ chain: DevnetChain; client: Comet38Client }> {
  const chain = await startDevnetChain({ blockTimeMs: 150 });
  chains.push(chain);
  const client = await connectComet(chain.rpcUrl);
  if (!(client instanceof Comet38Client)) throw new Error('not detected as 0.38');
  clients.push(client);
  return { chain, client };
}

const params = (client: Comet38Client) => client.abciQuery({ path: LAVA_PARAMS_QUERY_PATH, data: new Uint8Array(0) });

function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('devnet fault switches', () => {
  it('dropWebSockets closes open sockets and refuses new ones until allowed again', async () => {
    const { chain } = await setup();
    const ws = await connect(chain.wsUrl);
    let events = 0;
    ws.on('message', () => (events += 1));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { query: "tm.event='NewBlock'" } }));
    await waitFor(() => events >= 2);
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    chain.faults.dropWebSockets();
    await closed;
    await expect(connect(chain.wsUrl)).rejects.toThrow(/503/);
    // HTTP keeps working meanwhile.
    expect((await fetch(`${chain.rpcUrl}/health`)).status).toBe(200);
    chain.faults.allowWebSockets();
    const again = await connect(chain.wsUrl);
    expect(again.readyState).toBe(WebSocket.OPEN);
  });

  it('delayResponses delays only the listed methods', async () => {
    const { chain, client } = await setup();
    chain.faults.delayResponses(800, ['abci_query']);
    let t = Date.now();
    await client.status();
    expect(Date.now() - t).toBeLessThan(600);
    t = Date.now();
    await params(client);
    expect(Date.now() - t).toBeGreaterThanOrEqual(790);
    chain.faults.delayResponses(0);
    t = Date.now();
    await params(client);
    expect(Date.now() - t).toBeLessThan(600);
  });

  it('failResponses fails the next N matching requests with HTTP 503 / a JSON-RPC error, then recovers', async () => {
    const { chain, client } = await setup();
    chain.faults.failResponses(2, ['abci_query']);
    await expect(client.status()).resolves.toBeDefined();
    await expect(params(client)).rejects.toThrow(/503/);
    const ws = await connect(chain.wsUrl);
    const reply = new Promise<Record<string, unknown>>((r) => ws.once('message', (d) => r(JSON.parse(String(d)) as Record<string, unknown>)));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'abci_query', params: { path: LAVA_PARAMS_QUERY_PATH, data: '' } }));
    expect(await reply).toMatchObject({ id: 3, error: { code: -32603 } });
    await expect(params(client)).resolves.toMatchObject({ code: 0 });

    chain.faults.failResponses(Infinity);
    for (let i = 0; i < 3; i++) await expect(client.status()).rejects.toThrow(/503/);
    chain.faults.reset();
    await expect(client.status()).resolves.toBeDefined();
    // Failed requests are still requests the node received.
    expect(chain.stats().byMethod['status']).toBeGreaterThanOrEqual(5);
  });

  it('malformedParams answers the Params query with bytes no decoder accepts', async () => {
    const { chain, client } = await setup();
    chain.faults.malformedParams(true);
    const bad = await params(client);
    expect(bad.code).toBe(0);
    expect(() => decodeLavaParamsResponse(bad.value)).toThrow(LavaParamsDecodeError);
    chain.faults.malformedParams(false);
    expect(decodeLavaParamsResponse((await params(client)).value)).toEqual(chain.version());
  });
});
