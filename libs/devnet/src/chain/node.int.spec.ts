// The devnet node driven end to end by the real CosmJS clients over loopback HTTP and WebSocket,
// plus raw JSON-RPC where CosmJS does not expose a detail (event payloads, URI form, faults).
import { createProtobufRpcClient, QueryClient } from '@cosmjs/stargate';
import { Comet38Client, connectComet, type CometClient } from '@cosmjs/tendermint-rpc';
import { QueryClientImpl as UpgradeQuery } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { expectEventually, waitFor } from '@fleetvisor/testing';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DevnetBlock, DevnetChain } from './api';
import { decodeLavaParamsResponse, LAVA_PARAMS_QUERY_PATH } from './lava-protocol';
import { startDevnetChain } from './node';

// @cosmjs/stargate 0.39 ships no x/upgrade extension; this is the usual way to add one.
function setupUpgradeExtension(base: QueryClient) {
  const query = new UpgradeQuery(createProtobufRpcClient(base));
  return { upgrade: { currentPlan: async () => (await query.CurrentPlan({})).plan } };
}

const V2 = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };

const open: { chains: DevnetChain[]; clients: CometClient[]; sockets: WebSocket[] } = { chains: [], clients: [], sockets: [] };

async function chain(opts: Parameters<typeof startDevnetChain>[0] = {}): Promise<DevnetChain> {
  const c = await startDevnetChain({ blockTimeMs: 150, ...opts });
  open.chains.push(c);
  return c;
}

/** connectComet as any CosmJS user would call it; the devnet must be detected as 0.38. */
async function comet(url: string): Promise<Comet38Client> {
  const c = await connectComet(url);
  open.clients.push(c);
  if (!(c instanceof Comet38Client)) throw new Error(`connectComet picked ${c.constructor.name}, not Comet38Client`);
  return c;
}

/** A raw JSON-RPC WebSocket client that keeps every message it receives. */
async function rawSocket(url: string): Promise<{ ws: WebSocket; messages: Record<string, unknown>[]; send(o: unknown): void }> {
  const ws = new WebSocket(url);
  open.sockets.push(ws);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, send: (o) => ws.send(JSON.stringify(o)) };
}

async function paramsAt(qc: QueryClient, height?: number) {
  const res = await qc.queryAbci(LAVA_PARAMS_QUERY_PATH, new Uint8Array(0), height);
  return { height: res.height, version: decodeLavaParamsResponse(res.value) };
}

afterEach(async () => {
  for (const s of open.sockets.splice(0)) s.terminate();
  for (const c of open.clients.splice(0)) c.disconnect();
  await Promise.all(open.chains.splice(0).map((c) => c.stop()));
});

