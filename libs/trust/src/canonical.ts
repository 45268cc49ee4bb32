// RFC 8785 (JCS): the one byte form of a JSON value that is signed and verified. Envelopes are
// parsed and re-serialised on their way (relay, Postgres jsonb reorders keys), so a signature
// over the bytes as sent would not survive; one over the canonical form does.
import canonicalizeJson from 'canonicalize';

export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalizeJson(value);
  if (text === undefined) throw new Error('value has no JSON form');
  return Buffer.from(text, 'utf8');
}
