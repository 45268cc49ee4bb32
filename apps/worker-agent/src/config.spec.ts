import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkerAgentConfig } from './config';

const host = () => 'sealer-07';

describe('loadWorkerAgentConfig', () => {
  it('defaults: name = host name, simulated source, 10 s reports', () => {
    const c = loadWorkerAgentConfig({}, host);
    expect(c).toMatchObject({ name: 'sealer-07', dest: 'sealer-07:17890', source: 'simulated', reportIntervalMs: 10_000, core: { natsUrl: 'nats://127.0.0.1:4222', subjectRoot: 'fleet' } });
    expect(c.sim).toMatchObject({ threads: 8, stepMs: 5000, jitter: 0.2, seed: undefined });
  });

  it('bridge mode takes dest from the admin URL', () => {
    const c = loadWorkerAgentConfig({ FLEETVISOR_WORKER_SOURCE: 'bridge', FLEETVISOR_WORKER_ADMIN_URL: 'http://10.0.0.5:17890/' }, host);
    expect(c).toMatchObject({ source: 'bridge', adminUrl: 'http://10.0.0.5:17890/', dest: '10.0.0.5:17890' });
  });

  it('names the variable in every error', () => {
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_NAME: 'bad name' }, host)).toThrow(/^FLEETVISOR_WORKER_NAME: /);
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_SOURCE: 'x' }, host)).toThrow(/^FLEETVISOR_WORKER_SOURCE: expected one of simulated, bridge/);
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_REPORT_INTERVAL: 'soon' }, host)).toThrow(/^FLEETVISOR_WORKER_REPORT_INTERVAL: /);
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_SIM_JITTER: '2' }, host)).toThrow(/^FLEETVISOR_WORKER_SIM_JITTER: expected a number from 0 to 1/);
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_SIM_PLANS: 'sealer,wdpost' }, host)).toThrow(/^FLEETVISOR_WORKER_SIM_PLANS: "wdpost"/);
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_SIM_THREADS: '0' }, host)).toThrow(/^FLEETVISOR_WORKER_SIM_THREADS: must be >= 1/);
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_ADMIN_URL: 'ftp://x' }, host)).toThrow(/^FLEETVISOR_WORKER_ADMIN_URL: /);
  });

  it('reads no database setting: an agent holds only NATS credentials (a broken FLEETVISOR_DATABASE_* is not even looked at)', () => {
    const c = loadWorkerAgentConfig({ FLEETVISOR_DATABASE_URL: 'mysql://u:pw@h/db', FLEETVISOR_DATABASE_PASSWORD_FILE: '/nonexistent/pw', FLEETVISOR_DATABASE_SSLMODE: 'bogus' }, host);
    expect(c.core).not.toHaveProperty('databaseUrl');
    expect(c.core).not.toHaveProperty('database');
    expect(JSON.stringify(c)).not.toMatch(/postgres|mysql|DATABASE/i);
  });

  it('sector stores: FLEETVISOR_WORKER_STORES, then the damocles-worker configuration\'s stores, each once', () => {
    expect(loadWorkerAgentConfig({}, host)).toMatchObject({ stores: [], sectorCheckTimeoutMs: 10_000 });
    const dir = mkdtempSync(path.join(tmpdir(), 'fv-agent-cfg-'));
    try {
      mkdirSync(path.join(dir, 'persist'));
      const toml = path.join(dir, 'damocles-worker.toml');
      writeFileSync(toml, `[[attached]]\nname = "p1"\nlocation = "${dir}/persist"\n\n[[attached]]\nlocation = "/mnt/a"\n`);
      const c = loadWorkerAgentConfig({ FLEETVISOR_WORKER_STORES: ' /mnt/a, /mnt/b/ ', FLEETVISOR_WORKER_DAMOCLES_CONFIG: toml, FLEETVISOR_WORKER_SECTOR_CHECK_TIMEOUT: '3s' }, host);
      expect(c.stores).toEqual([
        { location: '/mnt/a', from: 'FLEETVISOR_WORKER_STORES' },
        { location: '/mnt/b', from: 'FLEETVISOR_WORKER_STORES' },
        { location: path.join(dir, 'persist'), from: 'damocles store p1' },
      ]);
      expect(c.sectorCheckTimeoutMs).toBe(3000);
      writeFileSync(toml, '[[attached]]\nlocation = \n');
      expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_DAMOCLES_CONFIG: toml }, host)).toThrow(/^FLEETVISOR_WORKER_DAMOCLES_CONFIG: cannot read the stores of .*line 2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_STORES: 'relative/dir' }, host)).toThrow(/^FLEETVISOR_WORKER_STORES: "relative\/dir" is not an absolute directory/);
    expect(() => loadWorkerAgentConfig({ FLEETVISOR_WORKER_DAMOCLES_CONFIG: '/nonexistent/damocles-worker.toml' }, host)).toThrow(/^FLEETVISOR_WORKER_DAMOCLES_CONFIG: .*ENOENT/);
  });
});
