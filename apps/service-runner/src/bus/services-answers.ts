// What a runner answers to ServicesList / ServicesStatus (plain functions over its view):
//   - addressed (<root>.cmd.service-runner.<host>.<verb>): always an answer; an unknown service is
//     not_found naming the ones this host has.
//   - fleet-wide (<root>.cmd.service-runner.<verb>, heard by every runner): an answer only when
//     `host` is absent or is this runner's and, for status, when it has the service; otherwise
//     undefined, and the runner stays silent (the caller gathers the answers of many).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { CommandErrorCodes, type CommandRequestOf, type CommandResultOf, type PendingAdmission, type PendingVerification, type ServiceAction, type ServiceControl, type ServiceLogs, type ServicesList, type ServicesStatus, type ServiceStatus, type ServiceSummary } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging/core';

export interface ServicesView {
  host: string;
  list(chainId?: string): ServiceSummary[];
  status(service: string): ServiceStatus | undefined;
  /** A chain event held until the runner's own node confirms it (ADR 0006). */
  pendingVerification?(): PendingVerification | undefined;
  /** An upgrade held until the fleet-wide rollout admits the host (ADR 0009). */
  pendingAdmission?(): PendingAdmission | undefined;
}

type ListRequest = CommandRequestOf<typeof ServicesList>;
type StatusRequest = CommandRequestOf<typeof ServicesStatus>;

export function answerList(view: ServicesView, req: ListRequest): CommandResultOf<typeof ServicesList> {
  const pending = view.pendingVerification?.();
  const admission = view.pendingAdmission?.();
  return { host: view.host, services: view.list(req.chainId), ...(pending ? { pendingVerification: pending } : {}), ...(admission ? { pendingAdmission: admission } : {}) };
}

export function answerStatus(view: ServicesView, req: StatusRequest): CommandResultOf<typeof ServicesStatus> {
  const status = view.status(req.service);
  if (!status) {
    const has = view.list().map((s) => s.service).join(', ') || '(none)';
    throw new CommandFailure(CommandErrorCodes.notFound, `no service ${req.service} on ${view.host}; it has: ${has}`);
  }
  return { host: view.host, status };
}

export function answerFleetList(view: ServicesView, req: ListRequest): CommandResultOf<typeof ServicesList> | undefined {
  if (req.host && req.host !== view.host) return undefined;
  return answerList(view, req);
}

export function answerFleetStatus(view: ServicesView, req: StatusRequest): CommandResultOf<typeof ServicesStatus> | undefined {
  if (req.host && req.host !== view.host) return undefined;
  const status = view.status(req.service);
  return status ? { host: view.host, status } : undefined;
}

/** What ServiceControl / ServiceLogs need of a runner (Runner satisfies it). */
export interface ServiceControlView extends ServicesView {
  controlService(service: string, action: ServiceAction, actor: string): Promise<ServiceStatus | undefined>;
  logFileOf(service: string): string | undefined;
}

function notHere(view: ServicesView, service: string): CommandFailure {
  const has = view.list().map((s) => s.service).join(', ') || '(none)';
  return new CommandFailure(CommandErrorCodes.notFound, `no service ${service} on ${view.host}; it has: ${has}`);
}

/** `ServiceControl`, addressed to this host: start, stop (recorded with the actor) or restart. */
export async function answerControl(view: ServiceControlView, req: CommandRequestOf<typeof ServiceControl>, actor: string): Promise<CommandResultOf<typeof ServiceControl>> {
  const status = await view.controlService(req.service, req.action, actor);
  if (!status) throw notHere(view, req.service);
  return { host: view.host, status };
}

/** The last `n` lines of a file, reading at most its last `maxBytes` (a log can be large). */
export function lastLines(file: string, n: number, maxBytes = 1024 * 1024): string[] {
  const size = statSync(file).size;
  const start = Math.max(0, size - maxBytes);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    // A read that began mid-file starts mid-line: drop that partial first line.
    if (start > 0) lines.shift();
    return lines.slice(-n).map((l) => (l.length > 4096 ? l.slice(0, 4096) : l));
  } finally {
    closeSync(fd);
  }
}

/** `ServiceLogs`, addressed to this host: the tail of the service's log file. */
export function answerLogs(view: ServiceControlView, req: CommandRequestOf<typeof ServiceLogs>): CommandResultOf<typeof ServiceLogs> {
  const file = view.logFileOf(req.service);
  if (!file) throw notHere(view, req.service);
  const lines = existsSync(file) ? lastLines(file, req.lines ?? 100) : [];
  return { host: view.host, service: req.service, lines };
}
