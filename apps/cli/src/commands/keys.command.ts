// `fleetvisor keys init|create|list|revoke` (ADR 0006): the fleet's signing keys.
//   init    the admin root key, offline: <dir>/<name>.key.json (0600) and <name>.pub (the trust root
//           every process is given as FLEETVISOR_TRUST_ROOT_FILE)
//   create  a key with a role, certified by the root key; its certificate is published to the
//           fleet's key bucket (for `keys list`) unless --offline
//   list    the certificates and revocations in the key bucket
//   revoke  an admin-signed revocation in the key bucket: every process watching it refuses the key
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KV } from 'nats';
import { KEY_ROLES, type KeyCertificate, type KeyRevocation, type KeyRole } from '@fleetvisor/contracts';
import { connectNats } from '@fleetvisor/messaging/core';
import { createLogger, defineCliCommand, parseDuration, UsageError, type CliIo } from '@fleetvisor/platform';
import {
  generateKeyPair,
  isKeyId,
  keyPairOf,
  keysBucketName,
  newKeyFile,
  newRootKeyFile,
  readKeyFile,
  rootPublicKeyLine,
  signRevocation,
  TrustVerifier,
  writeKeyFile,
  type KeyFile,
} from '@fleetvisor/trust';
import { loadCliConfig } from '../config';

const DEFAULT_DIR = path.join(os.homedir(), '.fleetvisor', 'keys');
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

function keyName(value: string | undefined, what: string): string {
  if (value === undefined || !NAME.test(value)) throw new UsageError(`${what} must be 1-100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit; got "${value ?? ''}"`);
  return value;
}

function rootKey(file: string | undefined): { doc: KeyFile; file: string } {
  const f = file ?? path.join(DEFAULT_DIR, 'admin.key.json');
  if (!fs.existsSync(f)) throw new UsageError(`no root key at ${f}: pass --root-key <file> (made by \`fleetvisor keys init\`)`);
  const doc = readKeyFile(f);
  if (doc.kind !== 'fleetvisor-root-key') throw new UsageError(`${f} is a ${doc.role} key, not a root key: certificates and revocations are signed by the root key \`keys init\` made`);
  return { doc, file: f };
}

/** The fleet's key bucket, opened (never created: `fleetvisor migrate` makes it). */
async function withKeyBucket<T>(fn: (kv: KV) => Promise<T>): Promise<T> {
  const config = loadCliConfig();
  const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
  const nc = await connectNats(config, logger, { name: 'fleetvisor-cli:keys' });
  try {
    const bucket = keysBucketName(config.subjectRoot);
    let kv;
    try {
      kv = await nc.jetstream().views.kv(bucket, { bindOnly: true });
      await kv.status();
    } catch (e) {
      throw new Error(`the key bucket ${bucket} is not there (${(e as Error).message}): run \`fleetvisor migrate\` with an admin NATS credential first`);
    }
    return await fn(kv);
  } finally {
    await nc.close();
  }
}

function print(io: CliIo, json: boolean, value: unknown, text: string): void {
  io.out(json ? JSON.stringify(value) + '\n' : text);
}

export const keysInitCommand = defineCliCommand({
  path: ['keys', 'init'],
  summary: "Make the fleet's admin root key (offline): the key file and the trust root to give every process",
  description:
    'Writes <dir>/<name>.key.json (mode 0600: keep it offline, it certifies every other key) and <dir>/<name>.pub (the public trust root: set FLEETVISOR_TRUST_ROOT_FILE to it on every host). Never overwrites a key file.',
  options: {
    dir: { type: 'string', description: `where to write (default ${DEFAULT_DIR})`, placeholder: 'dir' },
    name: { type: 'string', description: 'name of the root key (default admin)', placeholder: 'name' },
    json: { type: 'boolean', description: 'the result as one JSON object' },
  },
  examples: ['fleetvisor keys init', 'fleetvisor keys init --dir /secure/usb --name fleet-root'],
  async run({ options, io }) {
    const dir = options.dir ?? DEFAULT_DIR;
    const name = keyName(options.name ?? 'admin', '--name');
    const doc = newRootKeyFile(name, generateKeyPair());
    const keyFile = path.join(dir, `${name}.key.json`);
    const pubFile = path.join(dir, `${name}.pub`);
    if (fs.existsSync(pubFile)) throw new UsageError(`${pubFile} already exists; a root is never replaced in place (choose another --name or --dir to rotate)`);
    writeKeyFile(keyFile, doc);
    fs.writeFileSync(pubFile, rootPublicKeyLine(doc), { mode: 0o644 });
    print(io, options.json === true, { kid: doc.kid, name, keyFile, trustRootFile: pubFile }, `root key ${doc.kid} (${name})\n  private: ${keyFile}  (keep it offline)\n  trust root: ${pubFile}  -> FLEETVISOR_TRUST_ROOT_FILE on every host\nnext: fleetvisor keys create --role operate --name <you> --root-key ${keyFile}\n`);
  },
});

