import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON lines at the configured level with the process name', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 'test-app', level: 'warn', format: 'auto', destination });
    log.info('hidden');
    log.warn({ stream: 'host-a' }, 'shown');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!);
    expect(rec).toMatchObject({ name: 'test-app', msg: 'shown', stream: 'host-a', level: 40 });
  });

  it('redacts secrets by key, top level and one level down', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 't', level: 'info', format: 'json', destination });
    log.info({ password: 'p1', keyring: { passphrase: 'p2' }, req: { token: 't3' } }, 'login');
    expect(lines[0]).not.toMatch(/p1|p2|t3/);
    expect(JSON.parse(lines[0]!).keyring.passphrase).toBe('[redacted]');
  });
});
