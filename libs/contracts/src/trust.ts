// What travels on the bus to prove who said something (ADR 0006): key certificates issued by the
// admin root key, the proof on a chain event, the auth header of a command, and a revocation.
// The cryptography lives in @fleetvisor/trust; these are the shapes, published as JSON Schema.
import { Type, type Static } from '@sinclair/typebox';

/**
 * People: read < operate < admin. Services: chain-watcher (signs chain events), service (central
 * services acting for a verified operator), gateway (the REST gateway: signs nothing on its own
 * authority, only commands on behalf of a token holder, CommandAuth.act).
 */
export const KEY_ROLES = ['read', 'operate', 'admin', 'chain-watcher', 'service', 'gateway'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

/** `fv1` + 22 base64url characters of SHA-256(raw Ed25519 public key). */
export const KEY_ID_PATTERN = '^fv1[A-Za-z0-9_-]{22}$';
const KeyId = (description: string) => Type.String({ pattern: KEY_ID_PATTERN, description });
/** Ed25519 public key, 32 raw bytes as unpadded base64url (43 characters). */
const PublicKey = () => Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'Ed25519 public key, raw 32 bytes, base64url' });
/** Ed25519 signature, 64 raw bytes as unpadded base64url (86 characters). */
const Signature = () => Type.String({ pattern: '^[A-Za-z0-9_-]{86}$', description: 'Ed25519 signature, base64url' });
const Instant = (description: string) => Type.String({ format: 'date-time', minLength: 20, maxLength: 40, description });

export const KeyNameSchema = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$', description: 'Who holds the key (a person, a service); recorded as the actor' });

export const KeyCertificateSchema = Type.Object(
  {
    v: Type.Literal(1),
    kid: KeyId('Id of the certified key'),
    name: KeyNameSchema,
    role: Type.Union(KEY_ROLES.map((r) => Type.Literal(r)), { description: 'What the key may do' }),
    publicKey: PublicKey(),
    issuer: KeyId('Id of the admin root key that signed this certificate'),
    notBefore: Instant('Valid from'),
    notAfter: Instant('Valid until'),
    sig: Signature(),
  },
  { additionalProperties: false, description: 'A key, its holder and role, signed by an admin root key (signature over RFC 8785 JSON of every other field)' },
);
export type KeyCertificate = Static<typeof KeyCertificateSchema>;

export const EventProofSchema = Type.Object(
  {
    alg: Type.Literal('Ed25519'),
    sig: Signature(),
    cert: KeyCertificateSchema,
  },
  { additionalProperties: false, description: 'Signature over RFC 8785 JSON of the envelope without metadata.proof, and the signer\'s certificate' },
);
export type EventProof = Static<typeof EventProofSchema>;

/** The people roles a gateway may act for. */
export const DELEGATED_ROLES = ['read', 'operate', 'admin'] as const;
export type DelegatedRole = (typeof DELEGATED_ROLES)[number];

export const CommandActorSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$', description: 'The token holder the gateway acts for' }),
    role: Type.Union(DELEGATED_ROLES.map((r) => Type.Literal(r)), { description: 'The token\'s role: the command\'s effective role' }),
  },
  {
    additionalProperties: false,
    description: 'Delegation: the signer (a key with role gateway, nothing else) acts on behalf of this token holder; recorded as <gateway key name>/token:<name>',
  },
);
export type CommandActor = Static<typeof CommandActorSchema>;

/** NATS header carrying a command's CommandAuth, as base64url JSON. */
export const COMMAND_AUTH_HEADER = 'Fleet-Auth';
/** Longest a signed command stays valid (exp - iat). */
export const COMMAND_AUTH_MAX_TTL_MS = 5 * 60_000;

export const CommandAuthSchema = Type.Object(
  {
    v: Type.Literal(1),
    id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: 'Command id: the nonce against replay; causationId of the events it causes' }),
    iat: Type.Integer({ minimum: 0, description: 'Signed at, ms since 1970' }),
    exp: Type.Integer({ minimum: 0, description: 'Expires at, ms since 1970 (at most 5 minutes after iat)' }),
    cert: KeyCertificateSchema,
    act: Type.Optional(CommandActorSchema),
    sig: Signature(),
  },
  { additionalProperties: false, description: 'Signature over RFC 8785 JSON of {v, id, iat, exp, subject (without the root), body} and act when present' },
);
export type CommandAuth = Static<typeof CommandAuthSchema>;

export const KeyRevocationSchema = Type.Object(
  {
    v: Type.Literal(1),
    kid: KeyId('The revoked key'),
    revokedAt: Instant('When'),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    issuer: KeyId('Admin root key that signed the revocation'),
    sig: Signature(),
  },
  { additionalProperties: false, description: 'Stored in the fleet_keys KV bucket as revoked.<kid>; every process refuses the key from then on' },
);
export type KeyRevocation = Static<typeof KeyRevocationSchema>;
