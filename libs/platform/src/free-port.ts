// Free TCP ports: for private test servers, and for the services `fleetvisor up` starts.
import { createServer } from 'node:net';

// Ports handed out by this process, so two private servers started one after the other never get
// the same one (the OS may hand a just-closed ephemeral port out again). Another process can still
// take a port between freePort() and the server's bind: the private servers retry on a new port.
const handedOut = new Set<number>();

function probe(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/** A TCP port that nothing listens on at `host` (127.0.0.1 by default), not handed out before by this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no new free port on ${host} after 50 tries`);
}
