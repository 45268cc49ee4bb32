import type { CommandActor } from '@fleetvisor/contracts';
import type { TokenHolder } from '../tokens/token-store';

/** The delegation a mutating command is signed with: the token's name and role. */
export const actorOf = (holder: TokenHolder): CommandActor => ({ name: holder.name, role: holder.role });
