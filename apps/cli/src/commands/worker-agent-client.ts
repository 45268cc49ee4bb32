// Shared by `fleetvisor worker-agent list|pause|resume|drain`: talk to one worker-agent over NATS
// (fleet.cmd.worker-agent.<name>.<verb>) and print like `damocles-worker worker list`.
import { hostname } from 'node:os';
import { createSubjects, type CommandDefinition, type CommandReply, type CommandRequestOf, type CommandResultOf, type ThreadInfo } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { createLogger } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { cliSigner } from '@fleetvisor/trust';

export const NAME_OPTION = {
  type: 'string',
  description: 'worker-agent to address (its FLEETVISOR_WORKER_NAME)',
  placeholder: 'name',
} as const;

export const JSON_OPTION = { type: 'boolean', description: 'print the reply as JSON' } as const;

export function agentName(option: string | undefined): string {
  return option ?? hostname();
}

/** Sends one command to the agent named `name`; throws with the agent's error message on failure. */
export async function askAgent<C extends CommandDefinition>(def: C, name: string, payload: CommandRequestOf<C>): Promise<CommandResultOf<C>> {
  const config = loadCliConfig();
  const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
  const nc = await connectNats(config, logger, { name: 'fleetvisor-cli' });
  try {
    const signer = def.role === undefined ? undefined : cliSigner();
    const bus = new CommandBus({ nc, subjects: createSubjects(config.subjectRoot), logger, ...(signer ? { signer } : {}) });
    const reply: CommandReply<CommandResultOf<C>> = await bus.request(def, payload, { instance: name, timeoutMs: 5_000 });
    if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
    return reply.result as CommandResultOf<C>;
  } finally {
    await nc.close();
  }
}

/** 65000 ms -> "1m 5s", like damocles' humantime. */
export function formatElapsed(ms: number | undefined): string {
  if (ms === undefined) return '';
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join(' ');
}

const RUN_LABEL: Record<ThreadInfo['threadState'], string> = { idle: 'Idle', paused: 'Paused', running: 'Running', waiting: 'Waiting', unknown: 'Unknown' };

/** Columns like `damocles-worker worker list`: #, location, Plan, SectorID, State, Stage, ThreadState, LastErr. */
export function threadTable(threads: readonly ThreadInfo[]): string {
  const rows = [
    ['#', 'Loc', 'Plan', 'SectorID', 'State', 'Stage', 'ThreadState', 'LastErr'],
    ...threads.map((t) => [
      String(t.index),
      t.location ?? '-',
      t.plan,
      t.sectorId ?? '-',
      t.state,
      t.stage ?? '-',
      t.threadState === 'idle' ? 'Idle' : `${RUN_LABEL[t.threadState]}(${formatElapsed(t.elapsedMs)})`,
      t.lastError ?? '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
