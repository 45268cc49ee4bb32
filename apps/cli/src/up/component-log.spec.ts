import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { relayComponentLine } from './component-log';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, dest), lines };
}

describe('relayComponentLine', () => {
  it('passes a component JSON log line on at its level, tagged with the process, keeping its fields', () => {
    const { logger, lines } = capture();
    relayComponentLine(logger, 'chain-watcher', JSON.stringify({ level: 40, time: 1, pid: 9, hostname: 'h', msg: 'rpc failed', component: 'rpc', endpoint: 'http://a' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'rpc failed', process: 'chain-watcher', component: 'rpc', endpoint: 'http://a' });
    expect(lines[0]!['pid']).toBe(process.pid);
  });

  it('passes other text on as an info line and skips blank lines', () => {
    const { logger, lines } = capture();
    relayComponentLine(logger, 'worker-agent w-01', 'plain text {not json');
    relayComponentLine(logger, 'worker-agent w-01', '   ');
    relayComponentLine(logger, 'worker-agent w-01', '[1,2]');
    expect(lines.map((l) => [l['level'], l['msg'], l['process']])).toEqual([
      [30, 'plain text {not json', 'worker-agent w-01'],
      [30, '[1,2]', 'worker-agent w-01'],
    ]);
  });
});
