// The stats part of `fleetvisor up`: a simulated venus chain service (libs/devnet/src/filecoin) in
// this process, a `fleetvisor meter` in front of it per chain service it plays (venus for the
// reads, venus-messager for message sending), and simulated components of three storage providers
// calling through the meters with their own tokens, at a venus-sealer's steady rates; t01002's
// sealer sends its messages in bursts (a stuck retry loop) for the steady band to catch.
// `fleetvisor stats calls --by caller` shows their curves within a minute of start.
import { freePort } from '@fleetvisor/platform';
import type { ComponentSpec } from './stack';

export interface StatsDemo {
  components: ComponentSpec[];
  /** Starts the simulated callers (after the meters were started). */
  start(): void;
  close(): Promise<void>;
}

export async function prepareStatsDemo(): Promise<StatsDemo> {
  const { startFilecoinNode, SimulatedCaller, sealerReadProfile, sealerSendProfile } = await import('@fleetvisor/devnet');
  const miners = ['t01000', 't01001', 't01002'];
  const node = await startFilecoinNode({ miners: miners.map((id, i) => ({ id, sectors: 2048 * (i + 1) })) });
  const venusPort = await freePort();
  const messagerPort = await freePort();
  const meter = (component: string, port: number): ComponentSpec => ({
    name: `meter ${component}`,
    app: 'stats-collector',
    args: ['meter', '--listen', `127.0.0.1:${port}`, '--upstream', node.url, '--component', component, '--source', `meter-${component}-up`],
  });
  const venus = `http://127.0.0.1:${venusPort}/rpc/v1`;
  const messager = `http://127.0.0.1:${messagerPort}/rpc/v1`;
  const callers: InstanceType<typeof SimulatedCaller>[] = [];
  miners.forEach((id, i) => {
    const token = node.token(`${id}-sealer`);
    callers.push(new SimulatedCaller({ token, url: venus, minerId: id, rates: sealerReadProfile(1 - i * 0.25) }));
    callers.push(
      new SimulatedCaller({
        token,
        url: messager,
        minerId: id,
        rates: sealerSendProfile(4 - i),
        // The misbehaving one: every 20 minutes, 5 minutes at 8 times its rate.
        ...(id === 't01002' ? { burst: { everyMs: 20 * 60_000, forMs: 5 * 60_000, factor: 8 } } : {}),
      }),
    );
  });
  callers.push(new SimulatedCaller({ token: node.token('t01000-wallet', 'read'), url: venus, minerId: 't01000', rates: [{ method: 'Filecoin.StateMinerInfo', perMinute: 6, params: (m) => [m, []] }] }));
  return {
    components: [meter('venus', venusPort), meter('venus-messager', messagerPort)],
    start: () => {
      for (const c of callers) c.start(1_000);
    },
    close: async () => {
      for (const c of callers) c.stop();
      await node.close();
    },
  };
}