export const keysCreateCommand = defineCliCommand({
  path: ['keys', 'create'],
  summary: 'Make a key with a role (read, operate, admin, chain-watcher, service, gateway), certified by the root key',
  description:
    "Roles: read (queries), operate (worker pause/resume/drain, upgrades retry), admin (worker remove, upgrades rollback), chain-watcher (signs chain events), service (central services passing an operator's command on). Writes the key file (0600); give it to its holder as FLEETVISOR_SIGNING_KEY_FILE. Its certificate is published to the fleet's key bucket unless --offline.",
  options: {
    role: { type: 'string', description: `one of ${KEY_ROLES.join(', ')}`, placeholder: 'role' },
    name: { type: 'string', description: 'who holds it; recorded as the actor of what it signs', placeholder: 'name' },
    'root-key': { type: 'string', description: `the root key file (default ${path.join(DEFAULT_DIR, 'admin.key.json')})`, placeholder: 'file' },
    out: { type: 'string', description: 'key file to write (default <dir of the root key>/<name>.key.json)', placeholder: 'file' },
    valid: { type: 'string', description: 'validity (default 365d)', placeholder: 'duration' },
    offline: { type: 'boolean', description: 'do not publish the certificate to the key bucket' },
    json: { type: 'boolean', description: 'the result as one JSON object' },
  },
  examples: ['fleetvisor keys create --role operate --name alice', 'fleetvisor keys create --role chain-watcher --name chain-watcher-1 --out /etc/fleetvisor/chain-watcher.key.json'],
  async run({ options, io }) {
    const role = options.role as KeyRole | undefined;
    if (!role || !KEY_ROLES.includes(role)) throw new UsageError(`--role must be one of ${KEY_ROLES.join(', ')}`);
    const name = keyName(options.name, '--name');
    const root = rootKey(options['root-key']);
    const validityMs = options.valid === undefined ? undefined : parseDuration(options.valid);
    if (options.valid !== undefined && (validityMs === undefined || validityMs < 60_000)) throw new UsageError(`--valid must be a duration of at least 1m (e.g. 90d), got "${options.valid}"`);
    const doc = newKeyFile(keyPairOf(root.doc), generateKeyPair(), name, role, validityMs ? { validityMs } : {});
    const out = options.out ?? path.join(path.dirname(root.file), `${name}.key.json`);
    writeKeyFile(out, doc);
    let published = false;
    if (!options.offline) {
      await withKeyBucket(async (kv) => {
        await kv.put(`cert.${doc.kid}`, JSON.stringify(doc.cert));
      });
      published = true;
    }
    print(io, options.json === true, { kid: doc.kid, name, role, keyFile: out, notAfter: doc.cert.notAfter, published }, `key ${doc.kid} for ${name} (role ${role}), valid until ${doc.cert.notAfter}\n  key file: ${out}  -> FLEETVISOR_SIGNING_KEY_FILE of ${name}\n${published ? '  certificate published to the key bucket\n' : ''}`);
  },
});

export const keysListCommand = defineCliCommand({
  path: ['keys', 'list'],
  summary: "The fleet's key certificates and revocations (from the key bucket)",
  options: { json: { type: 'boolean', description: 'one JSON object: { keys: [...] }' } },
  examples: ['fleetvisor keys list', 'fleetvisor keys list --json'],
  async run({ options, io }) {
    const certs = new Map<string, KeyCertificate>();
    const revoked = new Map<string, KeyRevocation>();
    await withKeyBucket(async (kv) => {
      // The names first: a get inside the keys() iteration cuts the listing short.
      const names: string[] = [];
      for await (const key of await kv.keys()) names.push(key);
      for (const key of names) {
        const entry = await kv.get(key);
        if (!entry || entry.operation !== 'PUT') continue;
        const value = JSON.parse(entry.string()) as KeyCertificate & KeyRevocation;
        if (key.startsWith('cert.')) certs.set(value.kid, value);
        else if (key.startsWith('revoked.')) revoked.set(value.kid, value);
      }
    });
    const rows = [...certs.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => ({ kid: c.kid, name: c.name, role: c.role, notAfter: c.notAfter, ...(revoked.has(c.kid) ? { revokedAt: revoked.get(c.kid)!.revokedAt } : {}) }));
    if (options.json) return void io.out(JSON.stringify({ keys: rows }) + '\n');
    const lines = [['KID', 'NAME', 'ROLE', 'VALID UNTIL', 'REVOKED'], ...rows.map((r) => [r.kid, r.name, r.role, r.notAfter, r.revokedAt ?? '-'])];
    const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
    io.out(lines.map((l) => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
  },
});

export const keysRevokeCommand = defineCliCommand({
  path: ['keys', 'revoke'],
  args: '<kid>',
  summary: 'Revoke a key: every process refuses it from the moment the revocation reaches it (over the bus)',
  options: {
    'root-key': { type: 'string', description: `the root key file (default ${path.join(DEFAULT_DIR, 'admin.key.json')})`, placeholder: 'file' },
    reason: { type: 'string', description: 'why (kept with the revocation)', placeholder: 'text' },
    json: { type: 'boolean', description: 'the result as one JSON object' },
  },
  examples: ['fleetvisor keys revoke fv1AbCdEfGhIjKlMnOpQrStUv --reason "laptop lost"'],
  async run({ options, positionals, io }) {
    const kid = positionals[0];
    if (positionals.length !== 1 || kid === undefined || !isKeyId(kid)) throw new UsageError('expected one key id (fv1 + 22 characters; see `fleetvisor keys list`)');
    const root = rootKey(options['root-key']);
    const revocation = signRevocation(keyPairOf(root.doc), kid, options.reason ? { reason: options.reason } : {});
    // What every process will check: signed by a root it trusts.
    const check = new TrustVerifier([root.doc.publicKey]).addRevocation(revocation);
    if (!check.ok) throw new Error(`the revocation does not verify: ${check.reason}`);
    await withKeyBucket(async (kv) => {
      await kv.put(`revoked.${kid}`, JSON.stringify(revocation));
    });
    print(io, options.json === true, revocation, `revoked ${kid}${options.reason ? ` (${options.reason})` : ''}\n`);
  },
});
