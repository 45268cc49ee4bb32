// The proving simulator against the upstream JSON shapes (dline.Info, api.Deadline, api.Partition,
// go-bitfield run lengths), over real HTTP and WebSocket (ChainNotify as go-jsonrpc channels), with
// faults, recoveries and a missed window.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bitfieldFromJson, bitfieldToJson } from './bitfield-json';
import { startProvingNode, type ProvingNodeHandle } from './proving-node';

let node: ProvingNodeHandle | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

// Answers are read loosely on purpose: the test checks their shape field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

async function control(n: ProvingNodeHandle, body: object): Promise<Response> {
  return fetch(`http://127.0.0.1:${n.port}/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('go-bitfield JSON run lengths', () => {
  it('starts with the absent run and round-trips', () => {
    expect(bitfieldToJson([0, 1, 2, 8, 9])).toEqual([0, 3, 5, 2]);
    expect(bitfieldToJson([])).toEqual([0]);
    expect(bitfieldToJson([5])).toEqual([5, 1]);
    expect(bitfieldFromJson([0, 3, 5, 2])).toEqual([0, 1, 2, 8, 9]);
  });
});

describe('proving node simulator', () => {
  it('answers ChainHead and dline.Info with the real relationships', async () => {
    node = await startProvingNode({ epochMs: 0, params: { periodDeadlines: 4, challengeWindow: 5 }, miners: [{ id: 't01000', periodOffset: 2 }] });
    const head = await rpc(node.url, 'Filecoin.ChainHead');
    expect(head.Height).toBe(node.chain.height);
    expect(head.Cids[0]['/']).toMatch(/^bafy2bzace/);
    expect(head.Blocks[0].Height).toBe(head.Height);
    const dl = await rpc(node.url, 'Filecoin.StateMinerProvingDeadline', ['t01000', []]);
    expect(Object.keys(dl).sort()).toEqual(
      ['Challenge', 'Close', 'CurrentEpoch', 'FaultCutoff', 'FaultDeclarationCutoff', 'Index', 'Open', 'PeriodStart', 'WPoStChallengeLookback', 'WPoStChallengeWindow', 'WPoStPeriodDeadlines', 'WPoStProvingPeriod'].sort(),
    );
    expect(dl.WPoStProvingPeriod).toBe(dl.WPoStPeriodDeadlines * dl.WPoStChallengeWindow);
    expect(dl.Open).toBe(dl.PeriodStart + dl.Index * dl.WPoStChallengeWindow);
    expect(dl.Close).toBe(dl.Open + dl.WPoStChallengeWindow);
    expect(dl.Challenge).toBe(dl.Open - dl.WPoStChallengeLookback);
    expect(dl.FaultCutoff).toBe(dl.Open - dl.FaultDeclarationCutoff);
    expect(dl.CurrentEpoch).toBeGreaterThanOrEqual(dl.Open);
    expect(dl.CurrentEpoch).toBeLessThan(dl.Close);
    expect((dl.PeriodStart - 2) % 20).toBe(0);
    await expect(rpc(node.url, 'Filecoin.StateMinerProvingDeadline', ['t09999', null])).rejects.toThrow(/actor not found/);
    expect(await rpc(node.url, 'Filecoin.StateSectorPartition', ['t01000', 9, []])).toEqual({ Deadline: 2, Partition: 0 });
    await expect(rpc(node.url, 'Filecoin.StateSectorPartition', ['t01000', 16, []])).rejects.toThrow(/not found/);
    const info = await rpc(node.url, 'Filecoin.StateMinerInfo', ['t01000', null]);
    expect(info).toMatchObject({ SectorSize: 34359738368, WindowPoStPartitionSectors: 2349 });
  });

  it('proves healthy partitions, misses a partition with undeclared faults, recovers declared recoveries', async () => {
    node = await startProvingNode({ epochMs: 0, params: { periodDeadlines: 4, challengeWindow: 5 }, miners: [{ id: 't01000', periodOffset: 0, partitionsPerDeadline: 2, sectorsPerPartition: 3 }], startEpoch: 100 });
    // Epoch 100: period start 100, deadline 0 open [100, 105). Deadline 1 holds partitions 0 (sectors 6-8) and 1 (9-11).
    const parts = await rpc(node.url, 'Filecoin.StateMinerPartitions', ['t01000', 1, []]);
    expect(parts).toHaveLength(2);
    expect(Object.keys(parts[0]).sort()).toEqual(['ActiveSectors', 'AllSectors', 'FaultySectors', 'LiveSectors', 'RecoveringSectors']);
    expect(bitfieldFromJson(parts[1].AllSectors)).toEqual([9, 10, 11]);
    expect(parts[0].FaultySectors).toEqual([0]);

    const res = await control(node, { action: 'fault', miner: 't01000', sectors: [10] });
    expect(res.status).toBe(200);
    expect(bitfieldFromJson(await rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', []]))).toEqual([10]);
    node.advance(6); // epoch 106: deadline 1 open since 105, proofs submitted at 106
    const dls = await rpc(node.url, 'Filecoin.StateMinerDeadlines', ['t01000', []]);
    expect(dls).toHaveLength(4);
    expect(dls[1]).toEqual({ PostSubmissions: [0, 1], DisputableProofCount: 0 });
    node.advance(4); // epoch 110: deadline 1 ended at 109 with partition 1 unproven
    const after = await rpc(node.url, 'Filecoin.StateMinerPartitions', ['t01000', 1, []]);
    expect(bitfieldFromJson(after[1].FaultySectors)).toEqual([9, 10, 11]);
    expect(bitfieldFromJson(after[1].ActiveSectors)).toEqual([]);
    expect(bitfieldFromJson(after[0].FaultySectors)).toEqual([]);
    expect((await rpc(node.url, 'Filecoin.StateMinerDeadlines', ['t01000', []]))[1].PostSubmissions).toEqual([0]);

    expect((await control(node, { action: 'recover', miner: 't01000', sectors: [9, 10, 11] })).status).toBe(200);
    expect(bitfieldFromJson(await rpc(node.url, 'Filecoin.StateMinerRecoveries', ['t01000', []]))).toEqual([9, 10, 11]);
    node.advance(20); // the next period's deadline 1 proves the recovering partition
    expect(await rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', []])).toEqual([0]);
    expect(await rpc(node.url, 'Filecoin.StateMinerRecoveries', ['t01000', []])).toEqual([0]);
    expect((await control(node, { action: 'recover', miner: 't01000', sectors: [1] })).status).toBe(400);
  });

  it('misses a window when told to, and advances on its own clock', async () => {
    node = await startProvingNode({ epochMs: 20, params: { periodDeadlines: 4, challengeWindow: 3 }, miners: [{ id: 't01000', periodOffset: 0 }] });
    const start = node.chain.height;
    const dl = node.chain.deadline('t01000');
    node.chain.missDeadline('t01000', (dl.Index + 1) % 4);
    await node.waitForHeight(dl.Close + 3, 5_000);
    expect(node.chain.height).toBeGreaterThan(start);
    expect(node.chain.faults('t01000')).toEqual(node.chain.sectorsOf('t01000', (dl.Index + 1) % 4, 0));
  });
});

/** A WebSocket client keeping every frame it receives, in order. */
async function openSocket(url: string): Promise<{ ws: WebSocket; frames: Record<string, unknown>[]; next(n: number): Promise<Record<string, unknown>[]> }> {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    frames.push(JSON.parse(String(d)) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async (n: number) => {
    while (frames.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return frames.slice(0, n);
  };
  return { ws, frames, next };
}

describe('proving node over WebSocket', () => {
  it('answers state at a past head from the state it had then, and refuses a head it no longer keeps', async () => {
    node = await startProvingNode({ epochMs: 0, params: { periodDeadlines: 4, challengeWindow: 5 }, miners: [{ id: 't01000', periodOffset: 0, sectorsPerPartition: 2 }], startEpoch: 100 });
    const at100 = (await rpc(node.url, 'Filecoin.ChainHead')).Cids;
    node.advance(1);
    node.chain.declareFaults('t01000', [3]);
    expect(await rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', at100])).toEqual([0]);
    expect(await rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', []])).toEqual([3, 1]);
    expect((await rpc(node.url, 'Filecoin.StateMinerProvingDeadline', ['t01000', at100])).CurrentEpoch).toBe(100);
    const at101 = (await rpc(node.url, 'Filecoin.ChainHead')).Cids;
    expect(await rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', at101])).toEqual([3, 1]);
    node.advance(16);
    expect(await rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', at101])).toEqual([3, 1]);
    await expect(rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', at100])).rejects.toThrow(/loading tipset .*not found/);
    await expect(rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', [{ '/': 'bafy2bzacenothing' }]])).rejects.toThrow(/loading tipset/);
  });

  it('answers calls and streams ChainNotify as Lotus does: the channel id, then current, apply, revert', async () => {
    node = await startProvingNode({ epochMs: 0, params: { periodDeadlines: 4, challengeWindow: 5 }, miners: [{ id: 't01000', periodOffset: 0 }], startEpoch: 100 });
    const s = await openSocket(node.wsUrl);
    s.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'Filecoin.ChainHead', params: [] }));
    const [head] = await s.next(1);
    expect(head).toMatchObject({ jsonrpc: '2.0', id: 7, result: { Height: 100 } });

    s.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'Filecoin.ChainNotify', params: [] }));
    const [, reply, current] = await s.next(3);
    expect(reply).toEqual({ jsonrpc: '2.0', id: 8, result: 1 });
    expect(current).toMatchObject({ jsonrpc: '2.0', method: 'xrpc.ch.val', params: [1, [{ Type: 'current', Val: { Height: 100 } }]] });
    expect(current).not.toHaveProperty('id');
    expect(node.sockets()).toEqual({ connections: 1, subscriptions: 1 });

    node.advance(2);
    const [, , , a1, a2] = await s.next(5);
    expect(a1).toMatchObject({ method: 'xrpc.ch.val', params: [1, [{ Type: 'apply', Val: { Height: 101 } }]] });
    expect(a2).toMatchObject({ method: 'xrpc.ch.val', params: [1, [{ Type: 'apply', Val: { Height: 102 } }]] });

    const before = (a2!['params'] as [number, { Val: { Cids: unknown[] } }[]])[1][0]!.Val.Cids;
    node.reorg();
    const [, , , , , rev] = await s.next(6);
    const changes = (rev!['params'] as [number, { Type: string; Val: { Height: number; Cids: unknown[] } }[]])[1];
    expect(changes.map((c) => [c.Type, c.Val.Height])).toEqual([
      ['revert', 102],
      ['apply', 102],
    ]);
    expect(changes[0]!.Val.Cids).toEqual(before);
    expect(changes[1]!.Val.Cids).not.toEqual(before);
    // The sibling is the head now: ChainHead and a state call at its key agree.
    expect((await rpc(node.url, 'Filecoin.ChainHead')).Cids).toEqual(changes[1]!.Val.Cids);
    await rpc(node.url, 'Filecoin.StateMinerFaults', ['t01000', changes[1]!.Val.Cids]);

    s.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'xrpc.cancel', params: [8] }));
    const [, , , , , , closed] = await s.next(7);
    expect(closed).toEqual({ jsonrpc: '2.0', method: 'xrpc.ch.close', params: [1] });
    expect(node.sockets().subscriptions).toBe(0);
    s.ws.close();
  });

  it('refuses ChainNotify over HTTP, and when told: drops sockets, refuses upgrades, answers without notify', async () => {
    node = await startProvingNode({ epochMs: 0, params: { periodDeadlines: 4, challengeWindow: 5 }, miners: [{ id: 't01000' }] });
    await expect(rpc(node.url, 'Filecoin.ChainNotify')).rejects.toThrow(/not supported in this mode/);
    const s = await openSocket(node.wsUrl);
    const closed = new Promise<void>((resolve) => s.ws.once('close', () => resolve()));
    expect((await control(node, { action: 'websocket', state: 'down' })).status).toBe(200);
    await closed;
    const refused = new WebSocket(node.wsUrl);
    refused.on('error', () => undefined);
    const status = await new Promise<number | undefined>((resolve) =>
      refused
        .once('unexpected-response', (req, res) => {
          req.destroy();
          resolve(res.statusCode);
        })
        .once('open', () => resolve(undefined)),
    );
    expect(status).toBe(503);

    expect((await control(node, { action: 'websocket', state: 'no-notify' })).status).toBe(200);
    const t = await openSocket(node.wsUrl);
    t.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Filecoin.ChainNotify', params: [] }));
    t.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'Filecoin.ChainHead', params: [] }));
    const [nf, h] = await t.next(2);
    expect(nf).toMatchObject({ id: 1, error: { code: -32601 } });
    expect(h).toMatchObject({ id: 2, result: { Height: node.chain.height } });
    t.ws.close();
    expect((await control(node, { action: 'websocket', state: 'sideways' })).status).toBe(400);
  });
});
