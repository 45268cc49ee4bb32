import { describe, expect, it } from 'vitest';
import { HomeError } from '../home/runner-home-errors';
import { AttentionWatch, excerptOf, MAX_EXCERPT, MAX_LINE_BYTES, parseAttentionRules, rulesFor, type OpenProblem } from './attention';

// The line venus-wallet prints for every sign request while it holds no password (seed 001).
const WALLET_LINE =
  '2026-12-07T08:00:00.000+0800\tERROR\twallet_event\twallet_event/listenevent.go:236\tWalletSign error password not set\t{"api hub": "/dns/gateway.filincubator.com/tcp/83/wss"}';
const RAND_LINE = 'INFO\twallet_event\twallet_event/listenevent.go:184\t\t{"rand sign byte": "TCzGneQnvI2N6LqBVf0AHwaEr+NueDnk1aCSo+1G3SA="}';

function watch(kind: Parameters<typeof rulesFor>[0], opts: { now?: () => number; repeatMs?: number; report?: boolean; secrets?: string[] } = {}) {
  const seen: OpenProblem[] = [];
  const w = new AttentionWatch({
    service: 'wallet-1',
    rules: rulesFor(kind, undefined),
    onProblem: (p) => {
      seen.push(p);
      return opts.report ?? true;
    },
    ...(opts.secrets ? { secrets: () => opts.secrets! } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.repeatMs !== undefined ? { repeatMs: opts.repeatMs } : {}),
  });
  return { w, seen };
}

describe('attention patterns', () => {
  it("venus-wallet's \"password not set\" becomes one problem naming set-password for the service, however often and however chunked it is printed", () => {
    const { w, seen } = watch('venus-wallet');
    const text = `${WALLET_LINE}\n${RAND_LINE}\n`.repeat(20);
    // Fed in 7-byte pieces: a line split across chunks still matches once.
    for (let i = 0; i < text.length; i += 7) w.feed(Buffer.from(text.slice(i, i + 7)));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.rule.id).toBe('venus-wallet.password-not-set');
    expect(seen[0]!.remedy).toBe('fleetvisor secrets set-password wallet-1');
    expect(seen[0]!.excerpt).toContain('WalletSign error password not set');
    expect(w.current().map((p) => p.rule.id)).toEqual(['venus-wallet.password-not-set']);
  });

  it('a new run reports again, but not within repeatMs of the last report (a crash loop prints it at every start)', () => {
    let now = 1_000_000;
    const { w, seen } = watch('venus-wallet', { now: () => now, repeatMs: 60_000 });
    w.feed(`${WALLET_LINE}\n`);
    w.newRun();
    expect(w.current()).toEqual([]);
    now += 10_000;
    w.feed(`${WALLET_LINE}\n`);
    expect(seen).toHaveLength(1);
    // Still shown as open in this run, though not reported again.
    expect(w.current()).toHaveLength(1);
    w.newRun();
    now += 60_000;
    w.feed(`${WALLET_LINE}\n`);
    expect(seen).toHaveLength(2);
  });

  it('a problem the runner handles itself (onProblem returns false) is not rate-limited, and report() records it when that fails', () => {
    const seen: string[] = [];
    let handled = true;
    const w = new AttentionWatch({
      service: 'wallet-1',
      rules: rulesFor('venus-wallet', undefined),
      onProblem: (p) => {
        seen.push(p.rule.id);
        return !handled;
      },
    });
    w.feed(`${WALLET_LINE}\n`);
    handled = false;
    expect(w.report('venus-wallet.password-not-set')).toBeDefined();
    expect(seen).toEqual(['venus-wallet.password-not-set', 'venus-wallet.password-not-set']);
    expect(w.clear('set-password').map((p) => p.rule.id)).toEqual(['venus-wallet.password-not-set']);
    expect(w.current()).toEqual([]);
  });

  it('damocles-manager patterns match the lines its source logs; lavap has none', () => {
    const { w, seen } = watch('damocles-manager');
    w.feed('WARN\tposter\tposter/poster.go:219\tpost is enabled, but no any valid senders\t{"miner": 1000, "err": "no sender"}\n');
    w.feed('ERROR\tposter\tgenerate window post failed: got 3 fault sectors\n');
    expect(seen.map((p) => p.rule.id)).toEqual(['damocles-manager.no-post-sender', 'damocles-manager.fault-sectors']);
    const lavap = watch('lavap');
    expect(lavap.w.active).toBe(false);
  });

  it('a line is matched on its first MAX_LINE_BYTES only, and an endless line without newline is not buffered', () => {
    const { w, seen } = watch('venus-wallet');
    w.feed(`${'x'.repeat(MAX_LINE_BYTES)} password not set\n`);
    expect(seen).toHaveLength(0);
    for (let i = 0; i < 100; i++) w.feed('y'.repeat(64 * 1024));
    // The partial line stays capped: what follows its end still starts a line of its own.
    w.feed(`\n${WALLET_LINE}\n`);
    expect(seen).toHaveLength(1);
  });

  it('an excerpt has tokens, keys, long hex/base64 and known secrets blanked, and is capped', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19.q3xz5oucOoT3xwMTct8pWMBrvhi';
    const line = `password not set token=${jwt} pwd: hunter2hunter2 key 7b2254797065223a22626c73222c22626c7322 ${RAND_LINE} my-own-secret-77`;
    const e = excerptOf(line, ['my-own-secret-77']);
    for (const secret of [jwt, 'hunter2hunter2', '7b2254797065223a22626c73222c22626c7322', 'TCzGneQnvI2N6LqBVf0AHwaEr+NueDnk1aCSo+1G3SA=', 'my-own-secret-77']) expect(e).not.toContain(secret);
    expect(e).toContain('password not set');
    expect(excerptOf('a'.repeat(5000)).length).toBeLessThanOrEqual(MAX_EXCERPT);
    const { w, seen } = watch('venus-wallet', { secrets: ['S3cret-Pw'] });
    w.feed('WalletSign error password not set (tried S3cret-Pw)\n');
    expect(seen[0]!.excerpt).not.toContain('S3cret-Pw');
  });
});

