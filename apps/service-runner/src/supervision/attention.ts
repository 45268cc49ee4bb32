// Known trouble in a service's output, turned into ServiceNeedsAttention with its remedy. The
// patterns come built in per kind of service (what the venus components print when an operator
// must act, read in their upstream source) and from the service's definition (`attention:`).
// Cost is bounded whatever the child prints: lines are cut at MAX_LINE_BYTES before matching, a
// partial line is kept only up to that size, each problem is reported once per process run, and at
// most once per `repeatMs` across runs (a crash loop prints the same line at every start).
import { HomeError } from '../home/runner-home-errors';

/** A line longer than this is matched on its first MAX_LINE_BYTES characters. */
export const MAX_LINE_BYTES = 4096;
/** Longest excerpt of the matching line kept in the event. */
export const MAX_EXCERPT = 300;
/** At most this many patterns per service (each line is tested against every one). */
export const MAX_RULES = 32;
/** The same problem is recorded again in a later run only after this long. */
export const DEFAULT_REPEAT_MS = 60_000;

/** What fixes a problem, when the runner can apply it itself once the operator provided the means. */
export type RemedyKind = 'set-password';

export interface AttentionRule {
  /** Stable id, named in the event: `<kind>.<what>` for built-in ones. */
  id: string;
  pattern: RegExp;
  problem: string;
  /** `{service}` is replaced by the service's name. */
  remedy: string;
  /** set-password: the runner delivers a stored password and the problem is cleared when the service takes it. */
  remedyKind?: RemedyKind;
}

