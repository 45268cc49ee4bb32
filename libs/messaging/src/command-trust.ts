// A process's CommandTrust from its trust configuration (FLEETVISOR_TRUST_ROOT(_FILE),
// FLEETVISOR_SIGNING_KEY_FILE): fail at start, with the variable to set, rather than refuse every
// command later.
import { requireSigner, requireTrustRoots, TrustVerifier, type TrustConfig } from '@fleetvisor/trust';
import type { CommandAuthOptions, CommandTrust } from './command-bus';

export interface CommandTrustNeeds {
  /** It serves commands that need a signer (verifies them against the roots). */
  verifies: boolean;
  /** It sends such commands (signs them with its key). */
  signs: boolean;
  onRefused?: CommandAuthOptions['onRefused'];
}

export function commandTrustOf(trust: TrustConfig, who: string, needs: CommandTrustNeeds): CommandTrust & { verifier?: TrustVerifier } {
  const out: CommandTrust & { verifier?: TrustVerifier } = {};
  if (needs.verifies) {
    const verifier = new TrustVerifier(requireTrustRoots(trust, who));
    out.verifier = verifier;
    out.auth = { verifier, ...(needs.onRefused ? { onRefused: needs.onRefused } : {}) };
  }
  if (needs.signs) out.signer = requireSigner(trust, who);
  return out;
}
