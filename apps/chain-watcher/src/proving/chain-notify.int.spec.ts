// The ChainNotify client against nodes that misbehave in ways the simulator does not: a
// subscription that goes silent (half-open connection), a malformed head change, a channel closed
// by the node. Each is a real WebSocket server on loopback speaking go-jsonrpc's channel frames.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLogger } from '@fleetvisor/platform';
import { waitFor } from '@fleetvisor/testing';
import { ChainNotifyClient, httpUrlOf, notifyUrlOf, parseHeadChanges, type HeadChange } from './chain-notify';

const logger = createLogger({ name: 'chain-notify-test', level: 'silent', format: 'json' });
const tipSet = (h: number) => ({ Cids: [{ '/': `bafy2bzace${h}` }], Blocks: [{ Height: h, Timestamp: 1_700_000_000 + h * 30 }], Height: h });

let server: WebSocketServer | undefined;
let client: ChainNotifyClient | undefined;
afterEach(async () => {
  client?.stop();
  client = undefined;
  for (const c of server?.clients ?? []) c.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A node that answers ChainNotify with channel 5 and hands each socket to `then`. */
async function node(then: (ws: WebSocket) => void): Promise<string> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  server.on('connection', (ws) => {
    ws.on('message', (d) => {
      const req = JSON.parse(String(d)) as { id: number; method: string };
      if (req.method !== 'Filecoin.ChainNotify') return;
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: 5 }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'xrpc.ch.val', params: [5, [{ Type: 'current', Val: tipSet(10) }]] }));
      then(ws);
    });
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/rpc/v1`;
}

function follow(endpoint: string, stallMs = 10_000) {
  const seen: HeadChange[][] = [];
  const states: { up: boolean; reason: string }[] = [];
  client = new ChainNotifyClient({
    endpoints: [endpoint],
    timeoutMs: 2_000,
    retryMinMs: 50,
    retryMaxMs: 60_000,
    stallMs,
    logger,
    onChanges: (c) => seen.push(c),
    onState: (up, reason) => states.push({ up, reason }),
  });
  client.start();
  return { seen, states };
}

describe('ChainNotify client', () => {
  it('derives the socket from the endpoint and back', () => {
    expect(notifyUrlOf('http://n:1234/rpc/v1')).toBe('ws://n:1234/rpc/v1');
    expect(notifyUrlOf('https://n/rpc/v1')).toBe('wss://n/rpc/v1');
    expect(notifyUrlOf('ws://n:1234/rpc/v1')).toBe('ws://n:1234/rpc/v1');
    expect(httpUrlOf('wss://n/rpc/v1')).toBe('https://n/rpc/v1');
    expect(httpUrlOf('http://n/rpc/v1')).toBe('http://n/rpc/v1');
  });

  it('checks every head change', () => {
    expect(parseHeadChanges([{ Type: 'revert', Val: tipSet(3) }, { Type: 'apply', Val: tipSet(3) }]).map((c) => [c.type, c.head.height])).toEqual([
      ['revert', 3],
      ['apply', 3],
    ]);
    expect(() => parseHeadChanges([])).toThrow(/0 head changes/);
    expect(() => parseHeadChanges([{ Type: 'rewind', Val: tipSet(3) }])).toThrow(/Type must be/);
    expect(() => parseHeadChanges([{ Type: 'apply', Val: { Height: -1, Cids: [], Blocks: [] } }])).toThrow(/Height/);
    expect(() => parseHeadChanges({ Type: 'apply' })).toThrow(/array/);
  });

  it('a subscription silent for stallMs is down (a half-open socket sends no close)', async () => {
    const endpoint = await node(() => undefined);
    const { seen, states } = follow(endpoint, 300);
    await waitFor(() => states.length >= 2, { timeoutMs: 5_000, message: 'up then down' });
    expect(states[0]).toMatchObject({ up: true });
    expect(states[1]).toMatchObject({ up: false, reason: expect.stringMatching(/no head change in 300 ms/) });
    expect(seen[0]!.map((c) => [c.type, c.head.height])).toEqual([['current', 10]]);
    // It reconnects by itself: the node subscribes it again.
    await waitFor(() => states.length >= 3, { timeoutMs: 5_000, message: 'up again' });
    expect(states[2]).toMatchObject({ up: true });
  });

  it('a malformed head change or a channel the node closes brings the subscription down; other channels are ignored', async () => {
    let sockets = 0;
    const endpoint = await node((ws) => {
      sockets++;
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'xrpc.ch.val', params: [99, [{ Type: 'apply', Val: tipSet(500) }]] }));
      if (sockets === 1) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'xrpc.ch.val', params: [5, [{ Type: 'apply', Val: { Height: 'eleven' } }]] }));
      else ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'xrpc.ch.close', params: [5] }));
    });
    const { seen, states } = follow(endpoint);
    await waitFor(() => states.filter((s) => !s.up).length >= 2, { timeoutMs: 5_000, message: 'down twice' });
    const downs = states.filter((s) => !s.up).map((s) => s.reason);
    expect(downs[0]).toMatch(/ChainHead|Cids|Height/);
    expect(downs[1]).toMatch(/closed the Filecoin.ChainNotify channel/);
    // Only the subscription's own channel is believed: height 500 on channel 99 never surfaces.
    expect(seen.flat().map((c) => c.head.height)).not.toContain(500);
  });
});