export const SERVICE_KINDS = ['lavap', 'venus-wallet', 'damocles-manager', 'venus-sealer', 'other'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/**
 * Built-in patterns, from the components' source:
 * - venus-wallet: storage/keymix.go `ErrPasswordEmpty = errors.New("password not set")`, logged by
 *   the wallet-event client as "WalletSign error password not set" for every sign request while the
 *   wallet holds no password (after every start: the password lives in its memory only).
 * - damocles-manager: modules/poster/poster.go warns "post is enabled, but no any valid senders"
 *   (WindowPoSt cannot be submitted), and its provers fail with "got N fault sectors".
 */
const BUILT_IN: Record<ServiceKind, readonly AttentionRule[]> = {
  lavap: [],
  'venus-wallet': [
    {
      id: 'venus-wallet.password-not-set',
      pattern: /\bpassword not set\b/,
      problem: 'venus-wallet has no password: it cannot sign (messages, blocks, PoSt)',
      remedy: 'fleetvisor secrets set-password {service}',
      remedyKind: 'set-password',
    },
  ],
  'damocles-manager': [
    {
      id: 'damocles-manager.no-post-sender',
      pattern: /post is enabled, but no any valid senders/,
      problem: 'WindowPoSt is enabled but no sender address is usable: proofs cannot be submitted',
      remedy: "set [Miners.PoSt].Sender in damocles-manager's sector-manager.cfg to an address venus-wallet holds (venus-wallet list), with the wallet unlocked",
    },
    {
      id: 'damocles-manager.fault-sectors',
      pattern: /got \d+ fault sectors/,
      problem: 'WindowPoSt found faulty sectors (missing or unreadable sealed/cache files)',
      remedy: 'fleetvisor proving check <deadline> --only-bad --miner <id>, then restore the files or declare the faults',
    },
  ],
  'venus-sealer': [],
  other: [],
};

export function builtInRules(kind: ServiceKind | undefined): readonly AttentionRule[] {
  return kind ? BUILT_IN[kind] : [];
}

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * `attention:` of a service definition: a list of `{ id, pattern, problem, remedy }` (pattern: a
 * JavaScript regular expression, matched against each output line). A configured id equal to a
 * built-in one replaces it.
 */
export function parseAttentionRules(v: unknown, file: string): AttentionRule[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new HomeError(`${file}: attention must be a list of { id, pattern, problem, remedy }`);
  if (v.length > MAX_RULES) throw new HomeError(`${file}: attention holds ${v.length} patterns (at most ${MAX_RULES})`);
  const ids = new Set<string>();
  return v.map((r, i) => {
    const what = `${file}: attention[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new HomeError(`${what} must be a mapping`);
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['id', 'pattern', 'problem', 'remedy'].includes(k)) throw new HomeError(`${what}: unknown key ${k} (id, pattern, problem, remedy)`);
    const id = o['id'];
    if (typeof id !== 'string' || !RULE_ID.test(id)) throw new HomeError(`${what}.id must be letters, digits, . _ - (max 100)`);
    if (ids.has(id)) throw new HomeError(`${what}.id ${id} is used twice`);
    ids.add(id);
    const text = (key: string, max: number): string => {
      const s = o[key];
      if (typeof s !== 'string' || s.trim().length === 0 || s.length > max) throw new HomeError(`${what}.${key} must be a non-empty string of at most ${max} characters`);
      return s;
    };
    const source = text('pattern', 500);
    let pattern: RegExp;
    try {
      pattern = new RegExp(source);
    } catch (e) {
      throw new HomeError(`${what}.pattern is not a regular expression: ${(e as Error).message}`);
    }
    return { id, pattern, problem: text('problem', 300), remedy: text('remedy', 500) };
  });
}

/** The service's rules: its kind's built-in ones, replaced or extended by its configured ones. */
export function rulesFor(kind: ServiceKind | undefined, configured: readonly AttentionRule[] | undefined): AttentionRule[] {
  const own = configured ?? [];
  const replaced = new Set(own.map((r) => r.id));
  return [...builtInRules(kind).filter((r) => !replaced.has(r.id)), ...own];
}

// Whatever looks like a credential is blanked in an excerpt: JWTs, bearer/token/password/secret
// values, private-key-sized hex and base64 runs (venus logs print "rand sign byte" base64 and key
// infos as hex).
const SECRET_PATTERNS: RegExp[] = [
  /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /((?:bearer|token|password|passwd|pwd|secret|private[ _-]?key|privatekey)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi,
  /\b[0-9a-fA-F]{32,}\b/g,
  /[A-Za-z0-9+/]{24,}={0,2}/g,
];

/** The line as an event may carry it: secrets (and any known one) blanked, capped. */
export function excerptOf(line: string, known: readonly string[] = []): string {
  let s = line.replace(/\r$/, '');
  for (const k of known) if (k.length > 0) s = s.split(k).join('***');
  for (const p of SECRET_PATTERNS) s = s.replace(p, (m: string, prefix?: string) => (typeof prefix === 'string' && m.startsWith(prefix) ? `${prefix}***` : '***'));
  s = s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
  return s.length > MAX_EXCERPT ? `${s.slice(0, MAX_EXCERPT - 1)}…` : s;
}

export interface OpenProblem {
  rule: AttentionRule;
  remedy: string;
  excerpt: string;
  since: Date;
}

export interface AttentionWatchOptions {
  service: string;
  rules: readonly AttentionRule[];
  /**
   * A problem seen for the first time in this run (and not reported within repeatMs). Returns
   * whether it was reported: false when the runner applies the remedy itself (a stored password it
   * delivers), so that a later failure of that is still reported.
   */
  onProblem: (p: OpenProblem) => boolean;
  /** Values never to appear in an excerpt (the service's stored password). */
  secrets?: () => readonly string[];
  repeatMs?: number;
  now?: () => number;
}

/** Splits a child's output into lines and reports each rule's first match of a run. */
export class AttentionWatch {
  private partial = '';
  private readonly open = new Map<string, OpenProblem>();
  /** Rules already matched in this run (open or cleared: cleared ones are not reported again in the run). */
  private readonly seenThisRun = new Set<string>();
  private readonly lastReported = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly o: AttentionWatchOptions) {
    this.now = o.now ?? Date.now;
  }

  get active(): boolean {
    return this.o.rules.length > 0;
  }

  /** A new process run: problems of the previous one are gone with it. */
  newRun(): void {
    this.partial = '';
    this.open.clear();
    this.seenThisRun.clear();
  }

  /** Output of the child, in any chunking. */
  feed(chunk: Buffer | string): void {
    if (!this.active) return;
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const lines = text.split('\n');
    this.partial = lines.pop()!.slice(0, MAX_LINE_BYTES);
    for (const line of lines) this.matchLine(line.length > MAX_LINE_BYTES ? line.slice(0, MAX_LINE_BYTES) : line);
  }

  /** Problems of this run not cleared yet. */
  current(): OpenProblem[] {
    return [...this.open.values()];
  }

  /** Reports an open problem now (the runner's own remedy failed), whatever repeatMs says. */
  report(id: string): OpenProblem | undefined {
    const p = this.open.get(id);
    if (p && this.o.onProblem(p)) this.lastReported.set(id, this.now());
    return p;
  }

  /** Clears the open problems fixed by a remedy of this kind (e.g. a password delivered). */
  clear(kind: RemedyKind): OpenProblem[] {
    const out: OpenProblem[] = [];
    for (const [id, p] of this.open) {
      if (p.rule.remedyKind !== kind) continue;
      this.open.delete(id);
      out.push(p);
    }
    return out;
  }

  private matchLine(line: string): void {
    for (const rule of this.o.rules) {
      if (this.seenThisRun.has(rule.id) || !rule.pattern.test(line)) continue;
      this.seenThisRun.add(rule.id);
      const p: OpenProblem = { rule, remedy: rule.remedy.split('{service}').join(this.o.service), excerpt: excerptOf(line, this.o.secrets?.() ?? []), since: new Date(this.now()) };
      this.open.set(rule.id, p);
      const last = this.lastReported.get(rule.id);
      if (last !== undefined && this.now() - last < (this.o.repeatMs ?? DEFAULT_REPEAT_MS)) continue;
      if (this.o.onProblem(p)) this.lastReported.set(rule.id, this.now());
    }
  }
}
