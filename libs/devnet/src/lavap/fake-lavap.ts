// Simulated lavap binaries (local stand-ins: the real lavap is a Go binary this machine cannot
// build): small executable node scripts that answer `lavap version` and otherwise run a
// "provider/consumer" listening on the first network-address of the config file given as their
// second argument (`lavap rpcprovider <config.yml> …`, `lavap rpcconsumer <config.yml> …`).
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * - `ok`: prints `listening on <addr>` and accepts TCP on the network-address (answers `lavap <version>`)
 * - `crash-at-start`: prints a panic on stderr and exits 1 right after start
 * - `no-listen`: keeps running but never listens (fails a TCP/HTTP health probe)
 */
export type FakeLavapBehaviour = 'ok' | 'crash-at-start' | 'no-listen';

export interface FakeLavapOptions {
  /** What `lavap version` prints (X.Y.Z). */
  version: string;
  /** Default `ok`. */
  behaviour?: FakeLavapBehaviour;
  /**
   * sha256 hex of the keyring password. When set and the fake runs with `--keyring-backend file`,
   * it prints `Enter keyring passphrase: ` and waits for the password on stdin (exit 3 if wrong).
   */
  passwordSha256?: string;
  /** File name inside the directory given to writeFakeLavap. Default `lavap`. */
  fileName?: string;
}

/** The script text (a `#!/usr/bin/env node` file), e.g. to serve it as a download. */
export function fakeLavapScript(o: FakeLavapOptions): string {
  return `#!/usr/bin/env node
'use strict';
const VERSION = ${JSON.stringify(o.version)};
const BEHAVIOUR = ${JSON.stringify(o.behaviour ?? 'ok')};
const PASSWORD_SHA256 = ${JSON.stringify(o.passwordSha256 ?? null)};
const args = process.argv.slice(2);
if (args[0] === 'version') { process.stdout.write(VERSION + '\\n'); process.exit(0); }
const fs = require('fs');
const net = require('net');
// Outlive a supervisor killed with SIGKILL (its pipes close): its restart must clean us up.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
process.stdout.write('lavap ' + VERSION + ' ' + args[0] + ' starting\\n');
if (BEHAVIOUR === 'crash-at-start') { process.stderr.write('panic: fake crash at start\\n'); process.exit(1); }
const text = args[1] ? fs.readFileSync(args[1], 'utf8') : '';
const m = /network-address:[ \\t]*(?:\\n\\s*address:[ \\t]*)?["']?([^\\s"']+)/.exec(text);
const addr = m ? m[1] : '127.0.0.1:0';
const i = addr.lastIndexOf(':');
const host = addr.slice(0, i) || '127.0.0.1';
const port = Number(addr.slice(i + 1));
process.on('SIGTERM', () => { process.stdout.write('SIGTERM: shutting down\\n'); process.exit(0); });
// Prometheus /metrics like lavap's (--metrics-listen-address, or the config's metrics-listen-address):
// lava_<provider|consumer>_total_relays_serviced for the config's first chain, counting the HTTP
// POSTs (relays) its network-address answered. Health probes (GET) are not relays.
let relays = 0;
const side = args[0] === 'rpcconsumer' ? 'consumer' : 'provider';
const chain = (/chain-id:[ \\t]*["']?([^\\s"']+)/.exec(text) || [])[1] || 'unknown';
function metricsAddress() {
  let found;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--metrics-listen-address') found = args[i + 1];
    else if (args[i].startsWith('--metrics-listen-address=')) found = args[i].slice('--metrics-listen-address='.length);
  }
  if (found !== undefined) return found;
  const mm = /metrics-listen-address:[ \\t]*["']?([^\\s"']+)/.exec(text);
  return mm ? mm[1] : undefined;
}
function serveMetrics() {
  const at = metricsAddress();
  if (!at) return;
  const j = at.lastIndexOf(':');
  const mh = at.slice(0, j).replace(/^\\[|\\]$/g, '') || '127.0.0.1';
  const name = 'lava_' + side + '_total_relays_serviced';
  require('http').createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('# HELP ' + name + ' The total number of relays serviced over time.\\n# TYPE ' + name + ' counter\\n' + name + '{spec="' + chain + '",apiInterface="jsonrpc"} ' + relays + '\\n');
  })
    // A port taken (two fakes with the default :7779, parallel tests): the service runs on without metrics, as lavap's relays do.
    .on('error', (e) => process.stderr.write('metrics server: ' + e.message + '\\n'))
    .listen(Number(at.slice(j + 1)), mh, () => process.stdout.write('metrics on ' + at + '\\n'));
}
function serve() {
  if (BEHAVIOUR === 'no-listen') { process.stdout.write('not listening\\n'); setInterval(() => {}, 1 << 30); return; }
  serveMetrics();
  const server = net.createServer((s) => {
    // A client that says nothing gets the banner; plain HTTP gets an HTTP answer (HTTP health probes).
    const quiet = setTimeout(() => s.end('lavap ' + VERSION + '\\n'), 200);
    s.once('data', (d) => {
      clearTimeout(quiet);
      if (/^POST /.test(d.toString('latin1'))) relays++;
      if (/^[A-Z]+ \\S+ HTTP\\/1/.test(d.toString('latin1'))) {
        const body = JSON.stringify({ status: 'ok', version: VERSION });
        s.end('HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: ' + body.length + '\\r\\nconnection: close\\r\\n\\r\\n' + body);
      } else s.end('lavap ' + VERSION + '\\n');
    });
    s.on('error', () => {});
    s.on('close', () => clearTimeout(quiet));
  });
  server.listen(port, host, () => process.stdout.write('listening on ' + addr + '\\n'));
}
const kb = args.indexOf('--keyring-backend');
if (PASSWORD_SHA256 && kb >= 0 && args[kb + 1] === 'file') {
  process.stdout.write('Enter keyring passphrase: ');
  let buf = '';
  process.stdin.on('data', (d) => {
    buf += d.toString('utf8');
    const nl = buf.indexOf('\\n');
    if (nl < 0) return;
    const got = require('crypto').createHash('sha256').update(buf.slice(0, nl)).digest('hex');
    if (got !== PASSWORD_SHA256) { process.stderr.write('wrong keyring passphrase\\n'); process.exit(3); }
    process.stdout.write('keyring unlocked\\n');
    process.stdin.pause();
    serve();
  });
} else {
  serve();
}
`;
}

