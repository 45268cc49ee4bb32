// Migration: the gateway's API tokens. Only the SHA-256 of a token is stored (ADR 0010): the token
// is 256 random bits, so a hash needs no salt or slow KDF to resist guessing, and a lookup by hash
// stays one index probe per request. A revoked token keeps its row (revoked_at) so `token list`
// shows it and its name cannot be reused by mistake.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateGatewayTokens1767225600030 implements MigrationInterface {
  readonly name = 'CreateGatewayTokens1767225600030';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fv_gateway_tokens (
        name        text PRIMARY KEY,
        role        text NOT NULL CHECK (role IN ('read', 'operate', 'admin')),
        token_hash  bytea NOT NULL UNIQUE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        created_by  text NOT NULL,
        revoked_at  timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE fv_gateway_tokens');
  }
}
