// From scraped samples to call counts: which metrics are calls, errors and latency, and the
// deltas between two scrapes of one target (counters only grow; a smaller value is a restart, and
// then the new value is the delta). Recognised metric families:
//   fleetvisor_api_calls_total / fleetvisor_api_errors_total / fleetvisor_api_call_duration_seconds
//     {caller, component, method}: the convention for any instrumented service;
//   lava_provider_total_relays_serviced[_per_function] / lava_provider_total_errored
//     {spec, apiInterface[, function]}: calls a lavap provider served (component = the target,
//     caller = the `consumer` label where the provider has one, else "unknown");
//   lava_consumer_total_relays_serviced / lava_consumer_total_errored {spec, apiInterface}:
//     calls a lavap consumer made (caller = the target, component = the chain spec).
// lavap counts errored relays in total_relays_serviced too, as calls = all relays.
import type { ApiCallRecord } from '@fleetvisor/contracts';
import { COMPONENT_NAME_PATTERN } from '@fleetvisor/contracts';
import { latencyBucket, LATENCY_BUCKET_COUNT } from '../domain/latency';
import { sanitizeCaller } from '../meter/caller';
import type { Exposition, Sample } from './prometheus-text';

type Role = 'calls' | 'errors' | 'latency';

interface Key {
  caller: string;
  component: string;
  method: string;
}

const COMPONENT_RE = new RegExp(COMPONENT_NAME_PATTERN);
const METHOD_RE = /^[A-Za-z][A-Za-z0-9_.:/-]{0,199}$/;

function component(v: string): string {
  if (COMPONENT_RE.test(v)) return v;
  const s = v.replace(/[^A-Za-z0-9._:@-]/g, '_').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100);
  return s.length > 0 ? s : 'unknown';
}

function method(v: string | undefined): string {
  if (v === undefined || v.length === 0) return 'all';
  return METHOD_RE.test(v) ? v : 'invalid-method';
}

/** What a sample counts, for whom; undefined for samples that are not API calls. */
export function classify(s: Sample, target: string, perFunction: boolean): { role: Role; key: Key; leMs?: number } | undefined {
  const l = s.labels;
  const fv = (role: Role) => ({ role, key: { caller: sanitizeCaller(l.caller ?? 'unknown'), component: component(l.component ?? target), method: method(l.method) } });
  switch (s.name) {
    case 'fleetvisor_api_calls_total':
      return fv('calls');
    case 'fleetvisor_api_errors_total':
      return fv('errors');
    case 'fleetvisor_api_call_duration_seconds_bucket': {
      const le = l.le === '+Inf' ? Infinity : Number(l.le) * 1000;
      return Number.isNaN(le) ? undefined : { ...fv('latency'), leMs: le };
    }
  }
  const lava = /^lava_(provider|consumer)_(total_relays_serviced_per_function|total_relays_serviced|total_errored)$/.exec(s.name);
  if (!lava) return undefined;
  const [, side, what] = lava;
  // A provider that exposes per-function counts also exposes the sum: count one of them.
  if (what === 'total_relays_serviced' && perFunction) return undefined;
  const m = method(l.function ?? l.apiInterface);
  const key: Key = side === 'provider' ? { caller: sanitizeCaller(l.consumer ?? 'unknown'), component: component(target), method: m } : { caller: sanitizeCaller(target), component: component(l.spec ?? 'unknown'), method: m };
  return { role: what === 'total_errored' ? 'errors' : 'calls', key };
}

const seriesId = (s: Sample) => `${s.name}{${Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

interface Acc {
  key: Key;
  calls: number;
  errors: number;
  /** Cumulative latency deltas by upper bound (ms). */
  le: Map<number, number>;
}

/** The counter values of one target between scrapes. */
export class ScrapeCounts {
  private previous: Map<string, number> | undefined;

  /**
   * The calls since the previous scrape, as records (empty on the first scrape, which only sets
   * the baseline). A series that appears after the first scrape counts from zero.
   */
  delta(e: Exposition, target: string): ApiCallRecord[] {
    const perFunction = e.samples.some((s) => s.name === 'lava_provider_total_relays_serviced_per_function');
    const current = new Map<string, number>();
    const acc = new Map<string, Acc>();
    const first = this.previous === undefined;
    for (const s of e.samples) {
      const c = classify(s, target, perFunction);
      if (!c || !Number.isFinite(s.value) || s.value < 0) continue;
      const id = seriesId(s);
      current.set(id, s.value);
      if (first) continue;
      const prev = this.previous!.get(id) ?? 0;
      const d = s.value >= prev ? s.value - prev : s.value;
      if (d === 0) continue;
      const k = `${c.key.caller}\u0000${c.key.component}\u0000${c.key.method}`;
      let a = acc.get(k);
      if (!a) {
        a = { key: c.key, calls: 0, errors: 0, le: new Map() };
        acc.set(k, a);
      }
      if (c.role === 'calls') a.calls += d;
      else if (c.role === 'errors') a.errors += d;
      else a.le.set(c.leMs!, (a.le.get(c.leMs!) ?? 0) + d);
    }
    this.previous = current;
    const out: ApiCallRecord[] = [];
    for (const a of acc.values()) {
      const calls = Math.round(a.calls);
      if (calls === 0) continue;
      const r: ApiCallRecord = { ...a.key, calls, errors: Math.min(Math.round(a.errors), calls) };
      const latency = histogram(a.le);
      if (latency && latency.reduce((x, y) => x + y, 0) <= calls) r.latency = latency;
      out.push(r);
    }
    return out;
  }
}

/** Cumulative counts by upper bound -> calls per bucket of the fixed histogram (by each bound's bucket). */
function histogram(le: Map<number, number>): number[] | undefined {
  if (le.size === 0) return undefined;
  const out = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  let below = 0;
  for (const bound of [...le.keys()].sort((a, b) => a - b)) {
    const cum = le.get(bound)!;
    const n = Math.max(0, Math.round(cum - below));
    below = Math.max(below, cum);
    out[bound === Infinity ? LATENCY_BUCKET_COUNT - 1 : latencyBucket(bound)]! += n;
  }
  return out;
}
