// Issue 17: docker/compose.yml is a deployable multi-host layout. No Docker engine runs here, so
// the file is checked for what would make it fail or leak when one does: it is valid against the
// Compose specification's JSON Schema; NATS is pinned to the version these tests run; every long-
// running Fleetvisor container has a restart policy and a health check, and starts only after
// migrate; no secret is written in it; every Fleetvisor command it runs exists; and each container's
// NATS identity (seed and inbox prefix) and the NATS node configs are exactly what
// `fleetvisor nats-config --cluster` writes for this layout.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findNatsServer, inheritedEnvironment } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const run = promisify(execFile);
// dclint exports neither its schema nor its program as subpaths: find them beside its manifest.
const DCLINT = path.join(ROOT, 'node_modules/dclint');

interface Service {
  image?: string;
  command?: string[];
  restart?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  environment?: Record<string, string>;
  secrets?: (string | { source: string; target?: string })[];
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

const text = readFileSync(path.join(ROOT, 'docker/compose.yml'), 'utf8');
// Merge keys (<<: *anchor) resolved as Compose resolves them.
const compose = parse(text, { merge: true }) as Compose;
const fleetvisorServices = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('fleetvisor:'));
const secretSource = (s: string | { source: string }): string => (typeof s === 'string' ? s : s.source);
const secretTarget = (s: string | { source: string; target?: string }): string => (typeof s === 'string' ? `/run/secrets/${s}` : (s.target ?? `/run/secrets/${s.source}`));