describe('attention configuration', () => {
  it('configured patterns extend the built-in ones; the same id replaces one', () => {
    const rules = parseAttentionRules(
      [
        { id: 'venus-wallet.password-not-set', pattern: 'pw missing', problem: 'no password', remedy: 'fleetvisor secrets set-password {service}' },
        { id: 'disk-full', pattern: 'no space left on device', problem: 'the disk is full', remedy: 'free space on the repo disk' },
      ],
      'wallet-1.yml',
    );
    const all = rulesFor('venus-wallet', rules);
    expect(all.map((r) => r.id)).toEqual(['venus-wallet.password-not-set', 'disk-full']);
    expect(all[0]!.pattern.source).toBe('pw missing');
  });

  it('bad entries are refused with the file and the field', () => {
    const bad: [unknown, RegExp][] = [
      ['x', /attention must be a list/],
      [[{ id: 'a', pattern: '(', problem: 'p', remedy: 'r' }], /attention\[0\]\.pattern is not a regular expression/],
      [[{ id: 'a b', pattern: 'x', problem: 'p', remedy: 'r' }], /attention\[0\]\.id/],
      [[{ id: 'a', pattern: 'x', problem: '', remedy: 'r' }], /attention\[0\]\.problem/],
      [[{ id: 'a', pattern: 'x', problem: 'p', remedy: 'r', extra: 1 }], /unknown key extra/],
      [
        [
          { id: 'a', pattern: 'x', problem: 'p', remedy: 'r' },
          { id: 'a', pattern: 'y', problem: 'p', remedy: 'r' },
        ],
        /used twice/,
      ],
      [Array.from({ length: 33 }, (_, i) => ({ id: `r${i}`, pattern: 'x', problem: 'p', remedy: 'r' })), /at most 32/],
    ];
    for (const [v, msg] of bad) {
      expect(() => parseAttentionRules(v, 'wallet-1.yml')).toThrow(HomeError);
      expect(() => parseAttentionRules(v, 'wallet-1.yml')).toThrow(msg);
    }
  });
});
