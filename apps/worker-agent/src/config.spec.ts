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
});
