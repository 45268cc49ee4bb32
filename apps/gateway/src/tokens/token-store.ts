// API tokens: made here (256 random bits, shown once), stored as their SHA-256, looked up per
// request. A short cache keeps a busy client from costing one query per request; a revocation
// therefore takes effect within `cacheMs` (1 s by default), on every gateway, without a restart.
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

export const TOKEN_ROLES = ['read', 'operate', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

const RANK: Record<TokenRole, number> = { read: 1, operate: 2, admin: 3 };

/** read < operate < admin. */
export function tokenRoleSatisfies(role: TokenRole, needed: TokenRole): boolean {
  return RANK[role] >= RANK[needed];
}

export function isTokenRole(v: string): v is TokenRole {
  return (TOKEN_ROLES as readonly string[]).includes(v);
}

/** Same characters as a key name (it becomes part of the recorded actor). */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TOKEN_PATTERN = /^fvt_[A-Za-z0-9_-]{43}$/;

export interface TokenHolder {
  name: string;
  role: TokenRole;
}

export interface TokenRow extends TokenHolder {
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
}

export class TokenError extends Error {
  constructor(
    readonly code: 'conflict' | 'not_found' | 'invalid_request',
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export function newToken(): string {
  return `fvt_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenStore {
  private readonly cache = new Map<string, { holder: TokenHolder | undefined; until: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly opts: { cacheMs?: number; clock?: () => number } = {},
  ) {}

  async create(name: string, role: TokenRole, createdBy: string): Promise<string> {
    if (!TOKEN_NAME_PATTERN.test(name)) throw new TokenError('invalid_request', `token name "${name}" may hold letters, digits, . _ @ - (up to 64, starting with a letter or digit)`);
    const token = newToken();
    const res = await this.pool.query('INSERT INTO fv_gateway_tokens (name, role, token_hash, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING', [name, role, hashToken(token), createdBy]);
    if (res.rowCount !== 1) throw new TokenError('conflict', `a token named "${name}" exists already (revoked tokens keep their name); choose another name`);
    return token;
  }

  async list(): Promise<TokenRow[]> {
    const res = await this.pool.query<{ name: string; role: TokenRole; created_at: Date; created_by: string; revoked_at: Date | null }>(
      'SELECT name, role, created_at, created_by, revoked_at FROM fv_gateway_tokens ORDER BY name',
    );
    return res.rows.map((r) => ({
      name: r.name,
      role: r.role,
      createdAt: r.created_at.toISOString(),
      createdBy: r.created_by,
      ...(r.revoked_at ? { revokedAt: r.revoked_at.toISOString() } : {}),
    }));
  }

  async revoke(name: string): Promise<void> {
    const res = await this.pool.query('UPDATE fv_gateway_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL', [name]);
    if (res.rowCount === 1) return;
    const exists = await this.pool.query('SELECT 1 FROM fv_gateway_tokens WHERE name = $1', [name]);
    throw new TokenError('not_found', exists.rowCount ? `token "${name}" is already revoked` : `no token named "${name}"`);
  }

  /** The holder of a live token, or undefined (unknown, revoked, malformed). */
  async authenticate(token: string): Promise<TokenHolder | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const key = hashToken(token).toString('base64url');
    const now = (this.opts.clock ?? Date.now)();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.holder;
    const res = await this.pool.query<{ name: string; role: TokenRole }>('SELECT name, role FROM fv_gateway_tokens WHERE token_hash = $1 AND revoked_at IS NULL', [hashToken(token)]);
    const row = res.rows[0];
    const holder = row ? { name: row.name, role: row.role } : undefined;
    // Bounded: a flood of random tokens must not grow the cache without end.
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(key, { holder, until: now + (this.opts.cacheMs ?? 1_000) });
    return holder;
  }
}
