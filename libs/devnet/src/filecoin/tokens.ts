// Tokens of the simulated venus chain service, as venus-auth issues them: JWT (HS256) whose payload
// names the token ({"name": "t01000-sealer", "perm": "write", "ext": ""}). The name is what a
// metering proxy counts a caller by. The simulator keeps its own secret and checks every call.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenPerm = 'read' | 'write' | 'sign' | 'admin';

export interface TokenClaims {
  name: string;
  perm: TokenPerm;
  ext?: string;
}

const b64 = (v: Buffer | string) => Buffer.from(v).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export class TokenIssuer {
  constructor(private readonly secret: Buffer = randomBytes(32)) {}

  mint(claims: TokenClaims): string {
    const payload = b64(JSON.stringify({ name: claims.name, perm: claims.perm, ext: claims.ext ?? '' }));
    const sig = createHmac('sha256', this.secret).update(`${HEADER}.${payload}`).digest('base64url');
    return `${HEADER}.${payload}.${sig}`;
  }

  /** The claims of a token this issuer signed, or undefined. */
  verify(token: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const want = createHmac('sha256', this.secret).update(`${parts[0]}.${parts[1]}`).digest();
    const got = Buffer.from(parts[2]!, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    try {
      const c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
      return typeof c.name === 'string' ? c : undefined;
    } catch {
      return undefined;
    }
  }
}
