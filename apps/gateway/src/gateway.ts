// The gateway's parts over a FleetCore: token store, bus access, the event feed and the route
// table, registered on a Fastify instance. Plain code: the Nest module only builds it.
import type { FastifyInstance } from 'fastify';
import type { FleetCore } from '@fleetvisor/messaging';
import { fleetvisorVersion } from '@fleetvisor/platform';
import type { GatewaySettings } from './config';
import { EventFeed } from './http/event-feed';
import { gatewayBus } from './http/gateway-bus';
import { registerGatewayHttp } from './http/http-server';
import type { RouteDef } from './http/route';
import { chainStatsRoutes } from './routes/chains-stats';
import { eventRoutes } from './routes/events';
import { serviceRoutes } from './routes/services';
import { tokenRoutes } from './routes/tokens';
import { workerRoutes } from './routes/workers';
import { TokenStore } from './tokens/token-store';

export function gatewayRoutes(tokens: TokenStore, gatewayName: string): RouteDef[] {
  return [...workerRoutes, ...serviceRoutes, ...chainStatsRoutes, ...eventRoutes, ...tokenRoutes(tokens, gatewayName)];
}

export class Gateway {
  readonly tokens: TokenStore;
  readonly feed: EventFeed;

  constructor(
    private readonly core: FleetCore,
    private readonly settings: GatewaySettings,
    /** The gateway key's name (recorded in actors), or the host when it has no key. */
    private readonly name: string,
  ) {
    this.tokens = new TokenStore(core.pool, { cacheMs: settings.tokenCacheMs });
    this.feed = new EventFeed(core.store, core.logger.child({ component: 'event-feed' }), settings.ssePollMs);
  }

  async register(app: FastifyInstance): Promise<void> {
    const bus = gatewayBus({ commands: this.core.commands, nc: this.core.nc, subjects: this.core.subjects, timeoutMs: this.settings.busTimeoutMs, gatherMs: this.settings.gatherMs });
    await registerGatewayHttp(app, {
      routes: gatewayRoutes(this.tokens, this.name),
      deps: { bus, store: this.core.store, logger: this.core.logger },
      tokens: this.tokens,
      feed: this.feed,
      registry: this.core.health.registry,
      checks: this.core.health.readinessChecks,
      logger: this.core.logger,
      version: fleetvisorVersion(),
      rateLimit: this.settings.rateLimit,
      rateWindowMs: this.settings.rateWindowMs,
      corsOrigins: this.settings.corsOrigins,
      dashboardDir: this.settings.dashboardDir,
    });
  }

  async stop(): Promise<void> {
    await this.feed.stop();
  }
}