describe('devnet chain node through CosmJS', () => {
  it('is detected as CometBFT 0.38 and answers status, health, abci_info, block and block_results', async () => {
    const c = await chain({ chainId: 'lava-testnet-2', initialHeight: 100 });
    const client = await comet(c.rpcUrl);
    expect(client).toBeInstanceOf(Comet38Client);

    await c.waitForHeight(102);
    const status = await client.status();
    expect(status.nodeInfo.network).toBe('lava-testnet-2');
    expect(status.nodeInfo.version).toMatch(/^0\.38\./);
    expect(status.syncInfo.latestBlockHeight).toBeGreaterThanOrEqual(102);
    expect(status.syncInfo.earliestBlockHeight).toBe(100);
    expect(status.syncInfo.catchingUp).toBe(false);
    await expect(client.health()).resolves.toBeNull();

    const info = await client.abciInfo();
    expect(info.lastBlockHeight).toBeGreaterThanOrEqual(102);

    const b101 = await client.block(101);
    const b102 = await client.block(102);
    expect(b102.block.header.chainId).toBe('lava-testnet-2');
    expect(b102.block.header.height).toBe(102);
    expect(b102.block.header.lastBlockId?.hash).toEqual(b101.blockId.hash);
    expect(b102.blockId.hash).toHaveLength(32);
    expect(b102.block.header.time.getTime()).toBeGreaterThan(b101.block.header.time.getTime());
    expect(b102.block.lastCommit?.height).toBe(101);
    const first = await client.block(100);
    expect(first.block.header.lastBlockId).toBeNull();

    const latest = await client.block();
    expect(latest.block.header.height).toBeGreaterThanOrEqual(102);
    const results = await client.blockResults(102);
    expect(results.height).toBe(102);
    expect(results.finalizeBlockEvents).toEqual([]);

    await expect(client.block(c.height() + 1000)).rejects.toThrow(/must be less than or equal to the current blockchain height/);
    await expect(client.block(5)).rejects.toThrow(/is not available, lowest height is 100/);
  });

  it('serves Lava params and the x/upgrade plan, and applies a version change in the next block with lava_param_change', async () => {
    const c = await chain({ version: { providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' } });
    const client = await comet(c.rpcUrl);
    const qc = QueryClient.withExtensions(client, setupUpgradeExtension);

    const before = await paramsAt(qc);
    expect(before.version).toEqual({ providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' });
    expect(before.height).toBe(c.height());
    await expect(qc.upgrade.currentPlan()).resolves.toBeUndefined();

    const heightBefore = c.height();
    const { height } = await c.setVersion(V2);
    expect(height).toBe(heightBefore + 1);
    expect(c.version()).toEqual(V2);

    const results = await client.blockResults(height);
    const change = results.finalizeBlockEvents.find((e) => e.type === 'lava_param_change');
    expect(change?.attributes).toContainEqual({ key: 'param', value: 'Version' });
    const value = change?.attributes.find((a) => a.key === 'value')?.value;
    expect(JSON.parse(value ?? '{}')).toEqual({ provider_target: '0.23.2', provider_min: '0.22.0', consumer_target: '0.23.2', consumer_min: '0.22.0' });
    expect((await client.blockResults(height - 1)).finalizeBlockEvents).toEqual([]);

    expect((await paramsAt(qc, height - 1)).version.providerTarget).toBe('0.21.0');
    expect(await paramsAt(qc, height)).toEqual({ height, version: V2 });
    expect((await paramsAt(qc)).version).toEqual(V2);
    await expect(qc.queryAbci(LAVA_PARAMS_QUERY_PATH, new Uint8Array(0), c.height() + 100)).rejects.toThrow(/Query failed with \(26\)/);
    await expect(qc.queryAbci('/lavanet.lava.nope.Query/Params', new Uint8Array(0))).rejects.toThrow(/Query failed with \(6\)/);

    const planned = await c.scheduleUpgrade({ name: 'v2', height: 500, info: '{"binaries":{"linux/amd64":"http://x/lavap?checksum=sha256:00"}}' });
    const plan = await qc.upgrade.currentPlan();
    expect(plan).toMatchObject({ name: 'v2', height: 500n, info: '{"binaries":{"linux/amd64":"http://x/lavap?checksum=sha256:00"}}' });
    expect(planned.height).toBeLessThanOrEqual(c.height());
    await c.clearUpgrade();
    await expect(qc.upgrade.currentPlan()).resolves.toBeUndefined();
  });

  it('with discardAbciResponses refuses block_results as CometBFT does, and still answers Params at past heights', async () => {
    const c = await chain({ discardAbciResponses: true });
    const { height } = await c.setVersion(V2);
    const client = await comet(c.rpcUrl);
    const qc = QueryClient.withExtensions(client, setupUpgradeExtension);
    const reply = (await (await fetch(c.rpcUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'block_results', params: { height: String(height) } }) })).json()) as {
      error: { code: number; message: string; data: string };
    };
    expect(reply.error).toEqual({ code: -32603, message: 'Internal error', data: 'node is not persisting finalize block responses' });
    expect((await paramsAt(qc, height - 1)).version.providerTarget).toBe('0.21.0');
    expect(await paramsAt(qc, height)).toEqual({ height, version: V2 });
  });

  it('delivers NewBlock over WebSocket to CosmJS subscribeNewBlock, every height in order', async () => {
    const c = await chain();
    const client = await comet(c.wsUrl.replace(/\/websocket$/, ''));
    expect(client).toBeInstanceOf(Comet38Client);
    const heights: number[] = [];
    const chainIds = new Set<string>();
    const sub = client.subscribeNewBlock().subscribe({
      next: (b) => {
        heights.push(b.header.height);
        chainIds.add(b.header.chainId);
      },
      error: () => undefined,
      complete: () => undefined,
    });
    await waitFor(() => heights.length >= 4);
    sub.unsubscribe();
    for (let i = 1; i < heights.length; i++) expect(heights[i]).toBe(heights[0]! + i);
    expect([...chainIds]).toEqual(['lava-testnet-2']);
    // Requests over the same socket work too.
    expect((await client.status()).nodeInfo.network).toBe('lava-testnet-2');
  });

  it('sends NewBlock events whose finalize-block events agree with block_results, and NewBlockHeader', async () => {
    const c = await chain();
    const sock = await rawSocket(c.wsUrl);
    sock.send({ jsonrpc: '2.0', id: 7, method: 'subscribe', params: { query: "tm.event='NewBlock'" } });
    sock.send({ jsonrpc: '2.0', id: 8, method: 'subscribe', params: { query: "tm.event='NewBlockHeader'" } });
    await waitFor(() => sock.messages.filter((m) => m['result'] && Object.keys(m['result'] as object).length === 0).length === 2);
    const { height } = await c.setVersion(V2);

    type Ev = { query: string; data: { type: string; value: { block?: { header: { height: string } }; header?: { height: string }; result_finalize_block?: { events: unknown[] } } }; events: Record<string, string[]> };
    const evAt = (kind: string): Ev | undefined =>
      sock.messages
        .map((m) => m['result'] as Ev | undefined)
        .find((r) => r?.data?.type === `tendermint/event/${kind}` && (r.data.value.block?.header.height ?? r.data.value.header?.height) === String(height));
    await waitFor(() => evAt('NewBlock') !== undefined && evAt('NewBlockHeader') !== undefined);

    const ev = evAt('NewBlock')!;
    expect(ev.query).toBe("tm.event='NewBlock'");
    expect(ev.events['tm.event']).toEqual(['NewBlock']);
    expect(ev.events['lava_param_change.param']).toEqual(['Version']);
    const res = (await (await fetch(`${c.rpcUrl}/block_results?height=${height}`)).json()) as { result: { finalize_block_events: unknown[] } };
    expect(ev.data.value.result_finalize_block?.events).toEqual(res.result.finalize_block_events);
    expect(sock.messages.find((m) => (m['result'] as Ev | undefined)?.data?.type === 'tendermint/event/NewBlock')?.['id']).toBe(7);
    expect(sock.messages.find((m) => (m['result'] as Ev | undefined)?.data?.type === 'tendermint/event/NewBlockHeader')?.['id']).toBe(8);

    // Unsubscribed: no more NewBlock events after the acknowledgement.
    sock.send({ jsonrpc: '2.0', id: 9, method: 'unsubscribe', params: { query: "tm.event='NewBlock'" } });
    await waitFor(() => sock.messages.some((m) => m['id'] === 9));
    const count = sock.messages.length;
    const ackIndex = sock.messages.findIndex((m) => m['id'] === 9);
    await c.waitForHeight(c.height() + 2);
    expect(sock.messages.slice(ackIndex + 1).some((m) => (m['result'] as Ev | undefined)?.data?.type === 'tendermint/event/NewBlock')).toBe(false);
    expect(sock.messages.length).toBeGreaterThan(count); // headers still arrive
  });

  it('answers the URI form, counts requests by method and query path, and reports blocks to onBlock', async () => {
    const c = await chain();
    c.resetStats();
    const blocks: DevnetBlock[] = [];
    const off = c.onBlock((b) => blocks.push(b));
    const status = (await (await fetch(`${c.rpcUrl}/status`)).json()) as { id: number; result: { node_info: { network: string } } };
    expect(status.result.node_info.network).toBe('lava-testnet-2');
    const q = (await (await fetch(`${c.rpcUrl}/abci_query?path=%22${encodeURIComponent(LAVA_PARAMS_QUERY_PATH)}%22&data=0x`)).json()) as { result: { response: { value: string; code: number } } };
    expect(q.result.response.code).toBe(0);
    expect(decodeLavaParamsResponse(Buffer.from(q.result.response.value, 'base64')).providerTarget).toBe('0.21.0');
    const client = await comet(c.rpcUrl); // one status probe
    await QueryClient.withExtensions(client, setupUpgradeExtension).upgrade.currentPlan();
    await client.abciQuery({ path: LAVA_PARAMS_QUERY_PATH, data: new Uint8Array(0) });

    expect(c.stats()).toEqual({
      byMethod: { status: 2, abci_query: 3 },
      abciQueriesByPath: { [LAVA_PARAMS_QUERY_PATH]: 2, '/cosmos.upgrade.v1beta1.Query/CurrentPlan': 1 },
      total: 5,
    });
    const { height } = await c.setVersion(V2);
    await expectEventually(() => expect(blocks.find((b) => b.height === height)?.events.map((e) => e.type)).toContain('lava_param_change'));
    off();
    const seen = blocks.length;
    await c.waitForHeight(c.height() + 2);
    expect(blocks.length).toBe(seen);
  });

  it('stop() closes the server and the sockets and rejects pending changes', async () => {
    const c = await startDevnetChain({ blockTimeMs: 60_000 });
    const sock = await rawSocket(c.wsUrl);
    const closed = new Promise<void>((r) => sock.ws.once('close', () => r()));
    const pending = c.setVersion(V2).then(
      () => 'applied',
      (e: Error) => e.message,
    );
    await c.stop();
    await closed;
    expect(await pending).toMatch(/stopped/);
    await expect(fetch(`${c.rpcUrl}/health`)).rejects.toThrow();
  });
});
