// Throwaway credentials for tests of authenticated and encrypted connections: a CA with server and
// client certificates (openssl), NATS server configurations for each kind of client credential
// (user/password, token, NKey, operator mode with a memory resolver and .creds), and the settings
// of a private Postgres with password (scram-sha-256) and TLS logins. Everything is made fresh in a
// temp folder per test run; nothing here is fit for production.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createUser as createNkeyUser } from 'nkeys.js';
import { isRoot, lookupOsUser, removeTreeSync } from './private-process';

/** A temp folder every server user can read (Postgres runs as its own OS user). */
export function credentialsDir(prefix = 'fv-creds-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return { dir, remove: () => removeTreeSync(dir) };
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${stderr || (e as Error).message}`);
  }
}

export interface TestCertificateAuthority {
  /** PEM of the CA certificate: what a client trusts. */
  readonly caFile: string;
  /** Issues a certificate (P-256 key) for 127.0.0.1 / localhost, for a server or a client. */
  issue(name: string, use: 'server' | 'client'): { certFile: string; keyFile: string };
}

/** A self-signed CA valid for a day, in `dir`. */
export function createTestCa(dir: string, name = 'ca'): TestCertificateAuthority {
  const caKey = path.join(dir, `${name}.key`);
  const caFile = path.join(dir, `${name}.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '1', '-subj', `/CN=fleetvisor test ${name}`], dir);
  return {
    caFile,
    issue(certName, use) {
      const keyFile = path.join(dir, `${certName}.key`);
      const csr = path.join(dir, `${certName}.csr`);
      const certFile = path.join(dir, `${certName}.pem`);
      const ext = path.join(dir, `${certName}.ext`);
      writeFileSync(ext, `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${use === 'server' ? 'serverAuth' : 'clientAuth'}\n`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${certName}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '1', '-extfile', ext], dir);
      chmodSync(keyFile, 0o644); // read by a server running as another OS user
      return { certFile, keyFile };
    },
  };
}

/** nats-server `tls` block: server certificate, and client certificates required and checked against `clientCaFile`. */
export function natsTlsConfig(server: { certFile: string; keyFile: string }, clientCaFile: string): string {
  return `tls {\n  cert_file: ${JSON.stringify(server.certFile)}\n  key_file: ${JSON.stringify(server.keyFile)}\n  ca_file: ${JSON.stringify(clientCaFile)}\n  verify: true\n  timeout: 2\n}\n`;
}

export function natsUserPasswordConfig(user: string, password: string): string {
  return `authorization {\n  user: ${JSON.stringify(user)}\n  password: ${JSON.stringify(password)}\n}\n`;
}

export function natsTokenConfig(token: string): string {
  return `authorization {\n  token: ${JSON.stringify(token)}\n}\n`;
}

/** A fresh NKey user: the server config naming its public key, and the seed a client signs with. */
export function natsNkeySetup(): { config: string; seed: string; publicKey: string } {
  const kp = createNkeyUser();
  const publicKey = kp.getPublicKey();
  return { config: `authorization {\n  users: [ { nkey: ${publicKey} } ]\n}\n`, seed: new TextDecoder().decode(kp.getSeed()), publicKey };
}

/**
 * Operator mode: an operator, one account it signed (preloaded in a memory resolver) and a user of
 * that account (its .creds). `strangerCreds` is a user of an account the server does not know.
 */
export async function natsOperatorSetup(): Promise<{ config: string; creds: string; strangerCreds: string }> {
  const operator = createOperator();
  const account = createAccount();
  const user = createUser();
  const operatorJwt = await encodeOperator('fleetvisor-test', operator);
  // Without explicit limits an account JWT allows no connection at all.
  const unlimited = { conn: -1, leaf: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true };
  const accountJwt = await encodeAccount('FLEET', account, { limits: unlimited }, { signer: operator });
  const userJwt = await encodeUser('fleet-user', user, account, { subs: -1, data: -1, payload: -1 });
  const stranger = createUser();
  const strangerAccount = createAccount();
  const strangerJwt = await encodeUser('stranger', stranger, strangerAccount);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    config: `operator: ${operatorJwt}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt}\n}\n`,
    creds: text(fmtCreds(userJwt, user)),
    strangerCreds: text(fmtCreds(strangerJwt, stranger)),
  };
}

/**
 * Settings for startPrivatePostgres: the superuser `postgres` keeps trust logins (the harness's
 * own checks use it), every other role logs in with a scram-sha-256 password; `tlsOnlyRoles` may
 * log in over TLS only. With `tls`, the server serves that certificate.
 */
export function postgresAuthSettings(dir: string, opts: { tls?: { certFile: string; keyFile: string }; tlsOnlyRoles?: string[] } = {}): Record<string, string> {
  const hba = path.join(dir, 'pg_hba.conf');
  const tlsOnly = opts.tlsOnlyRoles ?? [];
  writeFileSync(
    hba,
    [
      'local all all trust',
      'host all postgres 127.0.0.1/32 trust',
      ...tlsOnly.flatMap((r) => [`hostssl all ${r} 127.0.0.1/32 scram-sha-256`, `host all ${r} 127.0.0.1/32 reject`]),
      'host all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  chmodSync(hba, 0o644);
  const settings: Record<string, string> = { hba_file: hba, password_encryption: 'scram-sha-256' };
  if (opts.tls) {
    // Postgres refuses a key file others can read, or one it does not own.
    chmodSync(opts.tls.keyFile, 0o600);
    const owner = isRoot() ? lookupOsUser('postgres') : undefined;
    if (owner) chownSync(opts.tls.keyFile, owner.uid, owner.gid);
    Object.assign(settings, { ssl: 'on', ssl_cert_file: opts.tls.certFile, ssl_key_file: opts.tls.keyFile });
  }
  return settings;
}
