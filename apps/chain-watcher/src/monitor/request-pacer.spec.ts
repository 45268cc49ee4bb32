import { describe, expect, it } from 'vitest';
import { RequestPacer } from './request-pacer';

describe('RequestPacer', () => {
  it('lets a second’s worth through at once, then one request per 1/rate', async () => {
    let t = 0;
    const pacer = new RequestPacer(4, () => t);
    for (let i = 0; i < 4; i++) await pacer.take();
    let fifth = false;
    const pending = pacer.take().then(() => (fifth = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(fifth).toBe(false);
    t = 250; // a quarter second later, one more token
    await pending;
    expect(fifth).toBe(true);
  });
});
