// Small stand-ins for lavap, for the runner's tests and benchmark: node scripts that answer
// `version` and otherwise run a "provider/consumer" that listens on the first network-address of
// its config file. Behaviours: ok, crash (exits 1 at start), unhealthy (runs but never listens),
// and, with a password hash, a keyring prompt on stdout that must be answered on stdin.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type FakeBehaviour = 'ok' | 'crash' | 'unhealthy';

export interface FakeLavapOptions {
  version: string;
  behaviour?: FakeBehaviour;
  /** sha256 hex of the keyring password the fake expects when run with --keyring-backend file. */
  passwordSha256?: string;
}

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
// Outlive a runner killed with SIGKILL (its pipes close): the runner's restart must clean us up.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
process.stdout.write('lavap ' + VERSION + ' ' + args[0] + ' starting\\n');
if (BEHAVIOUR === 'crash') { process.stderr.write('panic: fake crash at start\\n'); process.exit(1); }
const text = fs.readFileSync(args[1], 'utf8');
const m = /network-address:[ \\t]*(?:\\n\\s*address:[ \\t]*)?["']?([^\\s"']+)/.exec(text);
const addr = m ? m[1] : '127.0.0.1:0';
const i = addr.lastIndexOf(':');
const host = addr.slice(0, i) || '127.0.0.1';
const port = Number(addr.slice(i + 1));
process.on('SIGTERM', () => { process.stdout.write('SIGTERM: shutting down\\n'); process.exit(0); });
function serve() {
  if (BEHAVIOUR === 'unhealthy') { process.stdout.write('not listening\\n'); setInterval(() => {}, 1 << 30); return; }
  const server = net.createServer((s) => s.end('lavap ' + VERSION + '\\n'));
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

/** Writes the fake to `file` (executable). */
export function writeFakeLavap(file: string, o: FakeLavapOptions): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, fakeLavapScript(o));
  chmodSync(file, 0o755);
  return file;
}

export const sha256Hex = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

export function providerConfigYaml(chainId: string, address: string): string {
  return `endpoints:\n  - api-interface: tendermintrpc\n    chain-id: ${chainId}\n    network-address:\n      address: ${address}\n      disable-tls: true\n    node-urls:\n      - url: ws://127.0.0.1:26657/websocket\n      - url: http://127.0.0.1:26657\n`;
}

export function consumerConfigYaml(chainId: string, address: string): string {
  return `endpoints:\n  - chain-id: ${chainId}\n    api-interface: jsonrpc\n    network-address: ${address}\nmetrics-listen-address: ":7779"\n`;
}
