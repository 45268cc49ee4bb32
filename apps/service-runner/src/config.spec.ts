import { describe, expect, it } from 'vitest';
import { loadRunnerConfig } from './config';

describe('loadRunnerConfig', () => {
  it('reads no database setting: a host holds only NATS credentials (ADR 0006)', () => {
    const c = loadRunnerConfig({
      HOME: '/home/op',
      FLEETVISOR_HOST: 'h1',
      // Broken on purpose: a runner that read them would refuse to start.
      FLEETVISOR_DATABASE_URL: 'mysql://u:pw@h/db',
      FLEETVISOR_DATABASE_PASSWORD_FILE: '/nonexistent/pw',
      FLEETVISOR_NATS_URL: 'nats://nats.example:4222',
      FLEETVISOR_NATS_USER: 'runner-h1',
      FLEETVISOR_NATS_PASSWORD: 'n4ts',
    });
    expect(c.core).not.toHaveProperty('databaseUrl');
    expect(c.core).not.toHaveProperty('database');
    expect(c.core).toMatchObject({ natsUrl: 'nats://nats.example:4222', host: 'h1' });
    // What install-systemd writes into the unit's environment file: the bus settings only.
    expect(c.connectionSettings).toEqual({ FLEETVISOR_NATS_URL: 'nats://nats.example:4222', FLEETVISOR_NATS_USER: 'runner-h1', FLEETVISOR_NATS_PASSWORD: 'n4ts' });
  });
});
