// What a runner answers to ServicesList / ServicesStatus (plain functions over its view):
//   - addressed (<root>.cmd.service-runner.<host>.<verb>): always an answer; an unknown service is
//     not_found naming the ones this host has.
//   - fleet-wide (<root>.cmd.service-runner.<verb>, heard by every runner): an answer only when
//     `host` is absent or is this runner's and, for status, when it has the service; otherwise
//     undefined, and the runner stays silent (the caller gathers the answers of many).
import { CommandErrorCodes, type CommandRequestOf, type CommandResultOf, type PendingAdmission, type PendingVerification, type ServicesList, type ServicesStatus, type ServiceStatus, type ServiceSummary } from '@fleetvisor/contracts';
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
