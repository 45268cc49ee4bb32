import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { CommandFailure, validationError } from './command-bus';

describe('CommandFailure', () => {
  it('carries a snake_case code', () => {
    const f = new CommandFailure('not_found', 'worker #3 not found');
    expect(f).toBeInstanceOf(Error);
    expect(f.code).toBe('not_found');
    expect(f.message).toBe('worker #3 not found');
  });

  it('refuses codes a CommandReply could not carry', () => {
    expect(() => new CommandFailure('NotFound', 'x')).toThrow(/snake_case/);
    expect(() => new CommandFailure('', 'x')).toThrow(/snake_case/);
  });
});

describe('validationError', () => {
  const schema = Type.Object({ worker: Type.String({ minLength: 1 }), index: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });

  it('is undefined for a valid value', () => {
    expect(validationError(schema, { worker: 'w', index: 0 }, 'request')).toBeUndefined();
  });

  it('names the first offending path', () => {
    expect(validationError(schema, { worker: 'w', index: -1 }, 'request')).toMatch(/^request at \/index: /);
    expect(validationError(schema, { worker: 'w', index: 1, extra: true }, 'request')).toMatch(/^request at \/extra/);
    expect(validationError(schema, 'nope', 'request')).toMatch(/^request/);
  });
});
