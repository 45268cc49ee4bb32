// The chain event gate with a real trust (test root, keys per role) and a scripted own node.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createSubjects, newEventFor, UpgradePlanned, VersionChanged, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { expectEventually, testTrust } from '@fleetvisor/testing';
import { generateKeyPair, issueCertificate, signEvent, signRevocation, type Refusal } from '@fleetvisor/trust';
import type { ChainEventConfirmer, Confirmation } from '../chain/node-confirmation';
import { ChainEventGate } from './chain-event-gate';

const CHAIN = 'lava-gate-1';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
const changed = (height: number, v: string, chainId = CHAIN) => newEventFor(VersionChanged, { chainId, height, previous: null, current: pv(v) });
const watcher = () => testTrust().signer('chain-watcher');
const signed = (e: EventEnvelope, signer = watcher()) => signEvent(e, signer);

class ScriptedNode implements ChainEventConfirmer {
  answer: Confirmation = { kind: 'confirmed' };
  asked: string[] = [];
  async confirm(event: EventEnvelope): Promise<Confirmation> {
    this.asked.push(event.id);
    return this.answer;
  }
}

let gate: ChainEventGate | undefined;
afterEach(() => gate?.stop());

function makeGate(node?: ChainEventConfirmer, revocationsHeard?: Promise<void>) {
  const acted: EventEnvelope[] = [];
  const refused: Refusal[] = [];
  const verifier = testTrust().verifier();
  gate = new ChainEventGate({
    chainId: CHAIN,
    verifier,
    refusals: { refuse: (r) => refused.push(r) },
    act: (e) => acted.push(e),
    ...(node ? { node } : {}),
    ...(revocationsHeard ? { revocationsHeard } : {}),
    subjects: createSubjects('fleet'),
    logger: pino({ level: 'silent' }),
    retryInitialMs: 20,
    retryMaxMs: 50,
  });
  return { gate, acted, refused, verifier };
}

