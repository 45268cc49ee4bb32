// Shared by the `fleetvisor worker …` commands: asking the worker-registry over the bus, and the
// damocles-style tables (`util worker list / info` of venus-sector-manager) they print.
import {
  createSubjects,
  PLAN_STATES,
  type CommandDefinition,
  type CommandRequestOf,
  type CommandResultOf,
  type ThreadInfo,
  type WorkerHistoryEntry,
  type WorkerSummary,
} from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { createLogger, parseDuration, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { cliSigner } from '@fleetvisor/trust';
import { askRemote, type Remote } from '../remote';

export const WORKER_REF_HELP = 'a worker is named by its instance name or its address (dest)';

/** A refusal from the registry (not_found, invalid_request, unavailable…): exit 1 with its message. */
export class RegistryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(code === 'unavailable' && /no worker-registry instance/.test(message) ? `${message} (is 'fleetvisor worker-registry run' running?)` : message);
    this.name = 'RegistryError';
  }
}

/** Sends one request to the worker-registry and returns its result, or throws RegistryError. */
export async function askRegistry<C extends CommandDefinition>(def: C, payload: CommandRequestOf<C>, timeoutMs = 10_000, remote?: Remote): Promise<CommandResultOf<C>> {
  return withRegistry((ask) => ask(def, payload, timeoutMs), remote);
}

export type Ask = <C extends CommandDefinition>(def: C, payload: CommandRequestOf<C>, timeoutMs?: number) => Promise<CommandResultOf<C>>;

/** One NATS connection for several requests (drain --wait); with `remote`, the gateway instead (--url). */
export async function withRegistry<T>(fn: (ask: Ask) => Promise<T>, remote?: Remote): Promise<T> {
  if (remote) {
    return fn(async (def, payload, timeoutMs = 10_000) => {
      const reply = await askRemote(remote, def, payload, timeoutMs);
      if (!reply.ok) throw new RegistryError(reply.error.code, reply.error.message);
      return reply.result as CommandResultOf<typeof def>;
    });
  }
  const config = loadCliConfig();
  const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
  const nc = await connectNats(config, logger, { name: 'fleetvisor-cli' });
  try {
    // Mutating commands are signed with the operator's key (ADR 0006); queries need none.
    const signer = cliSigner();
    const bus = new CommandBus({ nc, subjects: createSubjects(config.subjectRoot), logger, ...(signer ? { signer } : {}) });
    const ask: Ask = async (def, payload, timeoutMs = 10_000) => {
      const reply = await bus.request(def, payload, { timeoutMs });
      if (!reply.ok) throw new RegistryError(reply.error.code, reply.error.message);
      return reply.result as CommandResultOf<typeof def>;
    };
    return await fn(ask);
  } finally {
    await nc.close();
  }
}

export function parseIndex(text: string | undefined, what = '<index>'): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > 65_535) throw new UsageError(`${what} must be a thread index (0-65535), got "${text ?? ''}"`);
  return Number(text);
}

export function parseDurationOption(text: string, name: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--${name} must be a duration like 30s, 10m, got "${text}"`);
  return ms;
}

/** Columns padded to their widest cell, two spaces apart (the last column is not padded). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** 1h02m03s, 4m05s, 12s, 850ms */
export function formatElapsed(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1_000);
  const h = Math.floor(s / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** 2026-01-02 15:04:05 (UTC), as damocles prints LastPing. */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

/**
 * `worker list`: an unreachable worker (its agent reports, its admin API does not answer) is marked
 * UNREACHABLE beside its name, with the error below the table: its counts are the last recorded.
 */
export function formatWorkerList(workers: readonly WorkerSummary[], nowMs: number, expirationMs: number): string {
  if (workers.length === 0) return 'no workers are registered\n';
  const out = table(
    ['Name', 'Dest', 'Version', 'Threads', 'Empty', 'Paused', 'Running', 'Waiting', 'Errors', 'LastPing'],
    workers.map((w) => {
      const stale = w.expired || nowMs - Date.parse(w.lastPing) > expirationMs;
      const ping = `${formatTime(w.lastPing)} (${formatElapsed(Math.max(0, nowMs - Date.parse(w.lastPing)))} ago)${stale ? ' !' : ''}`;
      const name = w.name + (w.unreachable !== undefined ? ' UNREACHABLE' : '') + (w.draining ? ' (draining)' : '');
      return [name, w.dest, w.version, String(w.threads), String(w.empty), String(w.paused), String(w.running), String(w.waiting), String(w.errors), ping];
    }),
  );
  const unreachable = workers.filter((w) => w.unreachable !== undefined);
  if (unreachable.length === 0) return out;
  return out + '\n' + unreachable.map((w) => `${w.name} UNREACHABLE: the agent reports, the worker does not answer it: ${w.unreachable}\n`).join('');
}

export function formatWorkerInfo(worker: WorkerSummary, threads: readonly ThreadInfo[]): string {
  const head =
    `${worker.name}  ${worker.dest}  version ${worker.version}  ${worker.threads} threads${worker.draining ? '  (draining)' : ''}${worker.expired ? '  (expired: silent since ' + formatTime(worker.lastPing) + ')' : ''}\n` +
    (worker.unreachable !== undefined ? `UNREACHABLE: the agent reports, the worker does not answer it: ${worker.unreachable}\n` : '');
  if (threads.length === 0) return head + 'no threads\n';
  return (
    head +
    table(
      ['Index', 'Loc', 'SectorID', 'Plan', 'Paused', 'PausedElapsed', 'State', 'Stage', 'LastErr'],
      threads.map((t) => [
        String(t.index),
        t.location ?? '-',
        t.sectorId ?? '-',
        t.plan,
        t.threadState === 'paused' ? 'true' : 'false',
        t.threadState === 'paused' ? formatElapsed(t.elapsedMs) : '-',
        t.threadState === 'paused' || t.threadState === 'idle' ? t.state : `${t.state} (${t.threadState})`,
        t.stage ?? '-',
        t.lastError ?? '-',
      ]),
    )
  );
}

export function formatHistory(entries: readonly WorkerHistoryEntry[], withWorker: boolean): string {
  if (entries.length === 0) return 'no history\n';
  return table(
    [...(withWorker ? ['Worker'] : []), 'Time', 'Index', 'Event', 'Change', 'SectorID', 'Detail', 'Actor'],
    entries.map((e) => {
      let change = '-';
      if (e.type === 'ThreadStateChanged') change = `${e.prev} -> ${e.next}`;
      else if (e.type === 'ThreadResumed') change = e.next ? `resumed in ${e.next}` : 'resumed';
      else if (e.type === 'ThreadPaused') change = 'paused';
      const detail = [e.event, e.failure ? `${e.failure.level}: ${e.failure.desc}` : undefined, e.reason].filter((x) => x !== undefined).join('; ');
      return [
        ...(withWorker ? [e.worker] : []),
        formatTime(e.at),
        e.index === undefined ? '-' : String(e.index),
        e.type,
        change,
        e.sectorId ?? '-',
        detail || '-',
        e.actor ?? '-',
      ];
    }),
  );
}

/** For `resume --help`: the states of each plan. */
export function planStatesHelp(): string {
  return Object.entries(PLAN_STATES)
    .map(([plan, states]) => `  ${plan}: ${states.join(', ')}`)
    .join('\n');
}
