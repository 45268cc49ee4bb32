// A simulated venus-wallet (a local stand-in: the real one is a Go binary the test environment
// has no toolchain or network to build), as an executable node script run as a real child process. It behaves as upstream does
// where the runner touches it (filecoin-project/venus-wallet):
// - `venus-wallet --repo <dir> run`: reads <dir>/config.toml (`[API] ListenAddress =
//   "/ip4/<ip>/tcp/<port>/http"`, `[JWT] Token = "<hex of the admin token>"`), prints
//   "start rpc server at [<multiaddr>] ..." and serves go-jsonrpc over HTTP POST /rpc/v0 with
//   `Authorization: Bearer <token>`: Filecoin.Version (perm read), Filecoin.SetPassword,
//   Filecoin.Unlock, Filecoin.Lock, Filecoin.LockState (perm admin), and GET /healthcheck.
// - the password lives in memory only (storage/keymix.go): until one is set, its wallet-event loop
//   logs "WalletSign error password not set" for every sign request the gateway sends (here: one
//   every `signEveryMs`), with the WARN / INFO lines that follow it upstream.
// - Unlock on a wallet without password sets it; SetPassword on one that has one fails
//   ("the password already exists"); a wrong password fails ("password mismatch").
// - `venus-wallet version` prints its version.
// It never prints a password; it prints "wallet unlocked" once it holds one.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FakeVenusWalletOptions {
  /** What `venus-wallet version` and Filecoin.Version answer. Default 1.20.0. */
  version?: string;
  /** How often a sign request arrives from the gateway while no password is set (ms). Default 200. */
  signEveryMs?: number;
  /** File name inside the directory given. Default `venus-wallet`. */
  fileName?: string;
}