/** Writes an executable fake lavap to `<dir>/<fileName ?? 'lavap'>` (creating dir) and returns its path. */
export function writeFakeLavap(dir: string, o: FakeLavapOptions): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, o.fileName ?? 'lavap');
  writeFileSync(file, fakeLavapScript(o));
  chmodSync(file, 0o755);
  return file;
}

export const sha256Hex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** A minimal lavap provider config (one tendermintrpc endpoint) whose network-address is `address` (host:port). */
export function providerConfigYaml(chainId: string, address: string, nodeUrl = 'http://127.0.0.1:26657'): string {
  const ws = nodeUrl.replace(/^http/, 'ws').replace(/\/$/, '') + '/websocket';
  return `endpoints:\n  - api-interface: tendermintrpc\n    chain-id: ${chainId}\n    network-address:\n      address: ${address}\n      disable-tls: true\n    node-urls:\n      - url: ${ws}\n      - url: ${nodeUrl}\n`;
}

/** A minimal lavap consumer config (one jsonrpc endpoint) listening on `address` (host:port). */
export function consumerConfigYaml(chainId: string, address: string, metricsAddress = ':7779'): string {
  return `endpoints:\n  - chain-id: ${chainId}\n    api-interface: jsonrpc\n    network-address: ${address}\nmetrics-listen-address: "${metricsAddress}"\n`;
}
