import { describe, expect, it } from 'vitest';
import { parseExposition } from './prometheus-text';
import { ScrapeCounts } from './scrape-counts';

const provider = (relays: number, errored: number, fn?: string) => `# TYPE lava_provider_total_relays_serviced counter
lava_provider_total_relays_serviced{apiInterface="jsonrpc",spec="ETH1"} ${relays}
${fn ?? ''}
# TYPE lava_provider_total_errored counter
lava_provider_total_errored{apiInterface="jsonrpc",spec="ETH1"} ${errored}
go_goroutines 42
`;

describe('ScrapeCounts', () => {
  it('first scrape sets the baseline; later ones count the growth (lavap provider: calls it served)', () => {
    const c = new ScrapeCounts();
    expect(c.delta(parseExposition(provider(1000, 10)), 'provider-1')).toEqual([]);
    expect(c.delta(parseExposition(provider(1250, 12)), 'provider-1')).toEqual([{ caller: 'unknown', component: 'provider-1', method: 'jsonrpc', calls: 250, errors: 2 }]);
    expect(c.delta(parseExposition(provider(1250, 12)), 'provider-1')).toEqual([]);
  });

  it('a counter that went down restarted: its value is the delta', () => {
    const c = new ScrapeCounts();
    c.delta(parseExposition(provider(1000, 10)), 'p');
    expect(c.delta(parseExposition(provider(30, 1)), 'p')).toEqual([{ caller: 'unknown', component: 'p', method: 'jsonrpc', calls: 30, errors: 1 }]);
  });

  it('per-function counts replace the sum when the provider has them', () => {
    const c = new ScrapeCounts();
    const fn = (a: number, b: number) =>
      provider(a + b, 0, `lava_provider_total_relays_serviced_per_function{apiInterface="jsonrpc",spec="ETH1",function="eth_call"} ${a}\nlava_provider_total_relays_serviced_per_function{apiInterface="jsonrpc",spec="ETH1",function="eth_blockNumber"} ${b}`);
    c.delta(parseExposition(fn(10, 10)), 'p');
    expect(c.delta(parseExposition(fn(15, 30)), 'p').map((r) => [r.method, r.calls])).toEqual([
      ['eth_call', 5],
      ['eth_blockNumber', 20],
    ]);
  });

  it('a lavap consumer: caller is the target, component the chain spec', () => {
    const c = new ScrapeCounts();
    const text = (n: number) => `lava_consumer_total_relays_serviced{apiInterface="rest",spec="LAV1"} ${n}\nlava_consumer_total_errored{apiInterface="rest",spec="LAV1"} 0`;
    c.delta(parseExposition(text(5)), 'consumer-a');
    expect(c.delta(parseExposition(text(9)), 'consumer-a')).toEqual([{ caller: 'consumer-a', component: 'LAV1', method: 'rest', calls: 4, errors: 0 }]);
  });

  it('the fleetvisor convention, with its latency histogram put into the fixed buckets', () => {
    const c = new ScrapeCounts();
    const text = (calls: number, b5: number, b100: number, inf: number) => `# TYPE fleetvisor_api_calls_total counter
fleetvisor_api_calls_total{caller="t01000-sealer",component="venus",method="Filecoin.ChainHead"} ${calls}
fleetvisor_api_errors_total{caller="t01000-sealer",component="venus",method="Filecoin.ChainHead"} ${calls > 0 ? 1 : 0}
# TYPE fleetvisor_api_call_duration_seconds histogram
fleetvisor_api_call_duration_seconds_bucket{caller="t01000-sealer",component="venus",method="Filecoin.ChainHead",le="0.005"} ${b5}
fleetvisor_api_call_duration_seconds_bucket{caller="t01000-sealer",component="venus",method="Filecoin.ChainHead",le="0.1"} ${b100}
fleetvisor_api_call_duration_seconds_bucket{caller="t01000-sealer",component="venus",method="Filecoin.ChainHead",le="+Inf"} ${inf}
`;
    c.delta(parseExposition(text(0, 0, 0, 0)), 'svc');
    const [r] = c.delta(parseExposition(text(10, 6, 9, 10)), 'svc');
    expect(r).toMatchObject({ caller: 't01000-sealer', component: 'venus', method: 'Filecoin.ChainHead', calls: 10, errors: 1 });
    // 6 calls <= 5 ms (bucket 2), 3 more <= 100 ms (bucket 6), 1 above (+Inf).
    expect(r!.latency).toEqual([0, 0, 6, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1]);
  });
});
