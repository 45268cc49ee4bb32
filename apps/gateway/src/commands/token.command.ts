// `fleetvisor token create|list|revoke`: the gateway's API tokens, in its own table (Postgres
// credentials needed, like `migrate`). A token is printed once, at creation; only its SHA-256 is
// kept.
import os from 'node:os';
import { EventStoreConnection } from '@fleetvisor/event-store';
import { connectOrExplain, defineCliCommand, readCoreConfig, UsageError, type CliCommand } from '@fleetvisor/platform';
import { isTokenRole, TOKEN_ROLES, TokenError, TokenStore } from '../tokens/token-store';

async function withTokens<T>(fn: (tokens: TokenStore) => Promise<T>): Promise<T> {
  const config = readCoreConfig();
  const log = await connectOrExplain('PostgreSQL', 'FLEETVISOR_DATABASE_URL', config.databaseUrl, () => EventStoreConnection.open(config, { applicationName: 'fleetvisor-token' }));
  try {
    const t = await log.pool.query<{ t: string | null }>("SELECT to_regclass('fv_gateway_tokens')::text AS t");
    if (!t.rows[0]?.t) throw new Error("the gateway's token table does not exist yet: run 'fleetvisor migrate' first");
    return await fn(new TokenStore(log.pool));
  } catch (e) {
    if (e instanceof TokenError) throw new Error(e.message);
    throw e;
  } finally {
    await log.close();
  }
}

const createCommand = defineCliCommand({
  path: ['token', 'create'],
  summary: 'Make a gateway API token with a role (read, operate, admin); it is printed once',
  options: {
    role: { type: 'string', description: `one of ${TOKEN_ROLES.join(', ')}`, placeholder: 'role' },
    name: { type: 'string', description: 'who holds it (recorded as <gateway>/token:<name> in the events it causes)', placeholder: 'name' },
    json: { type: 'boolean', description: 'one JSON object: { name, role, token }' },
  },
  examples: ['fleetvisor token create --role read --name grafana', 'fleetvisor token create --role operate --name alice'],
  async run({ options, io }) {
    const role = options.role;
    if (role === undefined || !isTokenRole(role)) throw new UsageError(`--role must be one of ${TOKEN_ROLES.join(', ')}`);
    if (!options.name) throw new UsageError('--name is required');
    const name = options.name;
    const token = await withTokens((t) => t.create(name, role, `cli:${os.userInfo().username}@${os.hostname()}`));
    if (options.json) io.out(JSON.stringify({ name, role, token }) + '\n');
    else io.out(`${token}\n`);
    if (!options.json) io.err(`token ${name} (role ${role}) created; it is shown only now: keep it (FLEETVISOR_TOKEN, or --token)\n`);
  },
});

const listCommand = defineCliCommand({
  path: ['token', 'list'],
  summary: 'Every gateway API token: name, role, created, revoked (never the token)',
  options: { json: { type: 'boolean', description: 'one JSON object: { tokens: [...] }' } },
  examples: ['fleetvisor token list'],
  async run({ options, io }) {
    const rows = await withTokens((t) => t.list());
    if (options.json) {
      io.out(JSON.stringify({ tokens: rows }) + '\n');
      return;
    }
    if (rows.length === 0) {
      io.out('no tokens (fleetvisor token create --role read --name <who>)\n');
      return;
    }
    const table = [['NAME', 'ROLE', 'CREATED', 'BY', 'REVOKED'], ...rows.map((r) => [r.name, r.role, r.createdAt, r.createdBy, r.revokedAt ?? '-'])];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    io.out(table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n');
  },
});

const revokeCommand = defineCliCommand({
  path: ['token', 'revoke'],
  args: '<name>',
  summary: 'Revoke a gateway API token: every gateway refuses it within a second, no restart',
  options: {},
  examples: ['fleetvisor token revoke alice'],
  async run({ positionals, io }) {
    if (positionals.length !== 1) throw new UsageError('expected <name>');
    await withTokens((t) => t.revoke(positionals[0]!));
    io.out(`token ${positionals[0]} revoked\n`);
  },
});

export const tokenCommands = [createCommand, listCommand, revokeCommand] as unknown as CliCommand[];
