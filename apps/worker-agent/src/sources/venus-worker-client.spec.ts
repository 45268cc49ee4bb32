import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { VenusWorkerClient, VenusWorkerUnreachableError } from './venus-worker-client.js';

// A JSON-RPC endpoint that, like one restarting or dropping idle kept-alive connections, closes
// the connection of the second request it receives without answering it.
async function endpoint(): Promise<{ url: string; methods: string[]; auth: (string | undefined)[]; server: Server }> {
  const methods: string[] = [];
  const auth: (string | undefined)[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const call = JSON.parse(body) as { method: string; id: number };
      methods.push(call.method);
      auth.push(req.headers.authorization);
      if (methods.length === 2) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: call.method === 'VenusWorker.WorkerList' ? [] : true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${addr.port}/`, methods, auth, server };
}

describe('VenusWorkerClient', () => {
  let server: Server | undefined;
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  });

  it('sends a read again when the connection is closed unanswered', async () => {
    const e = await endpoint();
    server = e.server;
    const client = new VenusWorkerClient(e.url);
    expect(await client.workerList()).toEqual([]);
    expect(await client.workerList()).toEqual([]);
    expect(e.methods).toEqual(['VenusWorker.WorkerList', 'VenusWorker.WorkerList', 'VenusWorker.WorkerList']);
  });

  it('never sends a command twice: a closed connection is an unreachable worker, said in words', async () => {
    const e = await endpoint();
    server = e.server;
    const client = new VenusWorkerClient(e.url);
    expect(await client.workerList()).toEqual([]);
    const failed = await client.workerPause(0).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(VenusWorkerUnreachableError);
    expect((failed as Error).message).toMatch(/unreachable: connection closed before an answer \(UND_ERR_SOCKET\)|unreachable: connection reset \(ECONNRESET\)/);
    expect(e.methods).toEqual(['VenusWorker.WorkerList', 'VenusWorker.WorkerPause']);
  });

  it('names a refused connection in words and code, without the URL credentials', async () => {
    const e = await endpoint();
    const port = new URL(e.url).port;
    await new Promise((resolve) => e.server.close(resolve));
    const client = new VenusWorkerClient(`http://user:secret@127.0.0.1:${port}/?token=t`);
    const failed = await client.workerList().catch((err: unknown) => err);
    expect((failed as Error).message).toBe(`damocles-worker admin API at http://127.0.0.1:${port}/ unreachable: connection refused (ECONNREFUSED)`);
  });

  it('sends user info of the URL as Basic auth (fetch refuses it in the URL)', async () => {
    const e = await endpoint();
    server = e.server;
    const client = new VenusWorkerClient(e.url.replace('http://', 'http://op%40x:p%3Ass@'));
    expect(await client.workerList()).toEqual([]);
    expect(e.auth).toEqual([`Basic ${Buffer.from('op@x:p:ss').toString('base64')}`]);
  });
});