describe('docker/compose.yml', () => {
  it('is valid against the Compose specification', () => {
    // The Compose specification's schema as dclint (a Compose linter) carries it: draft-07.
    const schema = JSON.parse(readFileSync(path.join(DCLINT, 'schemas/compose.schema.json'), 'utf8')) as Record<string, unknown>;
    delete schema['$schema'];
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    // Validated as Compose reads it: anchors expanded and merge keys (<<) merged.
    const ok = validate(parse(text, { merge: true }));
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.map((e) => ({ at: e.instancePath, message: e.message, params: e.params })), null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("passes the Compose linter's error rules (dclint)", async () => {
    const r = await run(process.execPath, [path.join(DCLINT, 'bin/dclint.cjs'), '-q', path.join(ROOT, 'docker/compose.yml')], { env: inheritedEnvironment() }).catch((e: { stdout?: string; code?: number }) => ({ stdout: e.stdout ?? '', code: e.code }));
    expect(r.stdout.trim()).toBe('');
  });

  it('pins NATS to the version the tests run, three nodes of one cluster', async () => {
    const { stdout } = await run(findNatsServer(), ['--version']);
    const version = /v(\d+\.\d+\.\d+)/.exec(stdout)![1]!;
    const nats = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('nats:'));
    expect(nats.map(([n]) => n)).toEqual(['nats-1', 'nats-2', 'nats-3']);
    for (const [, s] of nats) expect(s.image).toBe(`nats:${version}-alpine`);
  });

  it('restarts and health-checks every long-running Fleetvisor container, after migrate', () => {
    expect(fleetvisorServices.length).toBeGreaterThanOrEqual(12);
    for (const [name, s] of fleetvisorServices) {
      if (name === 'migrate') {
        expect(s.restart).toBe('no');
        expect(s.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, 'nats-1': { condition: 'service_healthy' } });
        continue;
      }
      expect(s.restart, name).toBe('unless-stopped');
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect(s.healthcheck?.test?.join(' '), name).toContain('healthcheck.js');
      // What the image's check asks: a URL, given or derived from the health server's address.
      const env = s.environment ?? {};
      const probed = s.healthcheck!.test!.some((w) => w.startsWith('http://')) || env['FLEETVISOR_HEALTHCHECK_URL'] !== undefined || env['FLEETVISOR_HEALTH_LISTEN'] !== undefined;
      expect(probed, `${name} names no health endpoint`).toBe(true);
      if (name !== 'devnet') expect(s.depends_on, name).toMatchObject({ migrate: { condition: 'service_completed_successfully' } });
    }
    expect(compose.services['chain-watcher-b']?.command).toEqual(compose.services['chain-watcher-a']?.command);
    expect(compose.services['worker-registry-b']?.command).toEqual(compose.services['worker-registry-a']?.command);
    expect(compose.services['gateway-b']?.command).toEqual(compose.services['gateway-a']?.command);
  });

  it('holds no secret: credentials come from secret files only', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|TOKEN|SEED|SECRET|PRIVATE|_KEY$/.test(key)) expect(key, `${name}: ${key}`).toMatch(/_FILE$/);
        expect(String(value), `${name}: ${key}`).not.toMatch(/^S[UOA][A-Z2-7]{56}$|:\/\/[^/@\s]+:[^/@\s]+@/);
      }
      for (const ref of s.secrets ?? []) expect(compose.secrets[secretSource(ref)], `${name}: secret ${secretSource(ref)}`).toBeDefined();
    }
    for (const [name, secret] of Object.entries(compose.secrets)) expect(secret.file, name).toMatch(/^\.\/(secrets|generated)\//);
    const ignored = readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['docker/secrets/', 'docker/generated/']));
  });

  it('runs only commands that exist', async () => {
    const commands = new Set(fleetvisorServices.map(([, s]) => (s.command ?? []).filter((w) => !w.startsWith('-')).slice(0, 2).join(' ')));
    for (const c of commands) {
      const words = c.split(' ').filter((w) => w !== '' && !w.startsWith('/'));
      const r = await run(process.execPath, [CLI, ...words, '--help'], { env: inheritedEnvironment() }).catch((e: { stderr?: string }) => ({ stdout: '', stderr: e.stderr ?? 'failed' }));
      // The command's own usage, not the top-level one an unknown command falls back to.
      expect(r.stdout.split('\n')[0], `fleetvisor ${words.join(' ')}: ${r.stderr}`).toMatch(new RegExp(`^Usage: fleetvisor ${words.join(' ')}( |$)`));
    }
  });

  describe('NATS identities', () => {
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'fv-compose-nats-'));
      // The set-up step of docs/deployment.md, for this layout's hosts and workers.
      await run(process.execPath, [
        CLI, 'nats-config', '--dir', dir, '--cluster', 'fleet',
        '--node', 'nats-1=nats-1', '--node', 'nats-2=nats-2', '--node', 'nats-3=nats-3',
        '--monitor-listen', '0.0.0.0:8222', '--seeds-at', '/run/secrets',
        '--host', 'host-1', '--host', 'host-2', '--worker', 'w-01', '--worker', 'w-02',
      ], { env: inheritedEnvironment() });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('gives each container the seed and inbox prefix nats-config writes for it, and each node its config', () => {
      for (const [name, secret] of Object.entries(compose.secrets)) {
        if (!secret.file.startsWith('./generated/nats/')) continue;
        // The file the set-up step writes exists under that name.
        expect(() => readFileSync(path.join(dir, secret.file.slice('./generated/nats/'.length))), name).not.toThrow();
      }
      // Everything on the bus; the simulated chain (devnet) is not.
      for (const [name, s] of fleetvisorServices.filter(([n]) => n !== 'devnet')) {
        const env = s.environment ?? {};
        const seedFile = env['FLEETVISOR_NATS_NKEY_SEED_FILE'];
        expect(seedFile, name).toBeDefined();
        const ref = (s.secrets ?? []).find((r) => secretTarget(r) === seedFile);
        expect(ref, `${name} mounts ${seedFile}`).toBeDefined();
        const identity = path.basename(compose.secrets[secretSource(ref!)]!.file, '.nk');
        const written = readFileSync(path.join(dir, 'identities', `${identity}.env`), 'utf8');
        expect(written, name).toContain(`FLEETVISOR_NATS_NKEY_SEED_FILE=/run/secrets/${identity}.nk`);
        expect(written, name).toContain(`FLEETVISOR_NATS_INBOX_PREFIX=${env['FLEETVISOR_NATS_INBOX_PREFIX']}\n`);
        if (identity.startsWith('runner-')) expect(written, name).toContain(`FLEETVISOR_HOST=${env['FLEETVISOR_HOST']}\n`);
        if (identity.startsWith('agent-')) expect(written, name).toContain(`FLEETVISOR_WORKER_NAME=${env['FLEETVISOR_WORKER_NAME']}\n`);
      }
    });
  });
});
