// Who is calling, for the metering proxy: a named claim of the JWT bearer token the component
// authenticates with (venus-auth tokens carry {"name": "<token name>", "perm": …}), or a header.
// The token is read, never verified or stored: the proxy counts, the upstream authenticates.
import { API_CALLER_PATTERN } from '@fleetvisor/contracts';
import type { IncomingHttpHeaders } from 'node:http';

export type CallerSource = { kind: 'claim'; claim: string } | { kind: 'header'; header: string };

export const UNKNOWN_CALLER = 'unknown';
const CALLER_RE = new RegExp(API_CALLER_PATTERN);

/** A caller name as the contracts accept it: odd characters become '_', at most 128 characters. */
export function sanitizeCaller(v: string): string {
  if (CALLER_RE.test(v)) return v;
  const s = v.replace(/[^A-Za-z0-9._:@/-]/g, '_').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
  return s.length > 0 ? s : UNKNOWN_CALLER;
}

/** The claim of a JWT (header.payload.signature, base64url); the claim's name matched case-insensitively. */
export function jwtClaim(token: string, claim: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null) return undefined;
  const want = claim.toLowerCase();
  for (const [k, v] of Object.entries(payload)) if (k.toLowerCase() === want && (typeof v === 'string' || typeof v === 'number')) return String(v);
  return undefined;
}

/** Caller of a request (or of a WebSocket's upgrade request); 'unknown' when the source is missing. */
export function callerOf(headers: IncomingHttpHeaders, source: CallerSource): string {
  let v: string | undefined;
  if (source.kind === 'header') {
    const h = headers[source.header.toLowerCase()];
    v = Array.isArray(h) ? h[0] : h;
  } else {
    const auth = headers.authorization;
    const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    v = m ? jwtClaim(m[1]!, source.claim) : undefined;
  }
  return v === undefined || v.length === 0 ? UNKNOWN_CALLER : sanitizeCaller(v);
}
