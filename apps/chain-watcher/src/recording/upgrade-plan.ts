// x/upgrade plans (`/cosmos.upgrade.v1beta1.Query/CurrentPlan`), Cosmovisor's trigger: decoded with
// cosmjs-types, checked against the UpgradePlanned contract, binaries taken from the plan's info
// the way Cosmovisor reads them (`{"binaries":{"linux/amd64":"<url>?checksum=sha256:…"}}`).
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { fleetEvents, newEventFor, UpgradePlanned, type EventData } from '@fleetvisor/contracts';

export const CURRENT_PLAN_PATH = '/cosmos.upgrade.v1beta1.Query/CurrentPlan';

export interface RawPlan {
  name: string;
  height: bigint;
  info: string;
}

export class PlanDecodeError extends Error {
  override name = 'PlanDecodeError';
}

/** The plan in a QueryCurrentPlanResponse, or undefined when no upgrade is planned. */
export function decodeCurrentPlan(bytes: Uint8Array): RawPlan | undefined {
  let res: QueryCurrentPlanResponse;
  try {
    res = QueryCurrentPlanResponse.decode(bytes);
  } catch (e) {
    throw new PlanDecodeError(`not a QueryCurrentPlanResponse: ${(e as Error).message}`);
  }
  if (!res.plan) return undefined;
  return { name: res.plan.name, height: res.plan.height, info: res.plan.info };
}

/** `binaries` from plan info JSON; undefined when the info is not such JSON (a URL, free text). */
function binariesOf(info: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(info);
  } catch {
    return undefined;
  }
  const bins = (parsed as { binaries?: unknown } | null)?.binaries;
  if (typeof bins !== 'object' || bins === null || Array.isArray(bins)) return undefined;
  const out: Record<string, string> = {};
  for (const [platform, url] of Object.entries(bins)) if (typeof url === 'string') out[platform] = url;
  return Object.keys(out).length > 0 ? out : undefined;
}

export type PlanCheck = { ok: true; data: EventData<typeof UpgradePlanned> } | { ok: false; reason: string };

/** The UpgradePlanned data for a plan, validated against the contract, or why it cannot be one. */
export function checkPlan(chainId: string, plan: RawPlan): PlanCheck {
  if (plan.height <= 0n || plan.height > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: `plan height ${plan.height} is out of range` };
  const binaries = binariesOf(plan.info);
  const data: EventData<typeof UpgradePlanned> = { chainId, name: plan.name, height: Number(plan.height), info: plan.info, ...(binaries ? { binaries } : {}) };
  const parsed = fleetEvents.parse(newEventFor(UpgradePlanned, data));
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  return { ok: true, data };
}

/** Identity of a plan for "emit once per distinct plan". */
export function planKey(p: { name: string; height: number | bigint; info: string }): string {
  return `${p.name}@${String(p.height)}:${p.info}`;
}
