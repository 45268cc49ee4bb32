// Signed commands (ADR 0006): the JSON body as before, plus the NATS header Fleet-Auth =
// base64url(JSON CommandAuth). The signature covers RFC 8785 JSON of {v, id, iat, exp, subject, body}
// with the subject's root left out (test suites use their own roots; production uses `fleet`), so a
// signature for one worker's pause cannot be replayed at another worker or another verb.
import { randomUUID } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { COMMAND_AUTH_MAX_TTL_MS, CommandAuthSchema, type CommandActor, type CommandAuth, type KeyRole } from '@fleetvisor/contracts';
import { canonicalBytes } from './canonical';
import type { Signer } from './event-proof';
import { signBytes } from './keys';
import { roleSatisfies } from './roles';
import { refuse, type TrustVerifier, type Verdict } from './verifier';

const authCheck = TypeCompiler.Compile(CommandAuthSchema);

/** Clocks across hosts disagree a little: a command signed up to this far "in the future" is accepted. */
export const CLOCK_SKEW_MS = 30_000;
export const DEFAULT_COMMAND_TTL_MS = 60_000;

/** `<root>.cmd.x.y` -> `cmd.x.y`: what the signature covers. */
export function subjectWithoutRoot(subject: string): string {
  const dot = subject.indexOf('.');
  return dot < 0 ? subject : subject.slice(dot + 1);
}

// `act` is signed only when present, so a command without delegation signs exactly what it did
// before delegation existed.
function signedForm(auth: Pick<CommandAuth, 'v' | 'id' | 'iat' | 'exp' | 'act'>, subject: string, body: unknown): Buffer {
  return canonicalBytes({ v: auth.v, id: auth.id, iat: auth.iat, exp: auth.exp, subject: subjectWithoutRoot(subject), body: body ?? null, ...(auth.act ? { act: auth.act } : {}) });
}

/** The actor recorded for a command a gateway signed on a token holder's behalf. */
export function delegatedActorName(gatewayKeyName: string, act: CommandActor): string {
  return `${gatewayKeyName}/token:${act.name}`;
}

export interface SignCommandOptions {
  /** The full NATS subject the command is sent on. */
  subject: string;
  /** The request body as it will be JSON-encoded (undefined = empty body). */
  body: unknown;
  signer: Signer;
  id?: string;
  now?: number;
  ttlMs?: number;
  /** Sign on behalf of this token holder (only a gateway key's delegation is accepted, ADR 0010). */
  act?: CommandActor;
}

export function signCommand(opts: SignCommandOptions): CommandAuth {
  const iat = opts.now ?? Date.now();
  const ttl = Math.min(opts.ttlMs ?? DEFAULT_COMMAND_TTL_MS, COMMAND_AUTH_MAX_TTL_MS);
  const head = { v: 1 as const, id: opts.id ?? randomUUID(), iat, exp: iat + ttl, ...(opts.act ? { act: opts.act } : {}) };
  return { ...head, cert: opts.signer.cert, sig: signBytes(opts.signer.key.privateKey, signedForm(head, opts.subject, opts.body)) };
}

export function encodeCommandAuth(auth: CommandAuth): string {
  return Buffer.from(JSON.stringify(auth), 'utf8').toString('base64url');
}

export function decodeCommandAuth(header: string): CommandAuth | undefined {
  try {
    const raw: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return authCheck.Check(raw) ? raw : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Command ids seen and not yet expired. A replica refuses an id it has seen; a replay through
 * another replica is refused by the log instead (events a command causes have ids derived from it).
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  has(id: string, now: number): boolean {
    const exp = this.seen.get(id);
    return exp !== undefined && exp >= now;
  }

  add(id: string, exp: number, now: number): void {
    if (this.seen.size >= this.maxEntries) this.prune(now);
    // Still full of live ids: a flood of valid signed commands; drop the oldest rather than grow.
    if (this.seen.size >= this.maxEntries) {
      const first = this.seen.keys().next();
      if (!first.done) this.seen.delete(first.value);
    }
    this.seen.set(id, exp);
  }

  private prune(now: number): void {
    for (const [id, exp] of this.seen) if (exp < now) this.seen.delete(id);
  }
}

export interface VerifyCommandOptions {
  /** The Fleet-Auth header value, if any. */
  header: string | undefined;
  subject: string;
  body: unknown;
  verifier: TrustVerifier;
  needed: KeyRole;
  nonces: NonceCache;
}

export type CommandVerdict = (Verdict & { ok: true; commandId: string; signedAt: number }) | (Verdict & { ok: false });

export function verifyCommand(opts: VerifyCommandOptions): CommandVerdict {
  if (opts.header === undefined || opts.header === '') return refuse('unauthorized', 'the command is not signed (no Fleet-Auth header); sign it with an operator key') as CommandVerdict;
  const auth = decodeCommandAuth(opts.header);
  if (!auth) return refuse('unauthorized', 'the Fleet-Auth header is malformed') as CommandVerdict;
  const now = opts.verifier.now();
  if (auth.exp < auth.iat || auth.exp - auth.iat > COMMAND_AUTH_MAX_TTL_MS) return refuse('unauthorized', `a signed command may live at most ${COMMAND_AUTH_MAX_TTL_MS / 1000} s`) as CommandVerdict;
  if (now > auth.exp) return refuse('unauthorized', `the signature expired ${new Date(auth.exp).toISOString()}`) as CommandVerdict;
  if (auth.iat > now + CLOCK_SKEW_MS) return refuse('unauthorized', `the command is signed in the future (${new Date(auth.iat).toISOString()}); check the sender's clock`) as CommandVerdict;
  if (opts.nonces.has(auth.id, now)) return refuse('unauthorized', `command ${auth.id} was already received (replay)`) as CommandVerdict;
  const verdict = auth.act ? verifyDelegation(opts.verifier, auth, auth.act, signedForm(auth, opts.subject, opts.body), opts.needed) : opts.verifier.verify(auth.cert, signedForm(auth, opts.subject, opts.body), auth.sig, opts.needed);
  if (!verdict.ok) return verdict;
  opts.nonces.add(auth.id, auth.exp, now);
  return { ...verdict, commandId: auth.id, signedAt: auth.iat };
}

/**
 * A command signed by a gateway on a token holder's behalf: the signature and certificate must be
 * valid, the signer's role must be `gateway` (no other key may speak for someone else), and the
 * effective role is the delegated one. The recorded actor names both: `<gateway>/token:<holder>`.
 */
function verifyDelegation(verifier: TrustVerifier, auth: CommandAuth, act: CommandActor, bytes: Buffer, needed: KeyRole): Verdict {
  const v = verifier.authenticate(auth.cert, bytes, auth.sig);
  if (!v.ok) return v;
  if (v.identity.role !== 'gateway') return refuse('unauthorized', `${v.identity.name} has role ${v.identity.role}; only a gateway key may act on another's behalf`);
  const name = delegatedActorName(v.identity.name, act);
  if (!roleSatisfies(act.role, needed)) return refuse('forbidden', `${name} has role ${act.role}; this needs ${needed}`);
  return { ok: true, identity: { kid: v.identity.kid, name, role: act.role } };
}