describe('ChainEventGate', () => {
  it('acts on an event signed by a chain-watcher key of the root, once, even when it comes twice', async () => {
    const { gate, acted, refused } = makeGate();
    const e = signed(changed(10, '0.2.0'));
    expect(await gate.accept(e)).toBe('acted');
    expect(await gate.accept(e)).toBe('acted');
    expect(acted.map((x) => x.id)).toEqual([e.id]);
    expect(refused).toEqual([]);
  });

  it('refuses unsigned, tampered, wrongly signed and revoked-key events, naming subject and reason, and never acts on them', async () => {
    const { gate, acted, refused, verifier } = makeGate();
    const real = signed(changed(10, '0.2.0'));
    const stranger = generateKeyPair();
    const strangerRoot = generateKeyPair();
    const outsider = { key: stranger, cert: issueCertificate(strangerRoot, { name: 'mallory', role: 'chain-watcher', publicKey: stranger.publicKey }) };
    const revokedSigner = testTrust().signer('chain-watcher', 'old-watcher');
    verifier.addRevocation(signRevocation(testTrust().root, revokedSigner.cert.kid));

    expect(await gate.accept(changed(1_000_000, '0.1.0'))).toBe('refused');
    expect(await gate.accept({ ...real, data: { ...(real.data as object), height: 1_000_000 } })).toBe('refused');
    expect(await gate.accept(signed(changed(11, '0.3.0'), testTrust().signer('operate')))).toBe('refused');
    expect(await gate.accept(signed(changed(12, '0.3.0'), outsider))).toBe('refused');
    expect(await gate.accept(signed(changed(13, '0.3.0'), revokedSigner))).toBe('refused');
    expect(acted).toEqual([]);
    expect(refused.map((r) => [r.code, r.reason])).toEqual([
      ['unauthorized', 'the event is not signed'],
      ['unauthorized', expect.stringContaining('signature does not verify')],
      ['forbidden', expect.stringContaining('has role operate; this needs chain-watcher')],
      ['unauthorized', expect.stringContaining('not a trusted root')],
      ['unauthorized', expect.stringContaining('is revoked')],
    ]);
    for (const r of refused) expect(r).toMatchObject({ kind: 'event', source: `chain-${CHAIN}`, subject: `fleet.evt.chain.${CHAIN}.VersionChanged` });
    expect(refused[2]!.signer).toMatchObject({ name: 'test-operate' });
    // The real one with a forged copy's id seen before is still acted on.
    expect(await gate.accept(real)).toBe('acted');
  });

  it('ignores other chains and other types', async () => {
    const { gate, acted, refused } = makeGate();
    expect(await gate.accept(signed(changed(10, '0.2.0', 'other-chain')))).toBe('ignored');
    expect(acted).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('with an own node: acts when it confirms, refuses what it contradicts, holds what it cannot tell and acts once it can', async () => {
    const node = new ScriptedNode();
    const { gate, acted, refused } = makeGate(node);
    const ok = signed(changed(10, '0.2.0'));
    expect(await gate.accept(ok)).toBe('acted');

    node.answer = { kind: 'mismatch', reason: 'node shows 0.2.0 at height 20' };
    const leaked = signed(changed(20, '0.9.0'));
    expect(await gate.accept(leaked)).toBe('refused');
    expect(refused).toMatchObject([{ code: 'node_mismatch', reason: 'node shows 0.2.0 at height 20', id: leaked.id }]);

    node.answer = { kind: 'unavailable', reason: 'node unreachable: ECONNREFUSED' };
    const later = signed(changed(30, '0.3.0'));
    expect(await gate.accept(later)).toBe('pending');
    expect(gate.pendingVerification()).toMatchObject({ eventId: later.id, type: 'VersionChanged', height: 30, reason: 'node unreachable: ECONNREFUSED', attempts: 1 });
    await expectEventually(() => expect(gate.pendingVerification()?.attempts).toBeGreaterThanOrEqual(3));
    expect(acted.map((e) => e.id)).toEqual([ok.id]);

    node.answer = { kind: 'confirmed' };
    await expectEventually(() => expect(acted.map((e) => e.id)).toEqual([ok.id, later.id]));
    expect(gate.pendingVerification()).toBeUndefined();
    expect(refused).toHaveLength(1);
  });

  it('a held event whose key is revoked meanwhile is dropped, not acted on', async () => {
    const node = new ScriptedNode();
    node.answer = { kind: 'unavailable', reason: 'down' };
    const { gate, acted, refused, verifier } = makeGate(node);
    const signer = testTrust().signer('chain-watcher', 'soon-revoked');
    const e = signed(newEventFor(UpgradePlanned, { chainId: CHAIN, name: 'v2', height: 500, info: 'x' }), signer);
    expect(await gate.accept(e)).toBe('pending');
    verifier.addRevocation(signRevocation(testTrust().root, signer.cert.kid));
    await expectEventually(() => expect(refused).toHaveLength(1));
    expect(refused[0]!.reason).toContain('revoked');
    expect(gate.pendingVerification()).toBeUndefined();
    node.answer = { kind: 'confirmed' };
    expect(acted).toEqual([]);
  });

  it('verifies nothing before the revocations are heard: an event of a key revoked while the runner was away is refused, not acted on', async () => {
    let heard!: () => void;
    const { gate, acted, refused, verifier } = makeGate(undefined, new Promise<void>((r) => (heard = r)));
    const signer = testTrust().signer('chain-watcher', 'revoked-while-away');
    const outcome = gate.accept(signed(changed(99, '0.9.0'), signer));
    const good = gate.accept(signed(changed(100, '0.2.0')));
    await new Promise((r) => setImmediate(r));
    expect(acted).toEqual([]);
    // The watch delivers what the bucket holds, then says it is ready.
    verifier.addRevocation(signRevocation(testTrust().root, signer.cert.kid));
    heard();
    expect(await outcome).toBe('refused');
    expect(await good).toBe('acted');
    expect(refused.map((r) => r.reason)).toEqual([expect.stringContaining('is revoked')]);
    expect(acted.map((e) => (e.data as { height: number }).height)).toEqual([100]);
  });
});
