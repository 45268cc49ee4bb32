import { describe, expect, it } from 'vitest';
import { SseParser, type SseMessage } from './sse';

function parse(chunks: string[]): { got: SseMessage[]; parser: SseParser } {
  const got: SseMessage[] = [];
  const parser = new SseParser((m) => got.push(m));
  for (const c of chunks) parser.push(c);
  return { got, parser };
}

describe('SseParser', () => {
  it('dispatches on a blank line, with the id, across arbitrary chunk boundaries and line ends', () => {
    const { got, parser } = parse([': hello\n\nid: 1:1\nda', 'ta: {"a":1}\r', '\n\r\nid: 2:5\r', 'data: x\rdata: y\n\n']);
    expect(got).toEqual([
      { id: '1:1', event: 'message', data: '{"a":1}' },
      { id: '2:5', event: 'message', data: 'x\ny' },
    ]);
    expect(parser.lastEventId).toBe('2:5');
  });

  it('keeps the last id for messages without one, ignores comments and unknown fields, and holds an unfinished message', () => {
    const { got } = parse(['id: 7\ndata: a\n\nretry: 10\nfoo: bar\ndata: b\n\nevent: ping\ndata:c\n\ndata: unfinished']);
    expect(got).toEqual([
      { id: '7', event: 'message', data: 'a' },
      { id: '7', event: 'message', data: 'b' },
      { id: '7', event: 'ping', data: 'c' },
    ]);
  });
});
