// `fleetvisor gateway run`: the REST gateway in the foreground. A Nest application on Fastify; it
// holds no state of its own besides the token table, so several may run side by side behind a load
// balancer (bus requests spread over the services' queue groups; each gateway tails the log for
// its own SSE clients).
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { defineCliCommand, type CliCommand } from '@fleetvisor/platform';
import { readGatewayConfig } from '../config';
import { Gateway } from '../gateway';
import { GatewayModule } from '../gateway.module';
import { ProblemFilter } from '../http/problem.filter';

export const runCommand = defineCliCommand({
  path: ['gateway', 'run'],
  summary: 'Run the REST gateway: the fleet over HTTP with bearer tokens, OpenAPI at /openapi.json, live events over SSE',
  description: [
    'Serves /api/v1/* (docs/gateway.md), /openapi.json, /docs, /health/live, /health/ready and /metrics until SIGINT/SIGTERM.',
    'Mutating calls are signed with the gateway\'s key (role gateway) on the token holder\'s behalf. Settings (environment):',
    '  FLEETVISOR_GATEWAY_LISTEN (127.0.0.1:8080), FLEETVISOR_GATEWAY_RATE_LIMIT (1200 requests per token per window; 0 = off),',
    '  FLEETVISOR_GATEWAY_RATE_WINDOW (1m), FLEETVISOR_GATEWAY_CORS_ORIGINS (none: CORS off), FLEETVISOR_GATEWAY_TOKEN_CACHE (1s),',
    '  FLEETVISOR_GATEWAY_BUS_TIMEOUT (10s), FLEETVISOR_GATEWAY_GATHER (1500ms), FLEETVISOR_GATEWAY_SSE_POLL (50ms),',
    '  FLEETVISOR_GATEWAY_DASHBOARD_DIR (dist/dashboard), FLEETVISOR_SIGNING_KEY_FILE (the gateway key), plus the core FLEETVISOR_* variables.',
  ].join('\n'),
  options: {},
  examples: ['fleetvisor gateway run', 'FLEETVISOR_GATEWAY_LISTEN=0.0.0.0:8080 FLEETVISOR_SIGNING_KEY_FILE=/etc/fleetvisor/gateway.key.json fleetvisor gateway run'],
  async run({ io }) {
    const config = readGatewayConfig();
    const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config), new FastifyAdapter({ trustProxy: false, bodyLimit: 1 << 20 }), { logger: false, abortOnError: false });
    try {
      app.useGlobalFilters(new ProblemFilter());
      await app.get(Gateway).register(app.getHttpAdapter().getInstance() as unknown as FastifyInstance);
      await app.listen(config.gateway.listen.port, config.gateway.listen.host);
    } catch (e) {
      await app.close().catch(() => undefined);
      throw e;
    }
    const address = app.getHttpServer().address();
    const where = typeof address === 'object' && address ? `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}` : String(address);
    io.err(`gateway: listening on http://${where}\n`);
    const why = await io.interrupted;
    io.err(`gateway: ${why}, stopping\n`);
    await app.close();
    return 0;
  },
}) as unknown as CliCommand;
