// Token administration over HTTP (admin only), the same as `fleetvisor token create|list|revoke`.
import { Type } from '@sinclair/typebox';
import { DateTime } from '@fleetvisor/contracts';
import { Problem } from '../http/problem';
import { route, type RouteDef } from '../http/route';
import { TOKEN_ROLES, TokenError, type TokenStore } from '../tokens/token-store';

const TokenName = () => Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$', description: 'Who holds the token; recorded in events as <gateway key>/token:<name>' });
const Role = () => Type.Union(TOKEN_ROLES.map((r) => Type.Literal(r)), { description: 'read < operate < admin' });

export const TokenRowSchema = Type.Object(
  { name: TokenName(), role: Role(), createdAt: DateTime(), createdBy: Type.String(), revokedAt: Type.Optional(DateTime()) },
  { additionalProperties: false },
);

function asProblem(e: unknown): never {
  if (e instanceof TokenError) throw new Problem(e.code === 'conflict' ? 409 : e.code === 'not_found' ? 404 : 400, e.message, { code: e.code, ...(e.code === 'invalid_request' ? { field: 'body.name' } : {}) });
  throw e;
}

export function tokenRoutes(tokens: TokenStore, gatewayName: string): RouteDef[] {
  return [
    route({
      method: 'GET',
      path: '/api/v1/whoami',
      operationId: 'whoami',
      tag: 'tokens',
      role: 'read',
      summary: "The calling token's name and role (the dashboard shows only the buttons the role may use)",
      response: Type.Object({ name: TokenName(), role: Role() }, { additionalProperties: false }),
      handle: async ({ holder }) => ({ name: holder.name, role: holder.role }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/tokens',
      operationId: 'listTokens',
      tag: 'tokens',
      role: 'admin',
      summary: 'Every API token: name, role, when and by whom made, revoked when (never the token)',
      response: Type.Object({ tokens: Type.Array(TokenRowSchema, { maxItems: 100_000 }) }, { additionalProperties: false }),
      handle: async () => ({ tokens: await tokens.list() }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/tokens',
      operationId: 'createToken',
      tag: 'tokens',
      role: 'admin',
      summary: 'Make a token; the response is the only time it is shown',
      body: Type.Object({ name: TokenName(), role: Role() }, { additionalProperties: false }),
      response: Type.Object({ name: TokenName(), role: Role(), token: Type.String({ description: 'The bearer token; stored only as its SHA-256' }) }, { additionalProperties: false }),
      handle: async ({ body, holder }) => ({ name: body.name, role: body.role, token: await tokens.create(body.name, body.role, `${gatewayName}/token:${holder.name}`).catch(asProblem) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/tokens/:name',
      operationId: 'revokeToken',
      tag: 'tokens',
      role: 'admin',
      summary: 'Revoke a token: refused by every gateway within the token cache time (1 s by default)',
      params: Type.Object({ name: TokenName() }, { additionalProperties: false }),
      response: Type.Object({ name: TokenName(), revoked: Type.Literal(true) }, { additionalProperties: false }),
      handle: async ({ params }) => {
        await tokens.revoke(params.name).catch(asProblem);
        return { name: params.name, revoked: true as const };
      },
    }),
  ];
}
