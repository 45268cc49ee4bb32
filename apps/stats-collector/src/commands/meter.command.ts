// `fleetvisor meter`: the metering proxy in front of one chain service (venus node, venus-messager,
// venus-gateway, a lavap provider). Forwards JSON-RPC over HTTP and WebSocket unchanged, counts each
// call by caller and method, and pushes the counts to the stats-collector on
// fleet.cmd.stats-collector.push.<source> once per flush window. It forwards from the first
// second: NATS is connected in the background, and while the collector cannot be reached the counts
// wait (bounded) and go later.
import { hostname } from 'node:os';
import { createSubjects, StatsPush, COMPONENT_NAME_PATTERN } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { createLogger, defineCliCommand, readCoreConfig, UsageError, type CliCommand } from '@fleetvisor/platform';
import type { NatsConnection } from 'nats';
import type { CallerSource } from '../meter/caller';
import { MeterCounter } from '../meter/meter-counter';
import { MeterProxy } from '../meter/meter-proxy';
import { MeterPublisher } from '../meter/meter-publisher';

const NAME_RE = new RegExp(COMPONENT_NAME_PATTERN);

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65_535) throw new UsageError(`--listen must be HOST:PORT or PORT, got "${text}"`);
  return { host: m[1] && m[1].length > 0 ? m[1] : '127.0.0.1', port };
}

export const meterCommand = defineCliCommand({
  path: ['meter'],
  summary: 'Metering proxy for JSON-RPC over HTTP/WebSocket: forwards calls unchanged, counts them per caller and method',
  description: [
    'Listens on --listen and forwards every request and WebSocket message to --upstream byte for byte.',
    'Counts calls per caller (the --caller-claim of the bearer JWT, default "name" as venus-auth tokens carry it,',
    'or --caller-header), method and outcome (ok, JSON-RPC error, no answer) with a latency histogram, and pushes',
    'the counts to the stats-collector once per --window (NATS settings: the core FLEETVISOR_* variables).',
  ].join('\n'),
  options: {
    listen: { type: 'string', description: 'where to listen, HOST:PORT (default 127.0.0.1:3454)', placeholder: 'host:port' },
    upstream: { type: 'string', description: 'the service to forward to, e.g. http://127.0.0.1:3453/rpc/v1', placeholder: 'url' },
    component: { type: 'string', description: 'the service being metered, e.g. venus, venus-messager, venus-gateway', placeholder: 'name' },
    source: { type: 'string', description: 'this proxy\'s name on the push subject (default meter-<component>-<host>)', placeholder: 'name' },
    'caller-claim': { type: 'string', description: 'JWT claim naming the caller (default name)', placeholder: 'claim' },
    'caller-header': { type: 'string', description: 'take the caller from this header instead of the token', placeholder: 'header' },
    window: { type: 'string', description: 'flush window in seconds, a divisor of 60 (default 10)', placeholder: 's' },
  },
  examples: ['fleetvisor meter --listen 127.0.0.1:3454 --upstream http://127.0.0.1:3453/rpc/v1 --component venus'],
  async run({ options, io }) {
    if (!options.upstream) throw new UsageError('--upstream is required');
    if (!options.component) throw new UsageError('--component is required');
    let upstream: URL;
    try {
      upstream = new URL(options.upstream);
    } catch {
      throw new UsageError(`--upstream must be a URL, got "${options.upstream}"`);
    }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(upstream.protocol)) throw new UsageError('--upstream must be http(s):// or ws(s)://');
    if (!NAME_RE.test(options.component)) throw new UsageError(`--component "${options.component}" may hold letters, digits and . _ : @ - only`);
    const source = options.source ?? `meter-${options.component}-${hostname()}`.slice(0, 100).replace(/[^A-Za-z0-9._:@-]/g, '-');
    if (!NAME_RE.test(source)) throw new UsageError(`--source "${source}" may hold letters, digits and . _ : @ - only`);
    const windowSeconds = options.window === undefined ? 10 : Number(options.window);
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || 60 % windowSeconds !== 0) throw new UsageError('--window must be a divisor of 60 (seconds)');
    const listen = parseListen(options.listen ?? '127.0.0.1:3454');
    const caller: CallerSource = options['caller-header'] ? { kind: 'header', header: options['caller-header'] } : { kind: 'claim', claim: options['caller-claim'] ?? 'name' };

    const config = readCoreConfig();
    const logger = createLogger({ name: 'fleetvisor-meter', level: config.logLevel, format: config.logFormat, stream: 'stderr' });
    const counter = new MeterCounter({ source, component: options.component, windowSeconds });
    const proxy = new MeterProxy({ upstream, caller, counter, logger });
    const at = await proxy.listen(listen.host, listen.port);
    io.err(`meter: ${options.component} at ${at.host}:${at.port} -> ${upstream.origin}${upstream.pathname} (source ${source}, window ${windowSeconds} s)\n`);

    let nc: NatsConnection | undefined;
    let bus: CommandBus | undefined;
    let stopping = false;
    const subjects = createSubjects(config.subjectRoot);
    // NATS in the background: calls are forwarded whether or not it is there.
    const connecting = connectNats(config, logger, { name: `fleetvisor-meter-${source}`, waitOnFirstConnect: true, cancelled: () => stopping })
      .then((c) => {
        nc = c;
        bus = new CommandBus({ nc: c, subjects, logger });
      })
      .catch((e: unknown) => logger.error({ err: e }, 'NATS connection failed; counts are kept (bounded) but not sent'));
    const publisher = new MeterPublisher(
      counter,
      async (b) => (bus ? bus.request(StatsPush, b, { scope: source, timeoutMs: 5_000 }) : { ok: false, error: { code: 'unavailable', message: 'NATS not connected yet' } }),
      logger,
      { tickMs: 1_000 },
    );
    publisher.start();
    const why = await io.interrupted;
    stopping = true;
    io.err(`meter: ${why}, stopping\n`);
    await proxy.close();
    // What was counted up to now goes out if it can (the last, unfinished window with it).
    counter.close(Date.now() + windowSeconds * 1000);
    await publisher.tick();
    await publisher.stop();
    await connecting;
    await nc?.close();
    return 0;
  },
}) as unknown as CliCommand;