export function fakeVenusWalletScript(o: FakeVenusWalletOptions = {}): string {
  return `#!/usr/bin/env node
'use strict';
const VERSION = ${JSON.stringify(o.version ?? '1.20.0')};
const SIGN_EVERY_MS = ${JSON.stringify(o.signEveryMs ?? 200)};
const fs = require('fs');
const http = require('http');
const crypto = require('crypto');
const args = process.argv.slice(2);
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});
let repo = require('os').homedir() + '/.venus_wallet';
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--repo') repo = args[++i];
  else if (args[i].startsWith('--repo=')) repo = args[i].slice(7);
  else rest.push(args[i]);
}
if (rest[0] === 'version' || rest[0] === '--version') { process.stdout.write('venus-wallet version ' + VERSION + '\\n'); process.exit(0); }
if (rest[0] !== 'run') { process.stderr.write('usage: venus-wallet [--repo DIR] run|version\\n'); process.exit(2); }
const ts = () => new Date().toISOString().replace('Z', '+0000');
const log = (level, sys, at, msg, fields) => process.stdout.write(ts() + '\\t' + level + '\\t' + sys + '\\t' + at + '\\t' + msg + (fields ? '\\t' + JSON.stringify(fields) : '') + '\\n');
const cfg = fs.readFileSync(repo + '/config.toml', 'utf8');
const listen = (/ListenAddress\\s*=\\s*"([^"]+)"/.exec(cfg) || [])[1] || '/ip4/127.0.0.1/tcp/5678/http';
const tokenHex = (/Token\\s*=\\s*"([0-9a-fA-F]*)"/.exec(cfg) || [])[1] || '';
const TOKEN = Buffer.from(tokenHex, 'hex').toString('utf8');
const m = /^\\/ip4\\/([^/]+)\\/tcp\\/(\\d+)/.exec(listen);
if (!m) { process.stderr.write('bad ListenAddress ' + listen + '\\n'); process.exit(1); }
const keccak = (s) => crypto.createHash('sha3-256').update(s).digest('hex');
let password = null;
let locked = true;
log('INFO', 'main', 'cmd/daemon.go:49', 'wallet repo: ' + repo);
const hub = { 'api hub': '/ip4/127.0.0.1/tcp/45132' };
const signLoop = setInterval(() => {
  if (password !== null && !locked) return;
  const err = password === null ? 'password not set' : 'wallet locked';
  log('ERROR', 'wallet_event', 'wallet_event/listenevent.go:236', 'WalletSign error ' + err, hub);
  log('WARN', 'wallet_event', 'wallet_event/listenevent.go:164', 'listenWalletRequestOnce quit', hub);
  log('INFO', 'wallet_event', 'wallet_event/listenevent.go:173', 'restarting listenWalletRequestOnce', hub);
  log('INFO', 'wallet_event', 'wallet_event/listenevent.go:184', '', { 'rand sign byte': crypto.randomBytes(32).toString('base64') });
}, SIGN_EVERY_MS);
const perms = { 'Filecoin.Version': 'read', 'Filecoin.SetPassword': 'admin', 'Filecoin.Unlock': 'admin', 'Filecoin.Lock': 'admin', 'Filecoin.LockState': 'admin' };
function call(method, params) {
  switch (method) {
    case 'Filecoin.Version': return { Version: VERSION, APIVersion: 0x10000 };
    case 'Filecoin.SetPassword':
      if (password !== null) throw new Error('the password already exists');
      password = keccak(String(params[0])); locked = false; log('INFO', 'wallet', 'storage/keymix.go:70', 'wallet unlocked'); return null;
    case 'Filecoin.Unlock':
      if (password === null) return call('Filecoin.SetPassword', params);
      if (!locked) throw new Error('wallet already unlocked');
      if (keccak(String(params[0])) !== password) throw new Error('password mismatch');
      locked = false; log('INFO', 'wallet', 'storage/keymix.go:110', 'wallet unlocked'); return null;
    case 'Filecoin.Lock':
      if (password === null) throw new Error('password not set');
      if (keccak(String(params[0])) !== password) throw new Error('password mismatch');
      locked = true; return null;
    case 'Filecoin.LockState': return locked;
  }
  const e = new Error('method \\'' + method + '\\' not found'); e.code = -32601; throw e;
}
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthcheck') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); return; }
  if (req.method !== 'POST' || req.url !== '/rpc/v0') { res.writeHead(404); res.end(); return; }
  const auth = req.headers['authorization'];
  let perm = [];
  if (auth !== undefined) {
    if (!auth.startsWith('Bearer ') || auth.slice(7) !== TOKEN || TOKEN === '') { res.writeHead(401); res.end(); return; }
    perm = ['read', 'write', 'sign', 'admin'];
  }
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    let r;
    try { r = JSON.parse(body); } catch { res.writeHead(400); res.end(); return; }
    const reply = (x) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ jsonrpc: '2.0', id: r.id, ...x })); };
    const need = perms[r.method];
    if (need && !perm.includes(need)) return reply({ error: { code: 1, message: 'missing permission to invoke \\'' + String(r.method).replace('Filecoin.', '') + '\\' (need \\'' + need + '\\')' } });
    try { reply({ result: call(r.method, r.params || []) }); } catch (e) { reply({ error: { code: e.code || 1, message: e.message } }); }
  });
});
server.listen(Number(m[2]), m[1], () => log('INFO', 'main', 'cmd/rpc.go:73', 'start rpc server at [' + listen + '] ...'));
const stop = () => { clearInterval(signLoop); server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`;
}

/** Writes the executable script; returns its path. */
export function writeFakeVenusWallet(dir: string, o: FakeVenusWalletOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, o.fileName ?? 'venus-wallet');
  writeFileSync(file, fakeVenusWalletScript(o));
  chmodSync(file, 0o755);
  return file;
}

/**
 * A venus-wallet repo as the fake (and upstream's filemgr) reads it: config.toml with the API
 * listen address and the admin token (hex, as upstream stores it). Returns the token as
 * `venus-wallet auth api-info --perm admin` prints it: `<token>:<multiaddr>`.
 */
export function writeVenusWalletRepo(repo: string, port: number, token: string): { configFile: string; apiInfo: string } {
  mkdirSync(repo, { recursive: true });
  const listen = `/ip4/127.0.0.1/tcp/${port}/http`;
  const configFile = path.join(repo, 'config.toml');
  writeFileSync(configFile, `[API]\n  ListenAddress = "${listen}"\n\n[JWT]\n  Token = "${Buffer.from(token, 'utf8').toString('hex')}"\n  Secret = "${'00'.repeat(32)}"\n`);
  return { configFile, apiInfo: `${token}:${listen}` };
}
