// Signed events (ADR 0006): metadata.proof = {alg, sig, cert}, the signature over RFC 8785 JSON of
// the envelope with metadata.proof left out. occurredAt must already be ISO with milliseconds
// (newEvent's form, and the log's when it reads an event back), or the read-back copy would differ.
import type { EventEnvelope, KeyCertificate, KeyRole } from '@fleetvisor/contracts';
import { canonicalBytes } from './canonical';
import { signBytes, type KeyPair } from './keys';
import { refuse, type TrustVerifier, type Verdict } from './verifier';

export interface Signer {
  readonly key: KeyPair;
  readonly cert: KeyCertificate;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function signedForm(event: EventEnvelope): Buffer {
  const { proof: _proof, ...metadata } = event.metadata;
  return canonicalBytes({ id: event.id, type: event.type, stream: event.stream, version: event.version, data: event.data, metadata, occurredAt: event.occurredAt });
}

export function signEvent<E extends EventEnvelope>(event: E, signer: Signer): E {
  if (!ISO_MS.test(event.occurredAt)) throw new Error(`occurredAt must be ISO 8601 UTC with milliseconds to be signed, got ${event.occurredAt}`);
  const sig = signBytes(signer.key.privateKey, signedForm(event));
  return { ...event, metadata: { ...event.metadata, proof: { alg: 'Ed25519', sig, cert: signer.cert } } };
}

/** Only the envelope fields are read: a RecordedEvent (with its log position) verifies too. */
export function verifyEvent(event: EventEnvelope, verifier: TrustVerifier, needed: KeyRole): Verdict {
  const proof = event.metadata?.proof;
  if (!proof) return refuse('unauthorized', 'the event is not signed');
  if (proof.alg !== 'Ed25519') return refuse('unauthorized', `unknown signature algorithm ${String(proof.alg)}`);
  return verifier.verify(proof.cert, signedForm(event), proof.sig, needed);
}
