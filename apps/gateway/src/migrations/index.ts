// The gateway's own schema migrations (its token table), applied after the event store's by
// `fleetvisor migrate` and when the gateway starts. Append new ones at the end; never edit one that
// has shipped.
import type { SchemaMigrations } from '@fleetvisor/event-store';
import { CreateGatewayTokens1767225600030 } from './1767225600030-create-gateway-tokens';

export const MIGRATIONS: SchemaMigrations = [CreateGatewayTokens1767225600030];
