import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { PinoNestLogger } from './nest-logger';

describe('PinoNestLogger', () => {
  it("writes Nest's messages as JSON lines with the Nest context and error stacks", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _e, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const nest = new PinoNestLogger(createLogger({ name: 'svc', level: 'debug', format: 'json', destination }));
    nest.log('Nest application successfully started', 'NestApplication');
    nest.error('boom', 'Error: boom\n    at x (y.ts:1:1)', 'ExceptionHandler');
    nest.verbose('hidden at debug', 'X');
    const recs = lines.map((l) => JSON.parse(l));
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ level: 20, component: 'nest:NestApplication', msg: 'Nest application successfully started' });
    expect(recs[1]).toMatchObject({ level: 50, component: 'nest:ExceptionHandler', msg: 'boom' });
    expect(recs[1].stack).toMatch(/at x \(y\.ts/);
  });
});
