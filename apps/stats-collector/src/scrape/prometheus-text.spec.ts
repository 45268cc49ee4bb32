import { describe, expect, it } from 'vitest';
import { ExpositionParseError, parseExposition } from './prometheus-text';

// Verbatim shapes of real endpoints: Go client_golang (lavap is a Go program using it) with HELP/TYPE,
// a histogram with +Inf and a labelled series, exponents, and node_exporter's escaped label values.
const GO_CLIENT = `# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.4467e-05
go_gc_duration_seconds{quantile="0.25"} 4.0133e-05
go_gc_duration_seconds{quantile="1"} 0.000773437
go_gc_duration_seconds_sum 0.010393154
go_gc_duration_seconds_count 147
# HELP lava_provider_total_relays_serviced The total number of relays serviced by the provider over time.
# TYPE lava_provider_total_relays_serviced counter
lava_provider_total_relays_serviced{apiInterface="jsonrpc",spec="ETH1"} 1.2345e+06
lava_provider_total_relays_serviced{apiInterface="rest",spec="LAV1"} 42
# HELP lava_provider_total_errored The total number of errors encountered by the provider over time.
# TYPE lava_provider_total_errored counter
lava_provider_total_errored{apiInterface="jsonrpc",spec="ETH1"} 17
# HELP http_request_duration_seconds A histogram of latencies.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/rpc",le="0.005"} 24054
http_request_duration_seconds_bucket{handler="/rpc",le="0.01"} 33444
http_request_duration_seconds_bucket{handler="/rpc",le="+Inf"} 144320
http_request_duration_seconds_sum{handler="/rpc"} 53423
http_request_duration_seconds_count{handler="/rpc"} 144320
process_start_time_seconds 1.70177574221e+09
`;

const NODE_EXPORTER = `# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 4.2037579776e+10
node_textfile_mtime_seconds{file="a \\"quoted\\" path\\\\with\\nnewline"} 1.5e9 1701775742210
# HELP weird_help Back\\\\slash and\\nnewline
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
something_weird{problem="division by zero"} +Inf -3982045
nan_value NaN
trailing_comma{a="1",} 1
spaced { a = "x" , b="y" }   2
`;

describe('parseExposition', () => {
  it('reads a Go client endpoint: types, help, counters with labels, histogram buckets, exponents', () => {
    const e = parseExposition(GO_CLIENT);
    expect(e.types.get('lava_provider_total_relays_serviced')).toBe('counter');
    expect(e.types.get('http_request_duration_seconds')).toBe('histogram');
    expect(e.help.get('lava_provider_total_errored')).toBe('The total number of errors encountered by the provider over time.');
    const relays = e.samples.filter((s) => s.name === 'lava_provider_total_relays_serviced');
    expect(relays).toEqual([
      { name: 'lava_provider_total_relays_serviced', labels: { apiInterface: 'jsonrpc', spec: 'ETH1' }, value: 1_234_500 },
      { name: 'lava_provider_total_relays_serviced', labels: { apiInterface: 'rest', spec: 'LAV1' }, value: 42 },
    ]);
    const inf = e.samples.find((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.le === '+Inf')!;
    expect(inf).toEqual({ name: 'http_request_duration_seconds_bucket', labels: { handler: '/rpc', le: '+Inf' }, value: 144_320 });
    expect(e.samples.find((s) => s.name === 'process_start_time_seconds')!.value).toBe(1_701_775_742.21);
    expect(e.samples).toHaveLength(14);
  });

  it('unescapes label values and HELP, reads timestamps, NaN, +Inf, trailing commas and spacing', () => {
    const e = parseExposition(NODE_EXPORTER);
    expect(e.samples.find((s) => s.name === 'node_textfile_mtime_seconds')).toEqual({ name: 'node_textfile_mtime_seconds', labels: { file: 'a "quoted" path\\with\nnewline' }, value: 1.5e9, timestampMs: 1_701_775_742_210 });
    expect(e.help.get('weird_help')).toBe('Back\\slash and\nnewline');
    expect(e.samples.find((s) => s.name === 'msdos_file_access_time_seconds')!.labels).toEqual({ path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
    expect(e.samples.find((s) => s.name === 'something_weird')).toMatchObject({ value: Infinity, timestampMs: -3_982_045 });
    expect(Number.isNaN(e.samples.find((s) => s.name === 'nan_value')!.value)).toBe(true);
    expect(e.samples.find((s) => s.name === 'trailing_comma')!.labels).toEqual({ a: '1' });
    expect(e.samples.find((s) => s.name === 'spaced')).toEqual({ name: 'spaced', labels: { a: 'x', b: 'y' }, value: 2 });
  });

  it('refuses malformed lines, naming the line', () => {
    const bad: [string, RegExp][] = [
      ['ok 1\n9bad 1', /^line 2: a metric name cannot start with "9"/],
      ['m{a="1" 1', /expected "," or "}" after label a/],
      ['m{a="x} 1', /unterminated value of label a/],
      ['m{a="\\t"} 1', /invalid escape "\\t"/],
      ['m{a=1} 1', /expected a quoted value for label a/],
      ['m{a="1",a="2"} 1', /label a appears twice/],
      ['m one', /"one" is not a number/],
      ['m 1 2 3', /expected "<value> \[timestamp\]"/],
      ['m 1 1.5', /timestamp "1.5"/],
      ['m', /expected "<value>/],
      ['# TYPE m countr', /unknown type "countr"/],
    ];
    for (const [text, re] of bad) {
      expect(() => parseExposition(text), text).toThrow(ExpositionParseError);
      expect(() => parseExposition(text), text).toThrow(re);
    }
  });
});
