// Nest shell of the gateway and its one composition root: FleetCoreModule (Postgres for the tokens
// and the events routes, NATS for everything else; no relay: the gateway writes no events) with
// the gateway's key as the command signer, and the Gateway built over it. The HTTP server is
// Nest's Fastify adapter (run.command.ts).
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { FLEET_CORE, FleetCoreModule, type FleetCore } from '@fleetvisor/messaging';
import { ConfigError } from '@fleetvisor/platform';
import { requireSigner } from '@fleetvisor/trust';
import type { GatewayConfig } from './config';
import { Gateway } from './gateway';
import { MIGRATIONS } from './migrations';

export class GatewayLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(Gateway) private readonly gateway: Gateway) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.gateway.stop();
  }
}

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    // Without a key the gateway still answers queries; mutating routes then fail with 502 naming
    // FLEETVISOR_SIGNING_KEY_FILE. A key of another role is refused now: only a gateway key's
    // delegations are accepted by the services (ADR 0010).
    const signer = config.trust.signingKeyFile ? requireSigner(config.trust, 'the gateway') : undefined;
    if (signer && signer.cert.role !== 'gateway') {
      throw new ConfigError('FLEETVISOR_SIGNING_KEY_FILE', `the gateway signs with a key of role gateway (\`fleetvisor keys create --role gateway --name <gateway>\`); ${signer.cert.name}'s key has role ${signer.cert.role}`);
    }
    const name = signer?.cert.name ?? `gateway@${config.core.host}`;
    return {
      module: GatewayModule,
      imports: [
        FleetCoreModule.forRoot({
          serviceName: 'gateway',
          config: config.core,
          relay: false,
          poolSize: config.gateway.poolSize,
          schemaMigrations: MIGRATIONS,
          ...(signer ? { commandTrust: { signer } } : {}),
        }),
      ],
      providers: [{ provide: Gateway, useFactory: (core: FleetCore) => new Gateway(core, config.gateway, name), inject: [FLEET_CORE] }, GatewayLifecycle],
    };
  }
}
